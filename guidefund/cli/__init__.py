"""The `guidefund` command: one module per command in this package, each with `register(add)`.

Exit codes: 0 done; 1 done, but something needs attention (rejected files or new alerts for
`nightly`, missing or rejected submissions for `status`, findings for `audit`, a file that would be
rejected for `check`); `demo` exits 0 whenever it ran;
2 could not run (bad arguments, unreadable reference data or configuration, warehouse unreachable,
or for `check` a file that is not a workbook at all).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence

from guidefund.cli.common import EXIT_FAILED, chinese_headings
from guidefund.settings import Settings

# The commands, in the order `guidefund --help` lists them. Each module has `register(add)`,
# where `add(name, help, func)` returns the subcommand's parser (with --workdir already on it).
COMMANDS = (
    "template",
    "samples",
    "check",
    "nightly",
    "status",
    "custody",
    "year_end",
    "audit",
    "reference",
    "db",
    "serve",
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
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        print("已中断", file=sys.stderr)
        return EXIT_FAILED
    except Exception as exc:  # noqa: BLE001 - one line, no traceback, for any failure to run
        from guidefund.reference import ReferenceError

        if isinstance(exc, ReferenceError):
            print(f"guidefund: 参考数据有误：{exc}", file=sys.stderr)
        else:
            print(f"guidefund: 无法完成：{type(exc).__name__}: {exc}", file=sys.stderr)
        if Settings().debug:
            raise
        return EXIT_FAILED


if __name__ == "__main__":
    raise SystemExit(main())
