"""The 汇总表 (.xlsx): one row per plan project with its submission state (sheet 汇总表), plan vs
submitted per direction (按类别) and every stored version (版本历史).

Print-ready: landscape A4, one page wide, the header row repeated on every page, names wrapped
and rows as tall as they need. Times are shown in the configured time zone (GUIDEFUND_TIMEZONE,
Asia/Shanghai), not as the warehouse stores them (UTC); projects in number order.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import Engine

from guidefund.cells import append, save
from guidefund.printing import table_sheet
from guidefund.records import TOTAL
from guidefund.reference import Reference
from guidefund.warehouse.consolidated import (
    MISSING,
    REJECTED,
    SUBMITTED,
    consolidated_status,
    plan_vs_submitted,
    submission_history,
)

STATE_LABELS = {SUBMITTED: "已提交", REJECTED: "退回待改", MISSING: "未提交"}
VERSION_LABELS = {"accepted": "当前版本", "superseded": "已被替代", "rejected": "退回"}
MONEY, RATE = "#,##0.00", "0.00%"
RATE_PLACES = Decimal("0.0001")
ZONE_NAMES = {"Asia/Shanghai": "北京时间"}
SIZE = 10


def local(moment: datetime | None, zone: ZoneInfo) -> datetime | None:
    """A stored UTC time (naive) as wall-clock time in `zone` (naive: xlsx has no time zones)."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC).astimezone(zone).replace(tzinfo=None)


def zone_label(timezone: str) -> str:
    return ZONE_NAMES.get(timezone, timezone)


def write_consolidated_xlsx(
    engine: Engine,
    ref: Reference,
    path: Path,
    period: str | None = None,
    timezone: str = "Asia/Shanghai",
    as_of: date | None = None,
) -> Path:
    """The 汇总表 as .xlsx: one row per plan project with its state, current version, superseded
    versions, rejected files, file and key figures (sheet 汇总表); plan vs submitted per
    direction (按类别); every stored version (版本历史). Times in `timezone`; the title states
    `as_of`, the date the run judged as of, when given. Returns `path`."""
    period = period or str(ref.year)
    zone, when = ZoneInfo(timezone), f"接收时间（{zone_label(timezone)}）"
    wb = Workbook()
    ws = wb.active
    ws.title = "汇总表"
    dated = f"，数据截至 {as_of.isoformat()}" if as_of else ""
    _title(
        ws,
        f"{ref.region_name}{ref.year}年度{ref.fund_name}项目汇总表（报告期 {period}{dated}）",
        14,
    )
    append(ws, ["序号", "项目名称", "申报单位", "类别", "状态", "当前版本", "被替代版本数",
               "退回文件数", "文件", when, "安排资金（万元）", "到位资金（万元）",
               "实际支出（万元）", "执行率"])  # fmt: skip
    rows = consolidated_status(engine, ref, period)
    for r in rows:
        append(ws, [
            r["project_no"], r["name"], r["unit"], r["category"], STATE_LABELS[r["state"]],
            r["version"], r["superseded"], r["rejected_files"], r["file_name"],
            local(r["received_at"], zone),
            r["allocation"], r["funds_received"], r["funds_spent"],
            _rate(r["funds_spent"], r["allocation"]),
        ])  # fmt: skip
    submitted = [r for r in rows if r["state"] == SUBMITTED]
    allocation = sum((r["allocation"] for r in rows), Decimal(0))
    spent = sum((r["funds_spent"] for r in submitted), Decimal(0))
    received = sum((r["funds_received"] for r in submitted), Decimal(0))
    append(ws, [TOTAL, f"计划项目 {len(rows)} 个，已提交 {len(submitted)} 个", *[None] * 8,
               allocation, received, spent, _rate(spent, allocation)])  # fmt: skip
    _format(ws, money=(11, 12, 13), rate=14, widths=(5, 34, 22, 14, 8, 6, 7, 7, 20, 17, 11, 11,
                                                       11, 8))  # fmt: skip

    ws = wb.create_sheet("按类别")
    _title(ws, f"{ref.region_name}{ref.year}年度计划与已提交（报告期 {period}）", 8)
    append(ws, ["类别", "预算（万元）", "计划项目数", "计划安排资金（万元）", "已提交项目数",
               "已提交项目安排资金（万元）", "到位资金（万元）", "实际支出（万元）"])  # fmt: skip
    directions = plan_vs_submitted(engine, ref, period)
    keys = ("budget_total", "plan_projects", "plan_allocation", "submitted",
            "submitted_allocation", "funds_received", "funds_spent")  # fmt: skip
    for d in directions:
        append(ws, [d["direction"], *[d[k] for k in keys]])
    append(ws, [TOTAL, *[sum((d[k] for d in directions), Decimal(0)) for k in keys]])
    _format(ws, money=(2, 4, 6, 7, 8), rate=None, widths=(22, 12, 9, 14, 10, 16, 12, 12))

    ws = wb.create_sheet("版本历史")
    _title(ws, f"{ref.region_name}{ref.year}年度入库文件及版本（报告期 {period}）", 8)
    append(ws, ["序号", "报告期", "版本", "状态", "文件", when, "运行号", "SHA-256"])
    for h in submission_history(engine, ref.region_code, ref.year, period):
        append(ws, [h["project_no"], h["period"], h["version"], VERSION_LABELS[h["state"]],
                   h["file_name"], local(h["received_at"], zone), h["run_id"], h["sha256"]])  # fmt: skip
    _format(ws, money=(), rate=None, widths=(5, 8, 5, 8, 30, 17, 6, 66))

    return save(wb, path)


def _rate(part: Decimal | None, whole: Decimal | None) -> Decimal | None:
    """part / whole as a fraction rounded half-up to 4 places (0.7499 = 74.99%); none for 0."""
    if part is None or not whole:
        return None
    return (part / whole).quantize(RATE_PLACES, rounding=ROUND_HALF_UP)


def _title(ws: Worksheet, text: str, columns: int) -> None:
    append(ws, [text])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=columns)
    ws["A1"].font = Font(bold=True, size=13)
    ws["A1"].alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)


def _format(ws: Worksheet, money: Sequence[int], rate: int | None, widths: Sequence[int]) -> None:
    formats = {col: MONEY for col in money} | ({rate: RATE} if rate is not None else {})
    table_sheet(ws, formats, widths, SIZE)
