"""Read one submission workbook into typed values, every value tied to the cell it came from.

Sheets are found by name and values by label: the value is the cell right of its label (right
of the label's merged range, if merged), so an inserted row or a moved block does not shift a
value into another field. Cached formula results are what python-calamine returns. Cell text
becomes a typed value through flows.normalise, which refuses what is ambiguous.

A workbook whose 模板版本 is missing or not accepted is not read further: its layout is not
ours, and one clear finding ("use the current template") beats thirty about missing labels.

python-calamine reads these workbooks ~10x faster than openpyxl (../shared/MEASURED.md); the
file is read once, for its hash and for calamine.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from python_calamine import CalamineSheet, CalamineWorkbook

from guidefund.expectations import SUBMISSION_SUITE, Context, meta_of, render
from guidefund.intake import guard
from guidefund.intake import normalise as nz
from guidefund.records import CRITICAL, WARNING, Finding, Submission, Value
from guidefund.reference import Field, Reference

TEMPLATE_KEY = "template_version"
TEMPLATE_RULE = "template_version_accepted"
NOT_WORKBOOK = guard.NOT_WORKBOOK
SHEET_MISSING = "read.sheet_missing"
# What the reading workers report when a file kills its worker or outlives the time limit.
CRASHED = "read.crashed"
TIMEOUT = "read.timeout"
FAILED = "read.failed"
# Files with one of these findings are not validated further (nothing in them can be trusted).
FATAL_RULES = frozenset({TEMPLATE_RULE, CRASHED, TIMEOUT, FAILED, *guard.RULES})

Rows = list[list[object]]


class NotAWorkbook(Exception):
    """The file cannot be opened as an Excel workbook at all."""


@dataclass(frozen=True)
class Spot:
    """Where the template puts a field's label (0-based row and column) and its clean text."""

    field: Field
    row: int
    col: int
    label: str


def label_key(text: object) -> str:
    """A label as compared: NFKC, no spaces, no trailing colon, no leading '*' (required mark)."""
    return nz.canonical(str(text)).rstrip(":").lstrip("*") if isinstance(text, str) else ""


def layout(fields: tuple[Field, ...]) -> dict[str, tuple[Spot, ...]]:
    """The template's fields by sheet, in template order, with their label positions."""
    # Keyed by identity: hashing 33 frozen Fields on every file cost more than reading a cell.
    cached = _LAYOUTS.get(id(fields))
    if cached is not None and cached[0] is fields:
        return cached[1]
    built = _layout(fields)
    _LAYOUTS[id(fields)] = (fields, built)
    return built


_LAYOUTS: dict[int, tuple[tuple[Field, ...], dict[str, tuple[Spot, ...]]]] = {}


def cell_position(cell: str) -> tuple[int, int]:
    """'C12' → (11, 2), 0-based row and column (openpyxl's helpers cost a numpy import)."""
    return guard.parse_ref(cell)


def _layout(fields: tuple[Field, ...]) -> dict[str, tuple[Spot, ...]]:
    sheets: dict[str, list[Spot]] = {}
    for f in fields:
        row, col = cell_position(f.cell)
        spot = Spot(f, row, col - 1, label_key(f.label))
        sheets.setdefault(f.sheet, []).append(spot)
    return {name: tuple(spots) for name, spots in sheets.items()}


def open_workbook(path: Path, data: bytes) -> CalamineWorkbook:
    """calamine over the bytes; anything it cannot open (a PDF, a broken zip, an encrypted
    file, a panic inside the Rust reader) is NotAWorkbook."""
    try:
        return CalamineWorkbook.from_filelike(io.BytesIO(data))
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # noqa: BLE001 - pyo3 panics derive from BaseException
        raise NotAWorkbook(
            f"{path.name} 无法作为 Excel 工作簿打开（{type(exc).__name__}）"
        ) from exc


def read_submission(path: Path, ref: Reference) -> Submission:
    """Read `path`; problems that make a value unusable are recorded as findings, never raised
    (except NotAWorkbook, and OSError when the file cannot be read at all)."""
    return read_bytes(path, path.read_bytes(), ref)


