"""The 自评表 (.xlsx) in the attachment's layout: the budget block, the indicator table with
一级/二级指标 merged, the units' reasons under the indicators they explain."""

from __future__ import annotations

import math
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.worksheet.worksheet import Worksheet

from guidefund.cells import append, save
from guidefund.evaluate.figures import Figures
from guidefund.reports.text import (
    BUDGET_HEADER,
    actual_cell,
    reason_cell,
    summary_text,
    target_cell,
)

_THIN = Side(style="thin")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_WRAP = Alignment(vertical="center", wrap_text=True)
_CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)


def write_xlsx(path: Path, fig: Figures) -> Path:
    """The 自评表 in the attachment's layout, six columns, printable on one A4 page width."""
    ref = fig.ref
    wb = Workbook()
    ws = wb.active
    ws.title = "区域绩效目标自评表"
    append(ws, [f"{ref.fund_name}区域绩效目标自评表"])
    append(ws, [f"（{ref.year} 年度）"])
    for label, key, default in (
        ("项目名称", "", ref.fund_name),
        ("中央主管部门", "中央主管部门", ""),
        ("地方主管部门", "地方主管部门", ""),
    ):
        append(ws, [label, fig.text(key, default) if key else default])
        ws.merge_cells(start_row=ws.max_row, start_column=2, end_row=ws.max_row, end_column=6)
    append(ws, BUDGET_HEADER)
    for r in fig.budget:
        append(
            ws, [r.source, r.budget, r.executed, None if r.rate_pct is None else r.rate_pct / 100]
        )
        ws.cell(ws.max_row, 2).number_format = ws.cell(ws.max_row, 3).number_format = "#,##0.00"
        ws.cell(ws.max_row, 4).number_format = "0.00%"
    goal = ws.max_row + 1
    append(ws, ["总体目标完成情况", "总体目标", None, "全年实际完成情况"])
    append(ws, [None, fig.text("总体目标"), None, summary_text(fig)])
    ws.merge_cells(start_row=goal, start_column=1, end_row=goal + 1, end_column=1)
    for row in (goal, goal + 1):
        ws.merge_cells(start_row=row, start_column=2, end_row=row, end_column=3)
        ws.merge_cells(start_row=row, start_column=4, end_row=row, end_column=6)
    ws.row_dimensions[goal + 1].height = _height(fig.text("总体目标"), 30)
    append(
        ws, ["一级指标", "二级指标", "三级指标", "指标值", "全年实际完成值", "未完成原因和改进措施"]
    )
    header = ws.max_row
    for r in fig.results:
        reason = reason_cell(fig, r)
        append(
            ws,
            [
                r.level1,
                r.level2,
                r.indicator,
                target_cell(r),
                actual_cell(r),
                reason,
            ],
        )
        ws.row_dimensions[ws.max_row].height = max(_height(r.indicator, 17), _height(reason, 20))
    last = ws.max_row
    _merge_runs(ws, header + 1, last, 1)
    _merge_runs(ws, header + 1, last, 2)
    append(ws, ["说明", fig.text("说明", "无。")])
    ws.merge_cells(start_row=ws.max_row, start_column=2, end_row=ws.max_row, end_column=6)
    table_end = ws.max_row
    notes = [fig.text(f"注{i}") for i in range(1, 10) if fig.text(f"注{i}")]
    if notes:
        append(ws, ["注："])
    for i, note in enumerate(notes, 1):
        append(ws, [f"{i}. {note}"])
        ws.merge_cells(start_row=ws.max_row, start_column=1, end_row=ws.max_row, end_column=6)
        ws.row_dimensions[ws.max_row].height = _height(note, 60)
    _style(ws, table_end, header)
    return save(wb, path)


def _height(text: str, chars_per_line: int) -> float:
    """Row height (points) for wrapped text: openpyxl cannot auto-fit, Excel does not for merges."""
    lines = sum(max(1, math.ceil(len(part) / chars_per_line)) for part in text.split("\n"))
    return 15.0 * max(lines, 1) + 3


def _style(ws: Worksheet, table_end: int, header: int) -> None:
    for row in ws.iter_rows(min_row=3, max_row=table_end, max_col=6):
        for cell in row:
            cell.border = _BOX
            cell.alignment = _WRAP
    for row in ws.iter_rows(min_row=table_end + 1, max_row=ws.max_row, max_col=6):
        for cell in row:
            cell.alignment = Alignment(vertical="top", wrap_text=True)
    for cell in ws[header]:
        cell.font = Font(bold=True)
        cell.alignment = _CENTER
    ws.merge_cells("A1:F1")
    ws.merge_cells("A2:F2")
    ws["A1"].font = Font(bold=True, size=14)
    ws["A1"].alignment = ws["A2"].alignment = _CENTER
    for col, width in zip("ABCDEF", (12, 14, 30, 13, 15, 36), strict=True):
        ws.column_dimensions[col].width = width
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "portrait"
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0  # as many pages down as needed, one page across
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.print_title_rows = f"{header}:{header}"


def _merge_runs(ws: Worksheet, first: int, last: int, col: int) -> None:
    """Merge runs of equal values down a column, as the attachment does for 一级/二级指标."""
    start = first
    for row in range(first + 1, last + 2):
        value = ws.cell(row, col).value if row <= last else object()
        if value != ws.cell(start, col).value:
            if row - 1 > start:
                ws.merge_cells(start_row=start, start_column=col, end_row=row - 1, end_column=col)
            start = row
