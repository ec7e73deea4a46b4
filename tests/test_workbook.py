"""Reading real-world workbooks: one fixture per quirk, built in code, each asserting the exact
value read or the exact finding (sheet, cell, rule)."""

from __future__ import annotations

import shutil
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from guidefund.intake.batch import read_batch
from guidefund.intake.workbook import NotAWorkbook, read_submission
from guidefund.records import CRITICAL, WARNING, Finding
from guidefund.reference import Reference

from .quirks import (
    delete_sheet,
    edit,
    formula,
    insert_rows,
    merge,
    move_block,
    rename_sheet,
    submission_file,
)

FUNDS, INFO, INDICATORS, SELF = "资金情况", "基本信息", "绩效指标", "自评"


def where(findings: list[Finding]) -> list[tuple[str, str, str, str]]:
    return [(f.sheet, f.cell, f.rule, f.severity) for f in findings]


@pytest.fixture
def wb46(tmp_path: Path, ref: Reference) -> Path:
    """A valid annual submission of project 46 (新疆工程学院, 直接补助, 200 万元)."""
    return submission_file(ref, 46, tmp_path / "046.xlsx")


def test_a_valid_submission_reads_every_field_typed_with_its_cell(
    wb46: Path, ref: Reference
) -> None:
    sub = read_submission(wb46, ref)
    assert sub.problems == []
    assert sub.values["project_no"] == 46
    assert sub.values["allocation"] == Decimal("200.00")
    assert sub.values["period"] == "2024"
    assert sub.values["filled_date"] == date(2025, 1, 15)
    assert sub.values["east_west"] is False and sub.values["rural"] is True
    assert sub.values["satisfaction"] == Decimal("95.00")
    assert sub.values["achievements"] == 2
    assert sub.cells["funds_spent"] == "资金情况!C5"
    assert len(sub.sha256) == 64


# ----------------------------------------------------------------------------- typed by hand


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        ("１２３．４５", Decimal("123.45")),  # full-width digits and point
        ("30万元", Decimal("30.00")),
        ("300000元", Decimal("30.00")),
        ("1,234.5", Decimal("1234.50")),
        ("１，２３４．５万元", Decimal("1234.50")),
        ("  88.8 ", Decimal("88.80")),
    ],
)
def test_money_typed_as_text_is_read_as_meant(
    wb46: Path, ref: Reference, typed: str, read: Decimal
) -> None:
    sub = read_submission(edit(wb46, FUNDS, C7=typed), ref)
    assert (sub.values["self_raised"], sub.problems) == (read, [])


@pytest.mark.parametrize(
    ("cell", "typed", "key", "read"),
    [
        ("C4", "12项", "achievements", 12),
        ("C10", "40人次", "trained_staff", 40),
        ("C7", "3家", "hightech_firms", 3),
        ("C15", 0.95, "satisfaction", Decimal("95.00")),  # a cell formatted as %
        ("C15", "95%", "satisfaction", Decimal("95.00")),
        ("C15", "９５％", "satisfaction", Decimal("95.00")),
        ("C14", 85, "capability", Decimal("85.00")),
        ("C5", "Y", "east_west", True),
        ("C5", "√", "east_west", True),
        ("C12", "×", "rural", False),
        ("C12", 0, "rural", False),
        ("C6", True, "central_local", True),  # an Excel TRUE
    ],
)
def test_indicators_typed_in_any_common_form_are_read_as_meant(
    wb46: Path, ref: Reference, cell: str, typed: object, key: str, read: object
) -> None:
    sub = read_submission(edit(wb46, INDICATORS, **{cell: typed}), ref)
    assert (sub.values[key], sub.problems) == (read, [])


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        (45672, date(2025, 1, 15)),  # a date serial without a date format
        ("2025/1/15", date(2025, 1, 15)),
        ("2025年1月15日", date(2025, 1, 15)),
        ("２０２５－０１－１５", date(2025, 1, 15)),
        (datetime(2025, 1, 15), date(2025, 1, 15)),
    ],
)
def test_dates_are_read_from_serials_and_text(
    wb46: Path, ref: Reference, typed: object, read: date
) -> None:
    sub = read_submission(edit(wb46, INFO, C14=typed), ref)
    assert (sub.values["filled_date"], sub.problems) == (read, [])


@pytest.mark.parametrize(
    ("typed", "read"),
    [("2024年7月", "2024-07"), (datetime(2024, 7, 1), "2024-07"), (" 2024年度 ", "2024")],
)
def test_the_period_is_read_as_a_year_or_month(
    wb46: Path, ref: Reference, typed: object, read: str
) -> None:
    """Excel turns a typed 2024-07 into the date 2024-07-01: that is July."""
    sub = read_submission(edit(wb46, INFO, C13=typed), ref)
    assert (sub.values["period"], sub.problems) == (read, [])


