"""`guidefund status`: the consolidated submission state from the warehouse, and the 汇总表.

`status_summary` and `write_consolidated_xlsx` are plain functions over an engine and a year's
Reference; the command only opens the warehouse, calls them and prints. The nightly flow writes
the 汇总表 with `write_consolidated_xlsx(engine, ref, path)`.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import Engine

from flows.records import json_number
from flows.reference import Reference
from warehouse.consolidated import (
    MISSING,
    PROJECT_STATES,
    REJECTED,
    SUBMITTED,
    consolidated_status,
    file_counts,
    plan_vs_submitted,
    submission_history,
)

STATE_LABELS = {SUBMITTED: "已提交", REJECTED: "退回待改", MISSING: "未提交"}
VERSION_LABELS = {"accepted": "当前版本", "superseded": "已被替代", "rejected": "退回"}
# A receipt's state is how the file ended when it came, not what its content is now.
FILE_LABELS = {
    "accepted": "接收",
    "rejected": "退回",
    "duplicate": "重复",
    "superseded": "同批被替代",
}
MONEY, RATE = "#,##0.00", "0.00%"
RATE_PLACES = Decimal("0.0001")


def status_summary(engine: Engine, ref: Reference, period: str | None = None) -> dict[str, Any]:
    """The region-year's consolidated state for `period` (default: the annual report): plan
    projects per state and which ones, stored files and receipts per state, and plan vs
    submitted per direction. Money stays Decimal."""
    period = period or str(ref.year)
    rows = consolidated_status(engine, ref, period)
    counts = file_counts(engine, ref.region_code, ref.year)
    return {
        "region_code": ref.region_code,
        "region": ref.region_name,
        "year": ref.year,
        "period": period,
        "projects": len(rows),
        "states": {s: sum(1 for r in rows if r["state"] == s) for s in PROJECT_STATES},
        "rejected": [r["project_no"] for r in rows if r["state"] == REJECTED],
        "missing": [r["project_no"] for r in rows if r["state"] == MISSING],
        "submissions": counts["submissions"],
        "receipts": counts["receipts"],
        "directions": plan_vs_submitted(engine, ref, period),
    }


def write_consolidated_xlsx(
    engine: Engine, ref: Reference, path: Path, period: str | None = None
) -> Path:
    """The 汇总表 as .xlsx: one row per plan project with its state, current version, superseded
    versions, rejected files, file and key figures (sheet 汇总表); plan vs submitted per
    direction (按类别); every stored version (版本历史). Returns `path`."""
    period = period or str(ref.year)
    wb = Workbook()
    ws = wb.active
    ws.title = "汇总表"
    _title(ws, f"{ref.region_name}{ref.year}年度{ref.fund_name}项目汇总表（报告期 {period}）", 14)
    ws.append(["序号", "项目名称", "申报单位", "类别", "状态", "当前版本", "被替代版本数",
               "退回文件数", "文件", "接收时间（UTC）", "安排资金（万元）", "到位资金（万元）",
               "实际支出（万元）", "执行率"])  # fmt: skip
    rows = consolidated_status(engine, ref, period)
    for r in rows:
        ws.append([
            r["project_no"], r["name"], r["unit"], r["category"], STATE_LABELS[r["state"]],
            r["version"], r["superseded"], r["rejected_files"], r["file_name"], r["received_at"],
            r["allocation"], r["funds_received"], r["funds_spent"],
            _rate(r["funds_spent"], r["allocation"]),
        ])  # fmt: skip
    submitted = [r for r in rows if r["state"] == SUBMITTED]
    allocation = sum((r["allocation"] for r in rows), Decimal(0))
    spent = sum((r["funds_spent"] for r in submitted), Decimal(0))
    received = sum((r["funds_received"] for r in submitted), Decimal(0))
    ws.append(["合计", f"计划项目 {len(rows)} 个，已提交 {len(submitted)} 个", *[None] * 8,
               allocation, received, spent, _rate(spent, allocation)])  # fmt: skip
    _format(ws, money=(11, 12, 13), rate=14, widths=(6, 40, 30, 20, 9, 8, 10, 10, 24, 19, 12,
                                                       12, 12, 9))  # fmt: skip

    ws = wb.create_sheet("按类别")
    _title(ws, f"{ref.region_name}{ref.year}年度计划与已提交（报告期 {period}）", 8)
    ws.append(["类别", "预算（万元）", "计划项目数", "计划安排资金（万元）", "已提交项目数",
               "已提交项目安排资金（万元）", "到位资金（万元）", "实际支出（万元）"])  # fmt: skip
    directions = plan_vs_submitted(engine, ref, period)
    keys = ("budget_total", "plan_projects", "plan_allocation", "submitted",
            "submitted_allocation", "funds_received", "funds_spent")  # fmt: skip
    for d in directions:
        ws.append([d["direction"], *[d[k] for k in keys]])
    ws.append(["合计", *[sum((d[k] for d in directions), Decimal(0)) for k in keys]])
    _format(ws, money=(2, 4, 6, 7, 8), rate=None, widths=(22, 12, 10, 16, 12, 20, 14, 14))

    ws = wb.create_sheet("版本历史")
    _title(ws, f"{ref.region_name}{ref.year}年度入库文件及版本（报告期 {period}）", 8)
    ws.append(["序号", "报告期", "版本", "状态", "文件", "接收时间（UTC）", "运行号", "SHA-256"])
    for h in submission_history(engine, ref.region_code, ref.year, period):
        ws.append([h["project_no"], h["period"], h["version"], VERSION_LABELS[h["state"]],
                   h["file_name"], h["received_at"], h["run_id"], h["sha256"]])  # fmt: skip
    _format(ws, money=(), rate=None, widths=(6, 9, 6, 9, 30, 19, 7, 66))

    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def _rate(part: Decimal | None, whole: Decimal | None) -> Decimal | None:
    """part / whole as a fraction rounded half-up to 4 places (0.7499 = 74.99%); none for 0."""
    if part is None or not whole:
        return None
    return (part / whole).quantize(RATE_PLACES, rounding=ROUND_HALF_UP)


def _title(ws: Worksheet, text: str, columns: int) -> None:
    ws.append([text])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=columns)
    ws["A1"].font = Font(bold=True, size=13)
    ws["A1"].alignment = Alignment(horizontal="center")


def _format(ws: Worksheet, money: Sequence[int], rate: int | None, widths: Sequence[int]) -> None:
    for cell in ws[2]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    for row in ws.iter_rows(min_row=3):
        for col in money:
            row[col - 1].number_format = MONEY
        if rate is not None:
            row[rate - 1].number_format = RATE
        for cell in row:
            if cell.is_date:
                cell.number_format = "yyyy-mm-dd hh:mm:ss"
    for i, width in enumerate(widths):
        ws.column_dimensions[chr(ord("A") + i)].width = width
    ws.freeze_panes = "A3"


def render_text(summary: dict[str, Any]) -> str:
    """The summary for a terminal, in Chinese."""
    s, f, r = summary["states"], summary["submissions"], summary["receipts"]
    lines = [
        f"{summary['region']}（{summary['region_code']}）{summary['year']} 年度汇总状态，"
        f"报告期 {summary['period']}",
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
    from flows.cli import EXIT_ATTENTION, EXIT_FAILED, EXIT_OK, reference_for, settings_from
    from warehouse.db import make_engine, schema_problem

    settings = settings_from(args)
    ref = reference_for(settings, args.year)
    problem = schema_problem(settings.database_url)
    if problem:
        print(f"guidefund status: {problem}", file=sys.stderr)
        return EXIT_FAILED
    engine = make_engine(settings.database_url)
    try:
        summary = status_summary(engine, ref, args.period)
        if not summary["projects"]:
            print(
                f"仓库中还没有 {ref.region_name}（{ref.region_code}）{ref.year} 年度的计划数据："
                f"请先运行 guidefund nightly --year {ref.year}",
                file=sys.stderr,
            )
            return EXIT_ATTENTION
        if args.xlsx:
            summary["xlsx"] = str(
                write_consolidated_xlsx(engine, ref, Path(args.xlsx), args.period)
            )
    finally:
        engine.dispose()
    print(_json(summary) if args.json else render_text(summary))
    return EXIT_OK if summary["states"][SUBMITTED] == summary["projects"] else EXIT_ATTENTION


def register(add: Callable[..., argparse.ArgumentParser]) -> None:
    """Add `guidefund status` to the parser."""
    p = add(
        "status",
        "print the consolidated submission state of a year from the warehouse "
        "(exit 1 while any plan project is missing or rejected)",
        cmd_status,
    )
    p.add_argument("--year", type=int)
    p.add_argument("--period", help="reporting period, e.g. 2024-07 (default: the annual report)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument("--xlsx", metavar="PATH", help="also write the 汇总表 .xlsx to PATH")
