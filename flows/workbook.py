"""Read one submission workbook into typed values, every value tied to the cell it came from.

Sheets are found by name and values by label (the cell right of the label), so an inserted row
or a moved block does not shift a value into the wrong field. python-calamine reads these
workbooks about 10x faster than openpyxl (see ../shared/MEASURED.md and benchmarks/).
"""

from __future__ import annotations

import hashlib
import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from openpyxl.utils import column_index_from_string, get_column_letter
from openpyxl.utils.cell import coordinate_from_string
from python_calamine import CalamineError, CalamineWorkbook

from flows.records import CRITICAL, Finding, Submission, Value
from flows.reference import Field, Reference

_FULLWIDTH = str.maketrans("０１２３４５６７８９．，－％：", "0123456789.,-%:")
_PERIOD = re.compile(r"^(\d{4})\s*年\s*(?:度|(\d{1,2})\s*月)$|^(\d{4})-(\d{2})$|^(\d{4})$")
YES_WORDS = {"是", "y", "yes", "√", "1", "true"}
NO_WORDS = {"否", "n", "no", "×", "0", "false"}


CENT = Decimal("0.01")


class NotAWorkbook(Exception):
    """The file cannot be opened as an Excel workbook at all."""


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _clean_label(text: object) -> str:
    return re.sub(r"\s+", "", str(text)).translate(_FULLWIDTH) if text is not None else ""


def read_submission(path: Path, ref: Reference) -> Submission:
    """Read `path`; problems that make a value unusable are recorded, never raised."""
    try:
        wb = CalamineWorkbook.from_path(str(path))
    except (CalamineError, OSError, ValueError) as exc:
        raise NotAWorkbook(
            f"{path.name}: 无法作为 Excel 工作簿打开（{type(exc).__name__}）"
        ) from exc
    sub = Submission(path=path, sha256=sha256_of(path))
    by_sheet: dict[str, list[Field]] = {}
    for f in ref.fields:
        by_sheet.setdefault(f.sheet, []).append(f)
    names = set(wb.sheet_names)
    for sheet, fields in by_sheet.items():
        if sheet not in names:
            sub.problems.append(
                Finding(
                    path.name,
                    sheet,
                    "",
                    "",
                    sheet,
                    "",
                    "read.sheet_missing",
                    f"缺少工作表“{sheet}”。请使用科技厅下发的模板，勿修改工作表名称。",
                )
            )
            continue
        rows = wb.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
        labels = _label_positions(rows)
        for f in fields:
            pos = _locate(rows, labels, f)
            if pos is None:
                sub.problems.append(
                    Finding(
                        path.name,
                        sheet,
                        f.cell,
                        f.key,
                        f.label,
                        "",
                        "read.label_missing",
                        f"找不到标签“{f.label}”。请勿修改或删除模板中的标签文字。",
                    )
                )
                continue
            r, c = pos
            raw = rows[r][c + 1] if c + 1 < len(rows[r]) else ""
            cell = f"{get_column_letter(c + 2)}{r + 1}"
            sub.cells[f.key] = f"{sheet}!{cell}"
            try:
                sub.values[f.key] = parse_value(raw, f, ref.year)
            except ValueError as exc:
                sub.values[f.key] = None
                sub.problems.append(
                    Finding(
                        path.name,
                        sheet,
                        cell,
                        f.key,
                        f.label,
                        _shown(raw),
                        "read.type",
                        str(exc),
                        CRITICAL,
                    )
                )
    return sub


def _locate(
    rows: list[list[object]], labels: dict[str, tuple[int, int]], f: Field
) -> tuple[int, int] | None:
    """The label's cell: where the template put it if it is still there, else wherever it moved."""
    col_letter, row = coordinate_from_string(f.cell)
    r, c = row - 1, column_index_from_string(col_letter) - 2
    if (
        r < len(rows)
        and 0 <= c < len(rows[r])
        and _clean_label(rows[r][c]) == _clean_label(f.label)
    ):
        return r, c
    return labels.get(_clean_label(f.label))


def _label_positions(rows: list[list[object]]) -> dict[str, tuple[int, int]]:
    found: dict[str, tuple[int, int]] = {}
    for r, row in enumerate(rows):
        for c, v in enumerate(row):
            if isinstance(v, str) and v.strip():
                found.setdefault(_clean_label(v), (r, c))
    return found


def _shown(raw: object) -> str:
    return "" if raw is None else str(raw)


def parse_value(raw: object, f: Field, year: int) -> Value:
    """Turn one cell's content into the field's type, or raise ValueError with a Chinese fix."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if f.kind in ("money", "pct"):
        d = _decimal(raw, f)
        if d != d.quantize(CENT):
            raise ValueError(f"{f.label}最多保留两位小数，填写的是 {raw}")
        return d.quantize(CENT)
    if f.kind == "int":
        d = _decimal(raw, f)
        if d != d.to_integral_value():
            raise ValueError(f"{f.label}应为整数，填写的是 {raw}")
        return int(d)
    if f.kind == "yesno":
        word = str(raw).strip().lower()
        if isinstance(raw, float | int) and not isinstance(raw, bool):
            word = str(int(raw)) if raw in (0, 1) else word
        if word in YES_WORDS:
            return True
        if word in NO_WORDS:
            return False
        raise ValueError(f"{f.label}应填写“是”或“否”，填写的是 {raw}")
    if f.kind == "period":
        return parse_period(str(raw), year)
    if f.kind == "date":
        if isinstance(raw, datetime):
            return raw.date()
        if isinstance(raw, date):
            return raw
        try:
            return date.fromisoformat(str(raw).strip().translate(_FULLWIDTH))
        except ValueError:
            raise ValueError(f"{f.label}应为日期（如 {year}-12-31），填写的是 {raw}") from None
    text = str(raw).strip()
    if isinstance(raw, float) and raw == int(raw):
        text = str(int(raw))
    return text


def _decimal(raw: object, f: Field) -> Decimal:
    if isinstance(raw, bool):
        raise ValueError(f"{f.label}应为数字，填写的是 {raw}")
    if isinstance(raw, int | float):
        # repr of a float is the shortest text that round-trips: 8314.25 stays 8314.25.
        return Decimal(repr(raw)) if isinstance(raw, float) else Decimal(raw)
    text = str(raw).strip().translate(_FULLWIDTH).replace(",", "")
    if f.unit and text.endswith(f.unit):
        text = text[: -len(f.unit)].strip()
    try:
        return Decimal(text)
    except InvalidOperation:
        unit = f"（单位：{f.unit}）" if f.unit else ""
        raise ValueError(f"{f.label}应为数字{unit}，填写的是 {raw}") from None


def parse_period(text: str, year: int) -> str:
    """'2024年度' → '2024'; '2024年07月' → '2024-07'."""
    m = _PERIOD.match(text.strip().translate(_FULLWIDTH))
    if not m:
        raise ValueError(f"报告期应为“{year}年度”或“{year}年MM月”，填写的是 {text}")
    y = m.group(1) or m.group(3) or m.group(5)
    month = m.group(2) or m.group(4)
    if month is None:
        return y
    if not 1 <= int(month) <= 12:
        raise ValueError(f"报告期月份应为 1–12，填写的是 {text}")
    return f"{y}-{int(month):02d}"


def period_year(period: str) -> int:
    return int(period[:4])
