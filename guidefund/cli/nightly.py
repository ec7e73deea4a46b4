"""`guidefund nightly`: consolidate the inbox now (the nightly flow), and its run summary."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Mapping
from typing import Any

from guidefund.cli.common import EXIT_ATTENTION, EXIT_OK, prepare_runtime, settings_from


def cmd_nightly(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    prepare_runtime(settings)
    from guidefund.flows.nightly import nightly_consolidation

    summary = nightly_consolidation(year=args.year, workdir=str(settings.workdir))
    print_summary(summary.as_dict(), args.json)
    return EXIT_ATTENTION if summary.rejected or summary.new_alerts else EXIT_OK


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
    print(f"  汇总表：{summary['consolidated_xlsx']}")
    print(f"  校验报告（Data Docs）：{summary['data_docs']}")


def register(add: Callable[..., Any]) -> None:
    p = add(
        "nightly", "consolidate the inbox into the warehouse now (the nightly flow)", cmd_nightly
    )
    p.add_argument("--year", type=int)
    p.add_argument("--json", action="store_true", help="print the run summary as JSON")
