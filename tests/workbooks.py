"""Build and alter workbooks in tests."""

from __future__ import annotations

from pathlib import Path

from openpyxl import load_workbook


def set_cell(path: Path, sheet: str, cell: str, value: object) -> None:
    wb = load_workbook(path)
    wb[sheet][cell] = value
    wb.save(path)
