"""`guidefund status`: the consolidated submission state from the warehouse, and the 汇总表."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from guidefund.cli.common import (
    EXIT_ATTENTION,
    EXIT_FAILED,
    EXIT_OK,
    add_as_of,
    add_scope,
    as_of_from,
    describe,
    reference_for,
    settings_from,
)
from guidefund.evaluate.status import status_summary
from guidefund.numbers import json_number
from guidefund.reports.consolidated_xlsx import STATE_LABELS, VERSION_LABELS
from guidefund.warehouse.consolidated import MISSING, PROJECT_STATES, REJECTED, SUBMITTED

# A receipt's state is how the file ended when it came, not what its content is now.
FILE_LABELS = {
    "accepted": "接收",
    "rejected": "退回",
    "duplicate": "重复",
    "superseded": "同批被替代",
}


def render_text(summary: dict[str, Any]) -> str:
    """The summary for a terminal, in Chinese."""
    s, f, r = summary["states"], summary["submissions"], summary["receipts"]
    lines = [
        f"{summary['region']}（{summary['region_code']}）{summary['year']} 年度汇总状态，"
        f"报告期 {summary['period']}，截至 {summary['as_of']}" + _due_text(summary),
        f"计划项目 {summary['projects']} 个：" + "，".join(
            f"{STATE_LABELS[k]} {s[k]}" for k in PROJECT_STATES
        ),
        "入库文件：" + ("，".join(f"{VERSION_LABELS[k]} {n}" for k, n in f.items()) or "无")
        + f"；共收到文件 {sum(r.values())} 次"
        + (f"（{'，'.join(f'{FILE_LABELS[k]} {n}' for k, n in r.items())}）" if r else ""),
        "按类别（万元）：",
    ]  # fmt: skip
    for d in summary["directions"]:
        lines.append(
            f"  {d['direction']}：计划 {d['plan_projects']} 个 / {d['plan_allocation']:,.2f}，"
            f"已提交 {d['submitted']} 个 / {d['submitted_allocation']:,.2f}，"
            f"到位 {d['funds_received']:,.2f}，支出 {d['funds_spent']:,.2f}"
        )
    for key in (REJECTED, MISSING):
        if summary[key]:
            lines.append(
                f"{STATE_LABELS[key]}（{len(summary[key])}）：序号 {_ranges(summary[key])}"
            )
    if summary.get("xlsx"):
        lines.append(f"已写出汇总表 {summary['xlsx']}")
    return "\n".join(lines)


def _due_text(summary: dict[str, Any]) -> str:
    if not summary.get("due"):
        return "（报送日历未列出该报告期）"
    state = "已逾期" if summary["overdue"] else "未到截止日期"
    return f"（截止日期 {summary['due']}，{state}）"


def _ranges(numbers: Sequence[int]) -> str:
    """[1, 2, 3, 5, 7, 8] → '1–3、5、7–8'."""
    spans: list[list[int]] = []
    for n in sorted(numbers):
        if spans and n == spans[-1][1] + 1:
            spans[-1][1] = n
        else:
            spans.append([n, n])
    return "、".join(str(a) if a == b else f"{a}–{b}" for a, b in spans)


def _json(summary: dict[str, Any]) -> str:
    def number(v: object) -> object:
        if isinstance(v, Decimal):
            return json_number(v)
        raise TypeError(type(v).__name__)

    return json.dumps(summary, ensure_ascii=False, indent=2, default=number)


def cmd_status(args: argparse.Namespace) -> int:
    from guidefund.reports.consolidated_xlsx import write_consolidated_xlsx
    from guidefund.warehouse.db import make_engine, schema_problem

    settings = settings_from(args)
    ref = reference_for(settings, args.year)
    problem = schema_problem(settings.database_url)
    if problem:
        print(f"guidefund status: {problem}", file=sys.stderr)
        return EXIT_FAILED
    engine = make_engine(settings.database_url)
    try:
        summary = status_summary(engine, ref, args.period)
        from guidefund.evaluate.calendar import due_of

        as_of = as_of_from(args, settings)
        due = due_of(ref, settings, summary["period"])
        summary["as_of"] = as_of.isoformat()
        summary["due"] = due.due.isoformat() if due else None
        summary["overdue"] = bool(due and as_of > due.due)
        if not summary["projects"]:
            print(
                f"仓库中还没有 {ref.region_name}（{ref.region_code}）{ref.year} 年度的计划数据："
                f"请先运行 guidefund nightly --year {ref.year}",
                file=sys.stderr,
            )
            return EXIT_ATTENTION
        if args.xlsx:
            summary["xlsx"] = str(
                write_consolidated_xlsx(
                    engine, ref, Path(args.xlsx), args.period, settings.timezone, as_of
                )
            )
    finally:
        engine.dispose()
    print(_json(summary) if args.json else render_text(summary))
    return EXIT_OK if summary["states"][SUBMITTED] == summary["projects"] else EXIT_ATTENTION


def register(add: Callable[..., argparse.ArgumentParser]) -> None:
    """Add `guidefund status` to the parser."""
    p = add("status", "查看某年度各计划项目的报送状态（已提交 / 退回待改 / 未提交）", cmd_status)
    add_scope(p)
    p.add_argument("--period", metavar="报告期", help="报告期，如 2024-07（默认：年度报告）")
    p.add_argument("--json", action="store_true", help="以 JSON 打印（供脚本使用）")
    p.add_argument("--xlsx", metavar="路径", help="同时把汇总表（.xlsx）写到这个路径")
    add_as_of(p)
    describe(
        p,
        "从汇总库读取每个计划项目在该报告期的状态、各状态的文件数，以及各方向计划与已提交的对比。",
        examples=["guidefund status --year 2024",
                  "guidefund status --year 2024 --period 2024-07 --xlsx 汇总表_2024-07.xlsx"],
        exits={0: "每个计划项目都已提交", 1: "还有项目未提交或被退回",
               2: "无法运行（汇总库无法连接、参考数据有误等）"},
    )  # fmt: skip