def test_stray_spaces_and_a_phone_number_typed_as_a_number(wb46: Path, ref: Reference) -> None:
    sub = read_submission(edit(wb46, INFO, C15=" 王 芳\u3000", C16=13912345678), ref)
    assert (sub.values["contact"], sub.values["phone"]) == ("王 芳", "13912345678")


def test_a_grade_written_out_is_the_grade(wb46: Path, ref: Reference) -> None:
    assert read_submission(edit(wb46, SELF, C4="优秀"), ref).values["self_grade"] == "优"


@pytest.mark.parametrize(
    ("sheet", "cell", "typed", "rule", "message"),
    [
        (INDICATORS, "C15", 1, "read.percent_ambiguous",
         "服务对象满意度填写的是 1，无法确定是 1% 还是 100%；100% 请填写 100，1% 请填写“1%”"),
        (INDICATORS, "C4", "5家", "read.unit",
         "转化科技成果数量单位应为项，填写的是“5家”；请只填写数字（单位：项）"),
        (FUNDS, "C7", "300050元", "read.money_precision",
         "自筹及带动社会投入折合 30.005 万元，超过两位小数；请以万元为单位填写并保留两位小数"),
        (FUNDS, "C7", "1,23", "read.thousands",
         "自筹及带动社会投入“1,23”中的逗号不是千位分隔（无法确定数值）；请直接填写数字，如 1234.5"),
        (FUNDS, "C5", "约二十万", "read.number",
         "实际支出应填写数字（单位：万元），填写的是“约二十万”"),
        (INDICATORS, "C5", "有", "read.yes_no", "东西部科技合作项目应填写“是”或“否”，填写的是“有”"),
        (INFO, "C14", "01/02/2025", "read.date_ambiguous",
         "填报日期“01/02/2025”无法确定年月日的顺序；请按“年-月-日”填写，如 2025-01-15"),
        (INFO, "C13", "下半年", "read.period",
         "报告期应为年度或月份，填写的是“下半年”；请从下拉列表选择，如“2024年度”或“2024年07月”"),
    ],
)  # fmt: skip
def test_what_is_ambiguous_is_refused_at_its_cell_with_the_fix(
    wb46: Path, ref: Reference, sheet: str, cell: str, typed: object, rule: str, message: str
) -> None:
    sub = read_submission(edit(wb46, sheet, **{cell: typed}), ref)
    [finding] = sub.problems
    assert (finding.sheet, finding.cell, finding.rule, finding.severity) == (
        sheet,
        cell,
        rule,
        CRITICAL,
    )
    assert finding.message == message
    assert finding.value == str(typed).strip()
    assert sub.values[finding.field] is None


# ----------------------------------------------------------------------------- layout


def test_an_inserted_row_moves_the_value_and_the_reported_cell(wb46: Path, ref: Reference) -> None:
    sub = read_submission(insert_rows(edit(wb46, FUNDS, C5=150), FUNDS, before=5, count=2), ref)
    assert (sub.values["funds_spent"], sub.cells["funds_spent"]) == (
        Decimal("150.00"),
        "资金情况!C7",
    )
    assert sub.cells["funds_received"] == "资金情况!C4"
    assert sub.problems == []


def test_a_moved_block_is_found_by_its_labels(wb46: Path, ref: Reference) -> None:
    sub = read_submission(move_block(wb46, FUNDS, "B4:E9", rows=10, cols=2), ref)
    assert sub.cells["funds_spent"] == "资金情况!E15"
    assert sub.values["funds_spent"] == Decimal("200.00")
    assert sub.problems == []


def test_a_label_merged_across_two_columns_still_has_its_value_to_the_right(
    wb46: Path, ref: Reference
) -> None:
    path = edit(wb46, FUNDS, A5="实际支出", B5=None)
    sub = read_submission(merge(path, FUNDS, "A5:B5"), ref)
    assert (sub.values["funds_spent"], sub.cells["funds_spent"]) == (
        Decimal("200.00"),
        "资金情况!C5",
    )


def test_a_value_cell_merged_with_the_next_is_read_from_its_first_cell(
    wb46: Path, ref: Reference
) -> None:
    sub = read_submission(merge(wb46, INFO, "C6:D6"), ref)
    assert sub.values["project_name"] == ref.project(46).name  # type: ignore[union-attr]
    assert sub.problems == []


def test_the_cached_result_of_a_formula_is_the_value(wb46: Path, ref: Reference) -> None:
    sub = read_submission(formula(wb46, FUNDS, "C5", "C4*0.75", cached=150), ref)
    assert sub.values["funds_spent"] == Decimal("150.00")


def test_a_formula_saved_without_its_result_reads_as_empty(wb46: Path, ref: Reference) -> None:
    """Excel and WPS always save results; a generating program may not. Empty, then `required`."""
    sub = read_submission(formula(wb46, FUNDS, "C5", "C4*0.75"), ref)
    assert sub.values["funds_spent"] is None and sub.problems == []


