"""Every text cell guidefund writes is text: never a live formula, never a character the file
cannot hold, never longer than a cell takes."""

from __future__ import annotations

import csv
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from guidefund import cells
from guidefund.records import Finding
from guidefund.reports.feedback_xlsx import write_feedback

HOSTILE = [
    '=HYPERLINK("http://evil.example","点此")',
    "+1+2",
    "-2+3",
    "@SUM(A1)",
    "\t=1",
    "\r=1",
    "＝1+1",
    "#N/A",
]


def sheet_xml(path: Path) -> str:
    with zipfile.ZipFile(path) as z:
        return "".join(
            z.read(n).decode() for n in z.namelist() if n.startswith("xl/worksheets/sheet")
        )


def test_text_that_looks_like_a_formula_is_stored_as_text_and_reads_back_as_typed(
    tmp_path: Path,
) -> None:
    wb = Workbook()
    for text in HOSTILE:
        cells.append(wb.active, [text, 1])
    path = cells.save(wb, tmp_path / "out.xlsx")
    assert "<f>" not in sheet_xml(path)
    ws = load_workbook(path).active
    assert [ws.cell(r, 1).value for r in range(1, len(HOSTILE) + 1)] == HOSTILE
    assert [ws.cell(r, 1).data_type for r in range(1, len(HOSTILE) + 1)] == ["s"] * len(HOSTILE)
    assert ws.cell(1, 2).value == 1  # numbers stay numbers


def test_characters_xml_cannot_hold_are_replaced_visibly() -> None:
    assert cells.clean("a\x00b\x1fc\x0bd") == "a\ufffdb\ufffdc\ufffdd"
    assert cells.clean("tab\tnewline\nok") == "tab\tnewline\nok"


def test_text_longer_than_a_cell_is_cut_with_a_mark() -> None:
    cut = cells.clean("字" * 40_000)
    assert len(cut) == cells.MAX_CELL
    assert cut.endswith(cells.CUT)


def test_a_workbook_with_a_formula_left_in_it_is_not_written(tmp_path: Path) -> None:
    wb = Workbook()
    wb.active["A1"] = "=1+1"  # written around the helper
    with pytest.raises(ValueError, match=r"refusing to write formulas into x.xlsx: Sheet!A1"):
        cells.save(wb, tmp_path / "x.xlsx")
    assert not (tmp_path / "x.xlsx").exists()


def test_csv_text_gets_an_apostrophe_but_numbers_stay_numbers() -> None:
    assert cells.csv_row(["=1+1", "-0.41", "+5", "-x", "@a", "普通", 3]) == [
        "'=1+1", "-0.41", "+5", "'-x", "'@a", "普通", 3,
    ]  # fmt: skip


def test_feedback_for_a_formula_typed_into_a_number_cell_and_a_hostile_file_name(
    tmp_path: Path,
) -> None:
    name = "=cmd|' /C calc'!A0\x07.xlsx"
    finding = Finding(
        file=name, sheet="资金情况", cell="C5", field="funds_spent", label="实际支出",
        value='=HYPERLINK("http://evil.example")', rule="read.not_number",
        message="实际支出应为数字\x01，请填写金额",
    )  # fmt: skip
    path = write_feedback(tmp_path / "fb.xlsx", [finding])
    assert "<f>" not in sheet_xml(path)
    ws = load_workbook(path).active
    row = [c.value for c in ws[5]]
    assert row[4] == '=HYPERLINK("http://evil.example")'
    assert row[6] == "实际支出应为数字\ufffd，请填写金额"
    assert ws["A1"].value == "=cmd|' /C calc'!A0\ufffd.xlsx 问题清单"


def test_figures_csv_rows_are_neutralised(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerow(cells.csv_row(["=1", "ok"]))
    assert path.read_text(encoding="utf-8").strip() == "'=1,ok"