def read_bytes(path: Path, data: bytes, ref: Reference) -> Submission:
    """Read a workbook's bytes (`path` names it in findings)."""
    sub = Submission(path=path, sha256=hashlib.sha256(data).hexdigest())
    wb = open_workbook(path, data)
    sheets = layout(ref.fields)
    found = _match_sheets(wb, sheets, sub)
    for name, spots in sheets.items():
        if name not in found:
            if any(s.field.key == TEMPLATE_KEY for s in spots):
                return _wrong_template(sub, ref)
            message = _no_sheet(name, wb)
            sub.problems.append(_finding(sub, name, "", None, "", SHEET_MISSING, message))
            continue
        actual, grid = found[name]
        for spot in spots:
            _read_field(sub, ref, actual, grid, spot)
            if spot.field.key == TEMPLATE_KEY and sub.values.get(TEMPLATE_KEY) not in (
                ref.template_versions
            ):
                return _wrong_template(sub, ref)
    return sub


def _no_sheet(name: str, wb: CalamineWorkbook) -> str:
    names = "、".join(f"“{n}”" for n in wb.sheet_names)
    return (
        f"缺少工作表“{name}”（本文件的工作表：{names}）；请使用科技厅下发的模板，勿修改工作表名称"
    )


def _match_sheets(
    wb: CalamineWorkbook, sheets: Mapping[str, tuple[Spot, ...]], sub: Submission
) -> dict[str, tuple[str, _Grid]]:
    """Template sheet → (its name in the workbook, its cells). A name with stray spaces or
    full-width characters is the same sheet; a renamed sheet is found by its labels when exactly
    one unclaimed sheet holds them (a warning, so staff know the template was altered)."""
    by_key = {nz.canonical(n): n for n in wb.sheet_names}
    out: dict[str, tuple[str, _Grid]] = {}
    for template in sheets:
        name = by_key.get(nz.canonical(template))
        if name is not None:
            out[template] = (name, _Grid(wb.get_sheet_by_name(name)))
    for template, spots in sheets.items():
        if template in out:
            continue
        claimed = {name for name, _ in out.values()}
        labels = {s.label for s in spots}
        holders = []
        for name in wb.sheet_names:
            if name not in claimed:
                grid = _Grid(wb.get_sheet_by_name(name))
                if labels & grid.labels().keys():
                    holders.append((name, grid))
        if len(holders) == 1:
            out[template] = holders[0]
            name = holders[0][0]
            message = f"工作表“{template}”被改名为“{name}”，已按标签读取；请勿修改模板的工作表名称"
            sub.problems.append(
                _finding(sub, name, "", None, "", "read.sheet_renamed", message, WARNING)
            )
    return out


class _Grid:
    """One sheet's cells (rows from A1), its merged ranges, and a label index built on demand."""

    def __init__(self, sheet: CalamineSheet):
        self.rows: Rows = sheet.to_python(skip_empty_area=False)
        merged = sheet.merged_cell_ranges or []
        self.merged_end = {start: end for start, end in merged}
        self.top_left = {
            (r, c): start
            for start, end in merged
            for r in range(start[0], end[0] + 1)
            for c in range(start[1], end[1] + 1)
        }
        self._labels: dict[str, list[tuple[int, int]]] | None = None

    def get(self, r: int, c: int) -> object:
        if self.top_left:
            r, c = self.top_left.get((r, c), (r, c))
        row = self.rows[r] if r < len(self.rows) else ()
        return row[c] if 0 <= c < len(row) else None

    def labels(self) -> dict[str, list[tuple[int, int]]]:
        if self._labels is None:
            self._labels = {}
            for r, row in enumerate(self.rows):
                for c, v in enumerate(row):
                    if isinstance(v, str) and v.strip():
                        self._labels.setdefault(label_key(v), []).append((r, c))
        return self._labels

    def value_cell(self, r: int, c: int) -> tuple[int, int]:
        """The cell right of the label, or right of the label's merged range."""
        end = self.merged_end.get((r, c))
        return r, (end[1] if end else c) + 1


@lru_cache(maxsize=4096)
def _address(r: int, c: int) -> str:
    return f"{guard.column_letters(c)}{r + 1}"


