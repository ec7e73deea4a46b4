"""<name>.errors.xlsx: the feedback workbook a unit gets back with a rejected file."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from guidefund.cells import append, save
from guidefund.records import CRITICAL, Finding

FEEDBACK_COLUMNS = ("工作表", "单元格", "字段", "填写的值", "规则", "问题及修改要求", "级别")


def write_feedback(path: Path, findings: Sequence[Finding]) -> Path:
    """<name>.errors.xlsx: one row per problem, in Chinese, for the unit that must fix it."""
    wb = Workbook()
    ws = wb.active
    ws.title = "问题清单"
    append(ws, FEEDBACK_COLUMNS)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for f in findings:
        level = "退回" if f.severity == CRITICAL else "提醒"
        append(ws, [f.sheet, f.cell, f.label, f.value, f.rule, f.message, level])
    for col, width in zip("ABCDEFG", (12, 8, 28, 18, 28, 80, 8), strict=True):
        ws.column_dimensions[col].width = width
    for row in ws.iter_rows(min_row=2, min_col=6, max_col=6):
        row[0].alignment = Alignment(wrap_text=True, vertical="top")
    ws.freeze_panes = "A2"
    return save(wb, path)
