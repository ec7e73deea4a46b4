"""<name>.errors.xlsx: the feedback workbook a unit gets back with a rejected file, in Chinese:
where (sheet, cell, field), what was found, which check (by name, never a rule id) and what to
fix. Landscape A4, one page wide, the header row repeated on every page, rows as tall as their
text."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

from guidefund.cells import put, save
from guidefund.expectations import rule_name
from guidefund.printing import Margins, fit_rows, page_setup
from guidefund.records import CRITICAL, Finding
from guidefund.reports.findings import counts_text, level

FEEDBACK_COLUMNS = ("序号", "工作表", "单元格", "字段", "填写的值", "检查项目", "问题及修改要求",
                    "处理")  # fmt: skip
WIDTHS = (5, 10, 7, 16, 16, 14, 56, 6)
HEADER_ROW = 4
_THIN = Side(style="thin", color="808080")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_WRAP = Alignment(wrap_text=True, vertical="top")
_REJECT_FILL = PatternFill("solid", fgColor="FDE9E7")


def write_feedback(path: Path, findings: Sequence[Finding]) -> Path:
    """<name>.errors.xlsx: one row per problem, in Chinese, for the unit that must fix it."""
    wb = Workbook()
    ws = wb.active
    ws.title = "问题清单"
    name = findings[0].file if findings else path.name.removesuffix(".errors.xlsx")
    put(ws, 1, 1, f"{name} 问题清单").font = Font(bold=True, size=14)
    problems = sum(f.severity == CRITICAL for f in findings)
    verdict = (
        "文件已退回：请逐条改正标为“退回”的问题后重新报送；标为“提醒”的请核对。"
        if problems
        else "文件未退回：以下提醒请核对。"
    )
    put(ws, 2, 1, f"共 {counts_text(list(findings))}。{verdict}")
    for row in (1, 2):
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=len(WIDTHS))
        ws.cell(row, 1).alignment = Alignment(wrap_text=True, vertical="center")
    for col, text in enumerate(FEEDBACK_COLUMNS, start=1):
        cell = put(ws, HEADER_ROW, col, text)
        cell.font = Font(bold=True)
        cell.border = _BOX
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for n, f in enumerate(findings, start=1):
        row = HEADER_ROW + n
        values = (n, f.sheet or "（文件）", f.cell, f.label, f.value, rule_name(f.rule), f.message,
                  level(f))  # fmt: skip
        for col, value in enumerate(values, start=1):
            cell = put(ws, row, col, value)
            cell.border, cell.alignment = _BOX, _WRAP
            if f.severity == CRITICAL:
                cell.fill = _REJECT_FILL
    for col, width in enumerate(WIDTHS, start=1):
        ws.column_dimensions[chr(ord("A") + col - 1)].width = width
    ws.freeze_panes = ws.cell(HEADER_ROW + 1, 1)
    fit_rows(ws)
    page_setup(ws, landscape=True, title_rows=(HEADER_ROW, HEADER_ROW), one_page=False,
               margins=Margins(left=1.2, right=1.2))  # fmt: skip
    return save(wb, path)
