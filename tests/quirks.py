"""Build the odd workbooks units send, in code: a valid submission from literal values, then one
quirk applied with openpyxl (or, for what openpyxl cannot write, by editing the sheet XML)."""

from __future__ import annotations

import re
import zipfile
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from guidefund.intake.template import write_submission
from guidefund.records import Value
from guidefund.reference import Reference


def valid_values(ref: Reference, no: int) -> dict[str, Value]:
    """What a unit fills in for plan project `no`: an annual report every suite accepts."""
    p = ref.project(no)
    assert p is not None
    spent = p.allocation if p.support_mode == "直接补助" else Decimal("0")
    return {
        "period": f"{ref.year}年度",
        "filled_date": date(ref.year + 1, 1, 15),
        "contact": "王芳",
        "phone": "0991-1234567",
        "funds_received": p.allocation,
        "funds_spent": spent,
        "funds_on_time": p.allocation,
        "self_raised": max(Decimal(3) * p.allocation, Decimal(100)),
        "local_east_west": Decimal("0"),
        "financing": Decimal("0"),
        "achievements": 2,
        "east_west": False,
        "central_local": False,
        "hightech_firms": 1,
        "sme_firms": 3,
        "contract_value": Decimal("12.5"),
        "trained_staff": 40,
        "consulting": 25,
        "rural": True,
        "brokers": 0,
        "capability": Decimal("90"),
        "satisfaction": Decimal("95"),
        "self_grade": "良",
        "deviation_reason": None,
    }


def submission_file(ref: Reference, no: int, out: Path, **changes: Value) -> Path:
    """A valid filled workbook for project `no` at `out`, with `changes` written as typed."""
    values = {**valid_values(ref, no), **changes}
    return write_submission(ref, _project(ref, no), out, values)


def _project(ref: Reference, no: int) -> Any:
    p = ref.project(no)
    assert p is not None
    return p


def edit(path: Path, sheet: str, **cells: object) -> Path:
    """Overwrite cells (C5=..., B5=...) of one sheet, as a unit typing into Excel would."""
    wb = load_workbook(path)
    for cell, value in cells.items():
        wb[sheet][cell] = value
    wb.save(path)
    return path


def insert_rows(path: Path, sheet: str, before: int, count: int = 1) -> Path:
    wb = load_workbook(path)
    wb[sheet].insert_rows(before, count)
    wb.save(path)
    return path


def move_block(path: Path, sheet: str, cells: str, rows: int = 0, cols: int = 0) -> Path:
    wb = load_workbook(path)
    wb[sheet].move_range(cells, rows=rows, cols=cols)
    wb.save(path)
    return path


def merge(path: Path, sheet: str, cells: str) -> Path:
    wb = load_workbook(path)
    wb[sheet].merge_cells(cells)
    wb.save(path)
    return path


def rename_sheet(path: Path, old: str, new: str) -> Path:
    wb = load_workbook(path)
    wb[old].title = new
    wb.save(path)
    return path


def delete_sheet(path: Path, sheet: str) -> Path:
    wb = load_workbook(path)
    del wb[sheet]
    wb.save(path)
    return path


def _sheet_xml(z: zipfile.ZipFile, sheet: str) -> str:
    """The part name of a sheet, through workbook.xml and its relationships."""
    book = z.read("xl/workbook.xml").decode()
    rid = re.search(rf'<sheet [^>]*name="{re.escape(sheet)}"[^>]*r:id="([^"]+)"', book)
    assert rid, sheet
    rels = z.read("xl/_rels/workbook.xml.rels").decode()
    target = re.search(
        rf'<Relationship [^>]*Id="{rid[1]}"[^>]*Target="([^"]+)"', rels
    ) or re.search(rf'<Relationship [^>]*Target="([^"]+)"[^>]*Id="{rid[1]}"', rels)
    assert target, rid[1]
    return "xl/" + target[1].lstrip("/").removeprefix("xl/")


def formula(path: Path, sheet: str, cell: str, expression: str, cached: object = None) -> Path:
    """Put `=expression` in `cell`, with `cached` as the value Excel saved for it (None: no
    cached value, as a file written by a program that does not calculate)."""
    edit(path, sheet, **{cell: f"={expression}"})
    with zipfile.ZipFile(path) as z:
        items = [(info, z.read(info.filename)) for info in z.infolist()]
        part = _sheet_xml(z, sheet)
    pattern = re.compile(rf'(<c r="{cell}"[^>]*>)<f>([^<]*)</f>(<v\s*/>|<v>[^<]*</v>)?')
    value = "" if cached is None else f"<v>{cached}</v>"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for info, data in items:
            if info.filename == part:
                xml, n = pattern.subn(lambda m: f"{m[1]}<f>{m[2]}</f>{value}", data.decode())
                assert n == 1, (cell, n)
                data = xml.encode()
            z.writestr(info, data)
    return path
