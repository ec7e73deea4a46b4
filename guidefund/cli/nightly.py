"""`guidefund nightly`: consolidate the inbox now (the nightly flow), and its run summary."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Mapping
from typing import Any

from guidefund.cli.common import (
    EXIT_ATTENTION,
    EXIT_OK,
    reference_for,
    run_flow,
    settings_from,
)
from guidefund.faults import Fault
from guidefund.intake.space import space_problem
from guidefund.settings import Settings


def check_before_run(settings: Settings, year: int | None) -> int:
    """What must hold before a run touches anything: the year's reference data reads whole,
    and the disk has room. Raises (one line, exit 2); returns the year."""
    ref = reference_for(settings, year)
    problem = space_problem(settings.workdir, settings.inbox, settings.disk_margin_mb)
    if problem:
        raise Fault(problem)
    return ref.year


def cmd_nightly(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    year = check_before_run(settings, args.year)

    def start():  # type: ignore[no-untyped-def]
        from guidefund.flows.nightly import nightly_consolidation

        return lambda: nightly_consolidation(year=year, workdir=str(settings.workdir))

    summary = run_flow(settings, start)
    print_summary(summary.as_dict(), args.json)
    print_problems(summary.problems)
    attention = summary.rejected or summary.new_alerts or summary.problems
    return EXIT_ATTENTION if attention else EXIT_OK


def print_problems(lines: list[str]) -> None:
    """One line per secondary step that failed, on stderr (stdout may be parsed)."""
    for line in lines:
        print(f"guidefund: {line}", file=sys.stderr)


def print_summary(summary: Mapping[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(summary, ensure_ascii=False, indent=2))
        return
    print(
        f"汇总运行 #{summary['run_id']}：收到 {summary['received']} 个文件，接收 {summary['accepted']}，"
        f"退回 {summary['rejected']}，重复 {summary['duplicate']}，被替代 {summary['superseded']}"
    )
    for name, lines in summary["rejected_files"].items():
        print(f"  退回 {name}:")
        for line in lines:
            print(f"    {line}")
    for message in summary["consolidated_findings"]:
        print(f"  汇总检查：{message}")
    print(f"  提醒 {summary['warnings']} 条，新预警 {summary['new_alerts']} 条")
    if summary["consolidated_xlsx"]:
        print(f"  汇总表：{summary['consolidated_xlsx']}")
    if summary["data_docs"]:
        print(f"  校验报告（Data Docs）：{summary['data_docs']}")


def register(add: Callable[..., Any]) -> None:
    p = add(
        "nightly", "consolidate the inbox into the warehouse now (the nightly flow)", cmd_nightly
    )
    p.add_argument("--year", type=int)
    p.add_argument("--json", action="store_true", help="print the run summary as JSON")