def _read_field(sub: Submission, ref: Reference, sheet: str, grid: _Grid, spot: Spot) -> None:
    f = spot.field
    at = grid.get(spot.row, spot.col)
    if at == f.label or label_key(at) == spot.label:
        pos = (spot.row, spot.col)
    else:
        places = grid.labels().get(spot.label, [])
        if len(places) != 1:
            where = "、".join(_address(r, c) for r, c in places)
            message = (
                f"找到多个“{f.label}”标签（{where}），无法确定填报值；请删除重复的行后重新报送"
                if places
                else f"找不到标签“{f.label}”；请勿修改或删除模板中的标签文字"
            )
            rule = "read.label_duplicate" if places else "read.label_missing"
            sub.problems.append(_finding(sub, sheet, f.cell, f, "", rule, message))
            return
        pos = places[0]
    r, c = grid.value_cell(*pos)
    raw = grid.get(r, c)
    cell = _address(*grid.top_left.get((r, c), (r, c)))
    sub.cells[f.key] = f"{sheet}!{cell}"
    try:
        sub.values[f.key] = parse_value(raw, f, ref.year)
    except nz.Refused as exc:
        sub.values[f.key] = None
        sub.problems.append(
            _finding(sub, sheet, cell, f, nz.clean_text(raw) or "", exc.rule, f"{f.label}{exc}")
        )


def _wrong_template(sub: Submission, ref: Reference) -> Submission:
    """The one finding for a workbook that is not an accepted template (worded by the suite):
    it replaces whatever reading its 模板版本 found, and nothing else is read."""
    f = ref.field(TEMPLATE_KEY)
    sheet, cell = sub.cells.get(TEMPLATE_KEY, f"{f.sheet}!{f.cell}").rsplit("!", 1)
    value = nz.clean_text(sub.values.get(TEMPLATE_KEY))
    context = Context(label=f.label, value=value or "空", allowed="、".join(ref.template_versions))
    message = render(meta_of(SUBMISSION_SUITE, TEMPLATE_RULE), context)
    sub.problems[:] = [p for p in sub.problems if p.field != TEMPLATE_KEY]
    sub.problems.append(_finding(sub, sheet, cell, f, value or "", TEMPLATE_RULE, message))
    return sub


def _finding(
    sub: Submission,
    sheet: str,
    cell: str,
    f: Field | None,
    value: str,
    rule: str,
    message: str,
    severity: str = CRITICAL,
) -> Finding:
    return Finding(
        file=sub.file_name,
        sheet=sheet,
        cell=cell,
        field=f.key if f else "",
        label=f.label if f else sheet,
        value=value,
        rule=rule,
        message=message,
        severity=severity,
    )


def parse_value(raw: object, f: Field, year: int) -> Value:
    """One cell's content as the field's type (flows.normalise), or nz.Refused with the fix."""
    if nz.is_blank(raw):
        return None
    if f.kind == "money":
        return nz.money(raw, f.unit or "万元")
    if f.kind == "pct":
        return nz.percent(raw)
    if f.kind == "int":
        return nz.count(raw, f.unit)
    if f.kind == "yesno":
        return nz.yes_no(raw)
    if f.kind == "period":
        return nz.period(raw, year)
    if f.kind == "date":
        return nz.a_date(raw)
    if f.kind == "grade":
        return _fits(f, nz.grade(raw))
    text = nz.clean_text(raw)
    return _fits(f, nz.halfwidth(text) if text is not None and f.key == TEMPLATE_KEY else text)


# Text the warehouse stores in bounded columns (warehouse/models.py; a test keeps the two in
# step): longer text is a finding here, not a failed transaction for the whole chunk there.
# Any other text is bounded by what one Excel cell holds.
TEXT_LIMITS = {"contact": 100, "phone": 50, "self_grade": 10, "template_version": 50}
CELL_TEXT_MAX = 32_767


def _fits(f: Field, text: str | None) -> str | None:
    limit = TEXT_LIMITS.get(f.key, CELL_TEXT_MAX)
    if text is not None and len(text) > limit:
        raise nz.Refused(
            "read.text_too_long",
            f"最多 {limit} 个字符，填写了 {len(text)} 个字符；请删减后重新报送",
        )
    return text
