"""The 运行监控表 (.xlsx) of one reporting period: sheets 运行监控表 (per project), 方向与全区,
指标 and 未报送, each titled with the period, its 序时进度 and the as-of date.

Print-ready like the other forms (guidefund/printing.py): landscape A4, one page wide, the
header row repeated on every page, names wrapped and rows as tall as they need, projects in
number order. Rates are stored as fractions shown as percentages; gaps in percentage points.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.worksheet.worksheet import Worksheet

from guidefund.cells import append, save
from guidefund.evaluate.monitoring import Line, Monitoring
from guidefund.numbers import HUNDRED, plain
from guidefund.printing import table_sheet

MONEY, RATE, POINTS = "#,##0.00", "0.00%", "0.00"
SIZE = 10
YES, NO, NONE = "是", "否", "—"


def heading(mon: Monitoring) -> str:
    """The line every sheet and the HTML page open with: period, 序时进度, as-of and due date."""
    ref = mon.ref
    if mon.due is None:
        due = "报送日历未列出该报告期"
    else:
        due = f"截止日期 {mon.due.due.isoformat()}，{'已逾期' if mon.overdue else '未到截止日期'}"
    return (
        f"{ref.region_name}{ref.year}年度{ref.fund_name}运行监控表（报告期 {mon.period}，"
        f"序时进度 {plain(mon.progress_pct)}%，数据截至 {mon.as_of.isoformat()}，{due}）"
    )


def _fraction(pct: Decimal | None) -> Decimal | None:
    return None if pct is None else pct / HUNDRED


def _line(x: Line) -> list[object]:
    return [x.allocation, x.received, x.spent, _fraction(x.execution_pct),
            _fraction(x.progress_pct), x.gap]  # fmt: skip


def write_monitoring_xlsx(path: Path, mon: Monitoring) -> Path:
    """Write the period's 运行监控表 to `path`; returns it."""
    wb = Workbook()
    ws = wb.active
    ws.title = "运行监控表"
    _title(ws, heading(mon), 10)
    append(ws, ["序号及项目名称", "申报单位", "类别", "安排资金（万元）", "到位资金（万元）",
                "实际支出（万元）", "执行率", "序时进度", "差距（百分点）", "报送"])  # fmt: skip
    for x in mon.projects:
        append(ws, [x.label, x.unit, x.category, *_line(x), "已报送" if x.reported else "未报送"])
    _format(ws, money=(4, 5, 6), rates=(7, 8), points=9,
            widths=(40, 24, 16, 11, 11, 11, 8, 8, 9, 7))  # fmt: skip

    ws = wb.create_sheet("方向与全区")
    _title(ws, heading(mon), 9)
    append(ws, ["类别", "计划项目数", "已报送项目数", "已报送项目安排资金（万元）",
                "到位资金（万元）", "实际支出（万元）", "执行率", "序时进度", "差距（百分点）"])  # fmt: skip
    for x in mon.groups:
        append(ws, [x.label, x.projects, x.submitted, *_line(x)])
    _format(ws, money=(4, 5, 6), rates=(7, 8), points=9,
            widths=(28, 9, 9, 14, 12, 12, 9, 9, 10))  # fmt: skip

    ws = wb.create_sheet("指标")
    _title(ws, heading(mon), 9)
    append(ws, ["序号", "一级指标", "二级指标", "三级指标", "指标值", "累计值",
                "推算全年值", "预计完成率", "预计能否完成"])  # fmt: skip
    for i in mon.indicators:
        r = i.result
        target = r.target_text if r.target is None else f"{r.operator}{plain(r.target)}{r.unit}"
        on_track = {True: YES, False: NO, None: NONE}[i.on_track]
        append(ws, [r.no, r.level1, r.level2, r.indicator, target, i.to_date,
                    r.actual if i.projected else None, _fraction(r.completion_pct), on_track])  # fmt: skip
    append(ws, [f"推算口径：{mon.basis}"])
    last = ws.max_row
    ws.merge_cells(start_row=last, start_column=1, end_row=last, end_column=9)
    _format(ws, money=(), rates=(8,), points=None, widths=(5, 10, 14, 34, 12, 12, 12, 10, 10))
    for column in (6, 7):
        for row in ws.iter_rows(min_row=3, min_col=column, max_col=column):
            row[0].number_format = "#,##0.##"

    ws = wb.create_sheet("未报送")
    state = "已逾期" if mon.overdue else "未到截止日期"
    _title(ws, f"{heading(mon)}：未报送 {len(mon.not_reported)} 个项目（{state}）", 3)
    append(ws, ["序号", "项目名称", "申报单位"])
    for no, name, unit in mon.not_reported:
        append(ws, [no, name, unit])
    _format(ws, money=(), rates=(), points=None, widths=(6, 60, 34))
    return save(wb, path)


def _title(ws: Worksheet, text: str, columns: int) -> None:
    append(ws, [text])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=columns)
    ws["A1"].font = Font(bold=True, size=13)
    ws["A1"].alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)


def _format(
    ws: Worksheet,
    money: Sequence[int],
    rates: Sequence[int],
    points: int | None,
    widths: Sequence[int],
) -> None:
    formats = {col: MONEY for col in money} | {col: RATE for col in rates}
    table_sheet(ws, formats | ({points: POINTS} if points is not None else {}), widths, SIZE)
