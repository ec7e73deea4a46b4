"""`guidefund nightly`: consolidate the inbox now (the nightly flow), and its run summary."""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable, Mapping
from pathlib import PurePosixPath
from typing import Any

from guidefund.cli.common import (
    EXIT_ATTENTION,
    EXIT_OK,
    add_as_of,
    add_scope,
    as_of_from,
    describe,
    reference_for,
    run_flow,
    settings_from,
)
from guidefund.faults import Fault
from guidefund.intake.space import space_problem
from guidefund.settings import Settings


def check_before_run(settings: Settings, year: int | None) -> tuple[str, int]:
    """What must hold before a run touches anything: the year's reference data reads whole,
    and the disk has room. Raises (one line, exit 2); returns the region and year."""
    ref = reference_for(settings, year)
    problem = space_problem(settings.workdir, settings.inbox, settings.disk_margin_mb)
    if problem:
        raise Fault(problem)
    return ref.region_code, ref.year


SHOWN = 5  # problems printed per rejected file; the count of the rest follows


def cmd_nightly(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    region, year = check_before_run(settings, args.year)
    as_of = as_of_from(args, settings)

    def start():  # type: ignore[no-untyped-def]
        from guidefund.flows.nightly import nightly_consolidation

        return lambda: nightly_consolidation(
            year=year, workdir=str(settings.workdir), region=region, as_of=as_of
        )

    summary = run_flow(settings, start)
    print_summary(summary.as_dict(), args.json)
    print_problems(summary.problems)
    attention = summary.rejected or summary.new_alerts or summary.problems
    return EXIT_ATTENTION if attention else EXIT_OK


def print_problems(lines: list[str]) -> None:
    """One line per secondary step that failed, on stderr (stdout may be parsed)."""
    for line in lines:
        print(f"guidefund: {line}", file=sys.stderr)


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_NOT_RECEIVED = {"skipped": "跳过", "refused": "拒收", "deferred": "留待下次"}


def shown(text: str) -> str:
    """A file name or line as printed: control characters escaped, so a name cannot forge
    or erase console lines."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def print_summary(summary: Mapping[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(summary, ensure_ascii=False, indent=2))
        return
    if summary.get("calendar_note"):
        print(summary["calendar_note"])
    print(
        f"汇总运行 #{summary['run_id']}（截至 {summary.get('as_of', '')}）：收到 {summary['received']} 个文件，接收 {summary['accepted']}，"
        f"退回 {summary['rejected']}，重复 {summary['duplicate']}，被替代 {summary['superseded']}"
        + "".join(
            f"，{label} {summary.get(k, 0)}" for k, label in _NOT_RECEIVED.items() if summary.get(k)
        )
    )
    for line in summary.get("plan_changes", []):
        print(f"  {line}")
    if summary.get("recovered"):
        print(f"  已完成上次中断运行的归档：{summary['recovered']} 个文件")
    outcomes = summary.get("outcomes", {})
    for name, why in summary.get("notes", {}).items():
        print(f"  {_NOT_RECEIVED.get(outcomes.get(name, ''), '未读取')} {shown(name)}：{why}")
    for name, why in summary.get("unfiled", {}).items():
        print(f"  未能归档 {shown(name)}：{shown(why)}（留在收件箱，下次运行重试）")
    for name, lines in summary["rejected_files"].items():
        print(f"  退回 {shown(name)}（共 {len(lines)} 条）：")
        for line in lines[:SHOWN]:
            print(f"    {shown(line)}")
        if len(lines) > SHOWN:
            from guidefund.intake.custody import fits

            feedback = shown(fits(PurePosixPath(name).name + ".errors.xlsx"))
            print(f"    …还有 {len(lines) - SHOWN} 条，全部见 quarantine/ 中的 {feedback}")
    for message in summary["consolidated_findings"]:
        print(f"  汇总检查：{message}")
    if summary.get("periods"):
        print(f"  检查的报告期：{'、'.join(summary['periods'])}")
    print(f"  提醒 {summary['warnings']} 条，新预警 {summary['new_alerts']} 条")
    for line in summary.get("unit_mail", []):
        print(f"  单位邮件：{line}")
    if summary["consolidated_xlsx"]:
        print(f"  汇总表：{summary['consolidated_xlsx']}")
    if summary["data_docs"]:
        print(f"  校验报告（Data Docs）：{summary['data_docs']}")


def register(add: Callable[..., Any]) -> None:
    p = add("nightly", "立即汇总收件箱（每晚汇总流程）", cmd_nightly)
    add_scope(p)
    p.add_argument("--json", action="store_true", help="以 JSON 打印运行摘要（供脚本使用）")
    add_as_of(p)
    describe(
        p,
        "读取 <工作目录>/inbox 中的每个文件，校验后把可接收的入库，打印每个退回文件的问题"
        "（每个文件前 5 条，其余见 quarantine/ 中的 .errors.xlsx）、提醒和新预警，写出汇总表和"
        "校验报告（Data Docs）。",
        examples=["guidefund nightly", "guidefund nightly --year 2024 --workdir /srv/guidefund",
                  "guidefund nightly --as-of 2024-07-03"],
        exits={0: "全部接收，没有新预警", 1: "有退回的文件或新预警",
               2: "无法运行（汇总库无法连接、参考数据有误等）"},
    )  # fmt: skip
