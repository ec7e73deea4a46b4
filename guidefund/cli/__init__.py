"""The `guidefund` command: one module per command in this package, each with `register(add)`.

Exit codes: 0 done; 1 done, but something needs attention (rejected files or new alerts for
`nightly`, missing or rejected submissions for `status`, findings for `audit`, a file that would be
rejected for `check`); `demo` exits 0 whenever it ran;
2 could not run (bad arguments, unreadable reference data or configuration, warehouse unreachable,
the run stopped by SIGTERM/SIGINT, or for `check` a file that is not a workbook at all).

Whatever fails, the console gets one line, never a traceback (GUIDEFUND_DEBUG=1 shows it); the
traceback and the libraries' logs are in <workdir>/logs/guidefund.log (see `console`).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
import traceback
from collections.abc import Callable, Sequence

from guidefund.cli import console
from guidefund.cli.common import EXIT_FAILED, chinese_headings, settings_from
from guidefund.faults import Fault, explain, one_line
from guidefund.settings import Settings

# The commands, in the order `guidefund --help` lists them. Each module has `register(add)`,
# where `add(name, help, func)` returns the subcommand's parser (with --workdir already on it).
COMMANDS = (
    "template",
    "samples",
    "check",
    "nightly",
    "status",
    "alerts",
    "digest",
    "monitor",
    "custody",
    "year_end",
    "audit",
    "reference",
    "db",
    "serve",
    "links",
    "portal",
    "demo",
)


HELP_EPILOG = """每个命令的用法、示例和退出码：guidefund 命令 --help

退出码：
  0  完成
  1  完成，但有需要处理的事项（退回的文件、未提交的项目、核对出的问题）
  2  无法运行（一行说明原因）"""


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The `guidefund` parser; with `only`, just that command's (so running one command imports
    one command module: `guidefund check` must not pay for the warehouse, openpyxl and the
    reports every other command imports)."""
    parser = argparse.ArgumentParser(
        prog="guidefund",
        description="中央引导地方科技发展资金：填报模板、汇总入库、校验和年度自评。",
        epilog=HELP_EPILOG,
    )
    chinese_headings(parser)
    sub = parser.add_subparsers(dest="command", required=True, metavar="命令")

    def add(name: str, helptext: str, func: Callable[[argparse.Namespace], int]):  # type: ignore[no-untyped-def]
        p = sub.add_parser(name, help=helptext, description=helptext)
        p.set_defaults(func=func)
        p.add_argument(
            "--workdir", metavar="目录",
            help="工作目录（默认：GUIDEFUND_WORKDIR，未设置时为 ./guidefund-work）",
        )  # fmt: skip
        return p

    for name in COMMANDS:
        if only is None or name == only:
            importlib.import_module(f"guidefund.cli.{name}").register(add)
    return parser


def _command(argv: Sequence[str]) -> str | None:
    """The command module `argv` names first, if any (options before it mean: parse it all)."""
    first = argv[0].replace("-", "_") if argv else ""
    return first if first in COMMANDS else None


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser(_command(argv)).parse_args(argv)
    settings = _settings(args)
    console.setup(settings)
    stdout = sys.stdout
    sys.stdout = console.QuietPipe(stdout)
    try:
        return int(args.func(args))
    except BaseException as exc:  # noqa: BLE001 - one line, no traceback, for any failure to run
        if isinstance(exc, SystemExit):
            raise
        line = failure_line(exc, settings)
        logging.getLogger("guidefund.cli").info("命令未能完成：%s", line, exc_info=exc)
        if settings.debug:
            traceback.print_exception(exc, file=sys.stderr)
        print(f"guidefund: {line}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        sys.stdout.flush()
        sys.stdout = stdout


def _settings(args: argparse.Namespace) -> Settings:
    try:
        return settings_from(args)
    except ValueError as exc:  # a malformed GUIDEFUND_* value
        print(f"guidefund: 设置有误：{one_line(str(exc))}", file=sys.stderr)
        raise SystemExit(EXIT_FAILED) from None


def failure_line(exc: BaseException, settings: Settings) -> str:
    """The one console line for a command that could not run."""
    from guidefund.reference import ReferenceError

    if isinstance(exc, KeyboardInterrupt):
        return (
            "已立即中止（第二次停止信号）：已入库的数据不受影响，收件箱中剩下的文件下次运行时处理"
        )
    if isinstance(exc, ReferenceError):
        return f"参考数据有误：{one_line(str(exc))}"
    if isinstance(exc, Fault):
        return one_line(str(exc))
    from sqlalchemy.exc import DBAPIError

    if isinstance(exc, DBAPIError):
        from guidefund.warehouse.db import describe_error

        return describe_error(exc, settings.database_url)
    module = type(exc).__module__.split(".")[0]
    if module == "httpx" or module == "prefect":
        return (
            f"与 Prefect 服务的连接出错（{type(exc).__name__}: {one_line(str(exc))[:200]}）："
            f"请检查 Prefect 服务；详见 {console.log_file(settings)}"
        )
    text = one_line(explain(exc))
    if isinstance(exc, OSError | MemoryError):
        return text
    return f"{text}（详见 {console.log_file(settings)}；设置 GUIDEFUND_DEBUG=1 可显示详细信息）"


if __name__ == "__main__":
    raise SystemExit(main())
