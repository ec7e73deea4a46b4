"""What every command shares: exit codes, the settings of a run, the quiet runtime for Prefect and
Great Expectations, and the year's reference data."""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path

from guidefund.reference import Reference, load_reference, plan_year
from guidefund.settings import Settings, quiet_environment

EXIT_OK, EXIT_ATTENTION, EXIT_FAILED = 0, 1, 2


class ChineseHelp(argparse.RawDescriptionHelpFormatter):
    """Help as written (examples and exit codes keep their lines), with a Chinese usage line."""

    def add_usage(self, usage, actions, groups, prefix=None):  # type: ignore[no-untyped-def]
        super().add_usage(usage, actions, groups, "用法：" if prefix is None else prefix)


def chinese_headings(p: argparse.ArgumentParser) -> None:
    """The headings argparse writes in English (arguments, options, -h) in Chinese."""
    p.formatter_class = ChineseHelp
    p._positionals.title = "参数"
    p._optionals.title = "选项"
    for action in p._actions:
        if isinstance(action, argparse._HelpAction):
            action.help = "显示本帮助并退出"


def describe(
    p: argparse.ArgumentParser, text: str, examples: Sequence[str], exits: Mapping[int, str]
) -> None:
    """A command's help: what it does, examples to copy and its exit codes, in Chinese."""
    p.description = text
    p.epilog = "\n".join(
        ["示例：", *(f"  {e}" for e in examples), "", "退出码：",
         *(f"  {code}  {meaning}" for code, meaning in exits.items())]
    )  # fmt: skip
    chinese_headings(p)


def add_region(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--region",
        metavar="地区代码",
        help="地区代码，如 650000（默认：GUIDEFUND_REGION；未设置时为参考数据中唯一的地区）",
    )


def add_scope(p: argparse.ArgumentParser, year_help: str = "") -> None:
    """--region and --year, the scope every command works in (one helper, so every command
    names them alike). Without them: GUIDEFUND_REGION / GUIDEFUND_YEAR, else the only region
    and the current plan year (`plan_year`)."""
    add_region(p)
    p.add_argument(
        "--year",
        type=int,
        metavar="年度",
        help=year_help
        or "计划年度（默认：GUIDEFUND_YEAR；未设置时按今天的日期和已有参考数据取当前计划年度）",
    )


def settings_from(args: argparse.Namespace) -> Settings:
    """The run's settings: the environment's, with --workdir and --region when given."""
    given = {
        key: value
        for key in ("workdir", "region")
        if (value := getattr(args, key, None)) is not None and value != ""
    }
    return Settings(**given)


def year_of(settings: Settings, year: int | None, today: date | None = None) -> int:
    """The plan year: --year, else GUIDEFUND_YEAR, else the current plan year by the calendar."""
    chosen = year or settings.year
    if chosen:
        return chosen
    return plan_year(
        settings.reference_dir,
        settings.region,
        today or date.today(),
        settings.submission_deadline,
    )


def quiet_libraries(settings: Settings) -> None:
    """Before Prefect or GX is imported: no telemetry, no progress bars, local only."""
    for key, value in quiet_environment(settings).items():
        os.environ.setdefault(key, value)


def prepare_runtime(settings: Settings) -> None:
    """For commands that run flows: the quiet environment, with Prefect's home in place."""
    quiet_libraries(settings)
    Path(os.environ["PREFECT_HOME"]).mkdir(parents=True, exist_ok=True)


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"'{text}' 不是日期，应为 YYYY-MM-DD，例如 2024-07-03"
        ) from None


def add_as_of(p: argparse.ArgumentParser) -> None:
    """`--as-of DATE`: the date a command judges as of (due periods, late reports, alerts)."""
    p.add_argument(
        "--as-of",
        type=_date,
        metavar="日期",
        help="按这一天判断（哪些报告期已到截止日期、哪些报送逾期），如 2024-07-03；"
        "默认：GUIDEFUND_TIMEZONE（北京时间）的今天。补跑漏掉的夜间汇总时填那一天",
    )


def as_of_from(args: argparse.Namespace, settings: Settings) -> date:
    """The command's as-of date: --as-of, else today in GUIDEFUND_TIMEZONE."""
    from guidefund.settings import local_today

    return getattr(args, "as_of", None) or local_today(settings.timezone)


def reference_for(settings: Settings, year: int | None) -> Reference:
    """The reference data of the run's region (settings.region) and year (`year_of`)."""
    return load_reference(settings.reference_dir, year_of(settings, year), settings.region)


def safe_url(url: str) -> str:
    """A database URL as it may be printed: without its password."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def run_flow(settings: Settings, start):  # type: ignore[no-untyped-def]
    """Run a flow for a command: SIGTERM/SIGINT ask it to stop at its next safe point, the
    Prefect API is checked or a temporary one started (ending with the command), and Prefect's
    console logging goes to the log file. `start()` imports what the flow needs (while the
    temporary API starts) and returns a call that runs it; its result is returned."""
    from guidefund.cli.console import quiet_libraries as quiet_logging
    from guidefund.cli.prefect_api import prefect_api
    from guidefund.faults import reset_stops, watch_stops

    reset_stops()
    watch_stops()
    prepare_runtime(settings)
    with prefect_api(settings) as ready:
        go = start()
        quiet_logging(settings)
        ready()
        return go()
