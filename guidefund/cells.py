"""Every text cell guidefund writes, made safe: never a live formula, never a character the file
format cannot hold, never longer than a cell takes.

Units type what they like, and file names are values too: `=HYPERLINK(...)` typed into a number
cell comes back in the feedback workbook, a file named `=1+1.xlsx` is listed in the 汇总表. So
every writer (the .xlsx forms, the CSV files, the report draft) puts text through this module:

* a text cell of a workbook is stored as a string (`t="s"`), never as a formula or an error code,
  and when it starts like a formula (= + - @, tab, carriage return, or their full-width forms) it
  also gets Excel's quote prefix, so editing the cell does not turn it into one either;
* in a CSV such text gets a leading apostrophe (the usual defence: a spreadsheet shows it as text),
  except plain numbers such as -0.41, which stay numbers;
* characters XML 1.0 cannot hold (control characters) are replaced by U+FFFD, visibly, instead of
  failing the run; text beyond a cell's 32,767 characters is cut with a visible mark.

`save` is the last line of defence: it refuses to write a workbook with a formula cell left in it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from openpyxl.cell.cell import Cell
from openpyxl.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
MAX_CELL = 32_767
CUT = "…（已截断）"
REPLACEMENT = "\ufffd"
# What XML 1.0 cannot hold (and openpyxl refuses): C0 controls but tab, newline and CR; and the
# surrogates and non-characters a Python str can still carry.
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def clean(text: str, limit: int = MAX_CELL) -> str:
    """`text` with unwritable characters replaced and cut to `limit` characters."""
    text = _ILLEGAL.sub(REPLACEMENT, text)
    return text if len(text) <= limit else text[: limit - len(CUT)] + CUT


def looks_like_formula(text: str) -> bool:
    return text.startswith(FORMULA_START)


def _is_number(text: str) -> bool:
    try:
        Decimal(text.replace(",", ""))
    except InvalidOperation:
        return False
    return True


def csv_text(value: Any) -> Any:
    """A value for a CSV row: text cleaned, and neutralised when a spreadsheet would evaluate it."""
    if not isinstance(value, str):
        return value
    text = clean(value)
    if looks_like_formula(text) and not _is_number(text):
        return "'" + text
    return text


def csv_row(values: Iterable[Any]) -> list[Any]:
    return [csv_text(v) for v in values]


def put(ws: Worksheet, row: int, column: int, value: Any) -> Cell:
    """Write one cell: numbers, dates and booleans as they are, text as text (see module doc)."""
    cell = ws.cell(row=row, column=column)
    if isinstance(value, str):
        text = clean(value)
        cell.value = text
        cell.data_type = "s"  # openpyxl would make '=…' a formula and '#N/A' an error
        if looks_like_formula(text):
            cell.quotePrefix = True
    else:
        cell.value = value
    return cell


def append(ws: Worksheet, values: Sequence[Any]) -> int:
    """Write `values` as the next row (as Worksheet.append does); the row's number."""
    row = ws._current_row + 1  # where Worksheet.append would write
    for column, value in enumerate(values, start=1):
        put(ws, row, column, value)
    return row


def formulas(wb: Workbook) -> list[str]:
    """Every formula cell of `wb`, as 'sheet!A1'."""
    return [
        f"{ws.title}!{cell.coordinate}"
        for ws in wb.worksheets
        for row in ws.iter_rows()
        for cell in row
        if cell.data_type == "f"
    ]


def save(wb: Workbook, path: Path) -> Path:
    """Save `wb` to `path` (its folder made); refuses a workbook that holds a formula."""
    found = formulas(wb)
    if found:
        raise ValueError(f"refusing to write formulas into {path.name}: {', '.join(found[:5])}")
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path