def test_a_renamed_sheet_is_read_by_its_labels_with_a_warning(wb46: Path, ref: Reference) -> None:
    sub = read_submission(rename_sheet(wb46, FUNDS, "Sheet1"), ref)
    assert sub.values["funds_spent"] == Decimal("200.00")
    assert sub.cells["funds_spent"] == "Sheet1!C5"
    assert where(sub.problems) == [("Sheet1", "", "read.sheet_renamed", WARNING)]
    assert sub.problems[0].message == (
        "工作表“资金情况”被改名为“Sheet1”，已按标签读取；请勿修改模板的工作表名称"
    )


def test_a_sheet_name_with_stray_spaces_is_the_same_sheet(wb46: Path, ref: Reference) -> None:
    sub = read_submission(rename_sheet(wb46, FUNDS, " 资金情况 "), ref)
    assert (sub.values["funds_spent"], sub.problems) == (Decimal("200.00"), [])


def test_a_deleted_sheet_is_one_finding_naming_the_sheets_found(wb46: Path, ref: Reference) -> None:
    sub = read_submission(delete_sheet(wb46, SELF), ref)
    assert where(sub.problems) == [("自评", "", "read.sheet_missing", CRITICAL)]
    assert sub.problems[0].message == (
        "缺少工作表“自评”（本文件的工作表：“填报说明”、“基本信息”、“资金情况”、“绩效指标”）；"
        "请使用科技厅下发的模板，勿修改工作表名称"
    )


def test_an_edited_label_is_reported_at_its_template_cell(wb46: Path, ref: Reference) -> None:
    sub = read_submission(edit(wb46, FUNDS, B5="实际支出金额"), ref)
    assert where(sub.problems) == [("资金情况", "C5", "read.label_missing", CRITICAL)]
    assert "funds_spent" not in sub.values


def test_a_label_pasted_twice_is_refused_rather_than_guessed(wb46: Path, ref: Reference) -> None:
    path = insert_rows(wb46, FUNDS, before=5)
    sub = read_submission(edit(path, FUNDS, B20="实际支出", C20=999), ref)
    [finding] = sub.problems
    assert (finding.cell, finding.rule) == ("C5", "read.label_duplicate")
    assert (
        finding.message
        == "找到多个“实际支出”标签（B6、B20），无法确定填报值；请删除重复的行后重新报送"
    )


# ----------------------------------------------------------------------------- template, format


def test_an_old_template_gets_one_finding_naming_the_accepted_versions(
    wb46: Path, ref: Reference
) -> None:
    sub = read_submission(edit(wb46, INFO, C4="GF-2023.1"), ref)
    assert where(sub.problems) == [("基本信息", "C4", "template_version_accepted", CRITICAL)]
    assert sub.problems[0].message == (
        "模板版本（GF-2023.1）不是本年度接受的模板版本，请下载当前模板（GF-2024.1）重新填写后报送"
    )
    assert set(sub.values) == {"template_version"}


def test_a_workbook_without_a_template_version_is_not_our_template(
    wb46: Path, ref: Reference
) -> None:
    sub = read_submission(edit(wb46, INFO, B4="说明"), ref)
    assert where(sub.problems) == [("基本信息", "C4", "template_version_accepted", CRITICAL)]
    assert sub.problems[0].value == ""


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("scan.xlsx", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n"),
        ("notes.xlsx", "这是一份说明，不是表格".encode()),
        ("empty.xlsx", b""),
    ],
)
def test_a_file_that_is_not_excel_is_not_a_workbook(
    tmp_path: Path, ref: Reference, name: str, content: bytes
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(NotAWorkbook):
        read_submission(path, ref)
    [sub] = read_batch([path], ref)
    assert where(sub.problems) == [("", "", "read.not_workbook", CRITICAL)]
    assert sub.problems[0].message.endswith("请提交用科技厅模板填写的 .xlsx 文件")


def test_a_word_document_renamed_to_xlsx_is_not_a_workbook(tmp_path: Path, ref: Reference) -> None:
    from docx import Document

    path = tmp_path / "report.xlsx"
    document = Document()
    document.add_paragraph("项目总结")
    document.save(str(path))
    [sub] = read_batch([path], ref)
    assert [f.rule for f in sub.problems] == ["read.not_workbook"]


def test_one_bad_file_does_not_stop_the_batch(tmp_path: Path, wb46: Path, ref: Reference) -> None:
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"not excel")
    good = shutil.copy(wb46, tmp_path / "good.xlsx")
    subs = read_batch([bad, Path(good)], ref)
    assert [(s.file_name, [f.rule for f in s.problems]) for s in subs] == [
        ("bad.xlsx", ["read.not_workbook"]),
        ("good.xlsx", []),
    ]
