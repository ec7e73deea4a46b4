"""How a worksheet prints: A4, orientation, fit to the page width, repeated header rows, margins,
and row heights computed from the text each row holds.

Neither openpyxl nor a spreadsheet program sizes a row to wrapped text that it did not lay out
itself (Excel never does for merged cells; LibreOffice keeps an explicit height), so a long 总体目标
or a unit's reason is cut off unless the row is made tall enough here. The estimate is the
spreadsheet's own unit arithmetic, kept on the safe side:

* a column width is counted in widths of the digit 0 of an 11-point font; a CJK character of an
  11-point font is about 2 of them in Excel and WPS (1.6 in LibreOffice), a Latin letter or
  digit about 1.1; both scale with the font size;
* a wrapped line is about 1.3 × the font size in points, plus a little padding per cell.

Every writer of a printed form (the 自评表, the 汇总表, errors.xlsx, the template) uses `fit_rows`
and `page_setup`, so no text cell needs more height than its rows give.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

BASE_SIZE = 11.0
CJK_UNITS = 2.0  # width units per wide character at 11 pt
NARROW_UNITS = 1.1  # per Latin letter, digit or space at 11 pt
CELL_PADDING_UNITS = 1.0  # the cell's inner margins, left and right together
LINE_FACTOR = 1.3
ROW_PADDING_PT = 4.0
DEFAULT_WIDTH = 8.43  # a column nobody sized
DEFAULT_HEIGHT = 15.0  # a row nobody sized, in points
# A4 in points and how a column width unit prints (Excel: 7 px + 5 px padding at 96 dpi, 5.25 pt;
# LibreOffice a little more, measured 5.5 pt): the larger, so an estimate never overflows.
A4_SHORT, A4_LONG = 595.0, 842.0
POINTS_PER_UNIT, POINTS_PER_COLUMN = 5.6, 3.75
# Below this scale an 11-point form prints smaller than 7 points: better a second page.
MIN_ONE_PAGE_SCALE = 0.62


def char_units(ch: str, size: float = BASE_SIZE) -> float:
    """Width of one character in column-width units at `size` points."""
    wide = unicodedata.east_asian_width(ch) in ("W", "F")
    return (CJK_UNITS if wide else NARROW_UNITS) * size / BASE_SIZE


def lines_needed(text: str, width: float, size: float = BASE_SIZE) -> int:
    """How many lines `text` wraps to in a cell `width` units wide (each newline starts one).

    Wraps character by character, as spreadsheet programs do for CJK text; Latin words that
    would break at a space take at most as many lines as this counts."""
    room = max(width - CELL_PADDING_UNITS, 1.0)
    total = 0
    for part in text.split("\n"):
        lines, used = 1, 0.0
        for ch in part:
            w = char_units(ch, size)
            if used + w > room and used > 0:
                lines, used = lines + 1, 0.0
            used += w
        total += lines
    return total


def line_height(size: float = BASE_SIZE) -> float:
    return LINE_FACTOR * size


def height_for(text: str, width: float, size: float = BASE_SIZE) -> float:
    """Points a wrapped `text` needs in a cell `width` units wide."""
    return lines_needed(text, width, size) * line_height(size) + ROW_PADDING_PT


def column_width(ws: Worksheet, column: int) -> float:
    dim = ws.column_dimensions.get(get_column_letter(column))
    return float(dim.width) if dim is not None and dim.width else DEFAULT_WIDTH


def row_height(ws: Worksheet, row: int) -> float:
    dim = ws.row_dimensions.get(row)
    return float(dim.height) if dim is not None and dim.height else DEFAULT_HEIGHT


@dataclass(frozen=True)
class Block:
    """A text cell as printed: its rows, its width in units and what it needs."""

    coordinate: str
    first_row: int
    last_row: int
    width: float
    size: float
    text: str

    @property
    def needed(self) -> float:
        return height_for(self.text, self.width, self.size)


def text_blocks(ws: Worksheet) -> list[Block]:
    """Every non-empty text cell of `ws` with the area it prints in (a merged range counts
    once, with the width of all its columns and the rows it spans)."""
    spans = {}
    for r in ws.merged_cells.ranges:
        spans[(r.min_row, r.min_col)] = (r.max_row, r.max_col)
    blocks = []
    for row in ws.iter_rows():
        for cell in row:
            if not isinstance(cell.value, str) or not cell.value:
                continue  # merged cells other than the first hold None
            last_row, last_col = spans.get((cell.row, cell.column), (cell.row, cell.column))
            width = sum(column_width(ws, c) for c in range(cell.column, last_col + 1))
            size = float(cell.font.sz or BASE_SIZE) if cell.font is not None else BASE_SIZE
            blocks.append(Block(cell.coordinate, cell.row, last_row, width, size, cell.value))
    return blocks


def fit_rows(ws: Worksheet, minimum: float = DEFAULT_HEIGHT) -> None:
    """Give every row the height its text needs (at least `minimum` when it holds text; a row
    already taller, or one whose text fits the default height, is left as it is).

    Cells within one row first; then each merged range over several rows gets what is still
    missing added to its last row."""
    blocks = text_blocks(ws)
    heights: dict[int, float] = {}
    for b in blocks:
        if b.first_row == b.last_row:
            heights[b.first_row] = max(heights.get(b.first_row, minimum), b.needed)
    for row, height in heights.items():
        # A row that fits the default height keeps none, so Excel still grows it while typing.
        if height > row_height(ws, row):
            ws.row_dimensions[row].height = math.ceil(height)
    for b in sorted(blocks, key=lambda b: b.last_row - b.first_row):
        if b.first_row == b.last_row:
            continue
        have = sum(row_height(ws, r) for r in range(b.first_row, b.last_row + 1))
        if have < b.needed:
            last = ws.row_dimensions[b.last_row]
            last.height = math.ceil(row_height(ws, b.last_row) + b.needed - have)


def clipped(ws: Worksheet) -> list[str]:
    """Text cells that need more height than their rows give (empty after `fit_rows`)."""
    return [
        f"{ws.title}!{b.coordinate}"
        for b in text_blocks(ws)
        if sum(row_height(ws, r) for r in range(b.first_row, b.last_row + 1)) < b.needed
    ]


@dataclass(frozen=True)
class Margins:
    """Page margins in centimetres."""

    left: float = 1.5
    right: float = 1.5
    top: float = 1.5
    bottom: float = 1.5


CM_PER_INCH = 2.54
POINTS_PER_CM = 72 / CM_PER_INCH


def printed_size(ws: Worksheet, last_column: int) -> tuple[float, float]:
    """Width and height (points) of the used area as printed at 100 %."""
    width = sum(
        column_width(ws, c) * POINTS_PER_UNIT + POINTS_PER_COLUMN for c in range(1, last_column + 1)
    )
    height = sum(row_height(ws, r) for r in range(1, ws.max_row + 1))
    return width, height


def one_page_scale(ws: Worksheet, landscape: bool, margins: Margins, last_column: int) -> float:
    """The scale at which the used area fits one A4 page (1 when it fits as it is)."""
    page_w, page_h = (A4_LONG, A4_SHORT) if landscape else (A4_SHORT, A4_LONG)
    room_w = page_w - (margins.left + margins.right) * POINTS_PER_CM
    room_h = page_h - (margins.top + margins.bottom + 1.6) * POINTS_PER_CM  # header and footer
    width, height = printed_size(ws, last_column)
    return min(1.0, room_w / width, room_h / height)


def page_setup(
    ws: Worksheet,
    *,
    landscape: bool,
    title_rows: tuple[int, int] | None = None,
    margins: Margins | None = None,
    one_page: bool | None = None,
    last_column: int | None = None,
) -> bool:
    """A4, `landscape` or portrait, one page wide, centred, `title_rows` repeated on every page.

    `one_page` True fits the whole sheet on one page; None decides: one page when that keeps
    the print at MIN_ONE_PAGE_SCALE or larger, else as many pages down as the text needs. Call it
    after `fit_rows`. Returns whether the sheet was fitted to one page."""
    margins = margins or Margins()
    last_column = last_column or ws.max_column
    if one_page is None:
        one_page = one_page_scale(ws, landscape, margins, last_column) >= MIN_ONE_PAGE_SCALE
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 1 if one_page else 0  # 0: as many pages down as needed
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = margins.left / CM_PER_INCH
    ws.page_margins.right = margins.right / CM_PER_INCH
    ws.page_margins.top = margins.top / CM_PER_INCH
    ws.page_margins.bottom = margins.bottom / CM_PER_INCH
    ws.page_margins.header = ws.page_margins.footer = 0.3
    ws.print_area = f"A1:{get_column_letter(last_column)}{ws.max_row}"
    if title_rows is not None:
        ws.print_title_rows = f"{title_rows[0]}:{title_rows[1]}"
    ws.oddFooter.center.text = "第 &P 页，共 &N 页"
    ws.oddFooter.center.size = 9
    return one_page


_THIN = Side(style="thin", color="808080")
BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
DATE_TIME = "yyyy-mm-dd hh:mm:ss"


def table_sheet(
    ws: Worksheet, formats: Mapping[int, str], widths: Sequence[int], size: float = 10
) -> None:
    """A listing sheet laid out for print: row 1 its title, row 2 the header (bold, centred,
    repeated on every page), rows 3… boxed and wrapped, column c (1-based) in the number format
    `formats[c]`, dates and times shown whole; the columns `widths` wide; landscape A4, one page
    wide, the header frozen."""
    for cell in ws[2]:
        cell.font = Font(bold=True, size=size)
        cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
        cell.border = BOX
    for row in ws.iter_rows(min_row=3):
        for col, number_format in formats.items():
            row[col - 1].number_format = number_format
        for cell in row:
            cell.font = Font(size=size)
            cell.border = BOX
            cell.alignment = Alignment(wrap_text=True, vertical="center")
            if getattr(cell, "is_date", False):  # a merged cell has no value of its own
                cell.number_format = DATE_TIME
    for i, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.freeze_panes = "A3"
    fit_rows(ws)
    page_setup(ws, landscape=True, title_rows=(2, 2), one_page=False, last_column=len(widths))
