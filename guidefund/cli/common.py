"""What every command shares: exit codes, the settings of a run, the quiet runtime for Prefect and
Great Expectations, and the year's reference data."""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from guidefund.reference import Reference, load_reference
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


def settings_from(args: argparse.Namespace) -> Settings:
    workdir = getattr(args, "workdir", None)
    return Settings(workdir=workdir) if workdir else Settings()


def quiet_libraries(settings: Settings) -> None:
    """Before Prefect or GX is imported: no telemetry, no progress bars, local only."""
    for key, value in quiet_environment(settings).items():
        os.environ.setdefault(key, value)


def prepare_runtime(settings: Settings) -> None:
    """For commands that run flows: the quiet environment, with Prefect's home in place."""
    quiet_libraries(settings)
    Path(os.environ["PREFECT_HOME"]).mkdir(parents=True, exist_ok=True)


def reference_for(settings: Settings, year: int | None) -> Reference:
    return load_reference(settings.reference_dir, year or settings.year)


def safe_url(url: str) -> str:
    """A database URL as it may be printed: without its password."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
