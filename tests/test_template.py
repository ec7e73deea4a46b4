"""The template: identity pre-filled and locked, unit fields empty with validation, read back by label."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from openpyxl import load_workbook

from guidefund.intake.template import write_templates
from guidefund.intake.workbook import read_submission
from guidefund.reference import Reference


def test_one_template_per_requested_project_with_identity_prefilled(
    tmp_path: Path, ref: Reference
) -> None:
    [path] = write_templates(ref, tmp_path, only=[46])
    assert path.name == "046_新疆工程学院.xlsx"
    wb = load_workbook(path)
    assert wb.sheetnames == ["填报说明", "基本信息", "资金情况", "绩效指标", "自评"]
    info = wb["基本信息"]
    assert (info["B5"].value, info["C5"].value) == ("项目序号", 46)
    assert info["C6"].value == "新疆基地浅埋煤层多重复杂介质地下水突水防治关键技术及应用"
    assert info["C12"].value == 200
    assert info["C4"].value == "GF-2024.1"
    assert info.protection.sheet is True
    assert info["C6"].protection.locked is True
    assert info["C15"].protection.locked is False
    assert wb["资金情况"]["C5"].value is None
    assert wb["资金情况"]["C5"].number_format == "#,##0.00"


def test_template_dropdowns_and_bounds(tmp_path: Path, ref: Reference) -> None:
    [path] = write_templates(ref, tmp_path, only=[1])
    wb = load_workbook(path)
    rules = {
        str(dv.sqref): (dv.type, dv.formula1, dv.formula2)
        for ws in wb.worksheets
        for dv in ws.data_validations.dataValidation
        if ws.title == "绩效指标"
    }
    assert rules["C5"] == ("list", '"是,否"', None)
    assert rules["C15"] == ("decimal", "0", "100")
    assert rules["C4"] == ("whole", "0", None)
    grade = wb["自评"].data_validations.dataValidation[0]
    assert (str(grade.sqref), grade.formula1) == ("C4", '"优,良,中,差"')
    period = wb["基本信息"].data_validations.dataValidation[0]
    assert period.formula1.startswith('"2024年度,2024年01月')


def test_all_136_templates_read_back_with_their_identity(tmp_path: Path, ref: Reference) -> None:
    paths = write_templates(ref, tmp_path)
    assert len(paths) == 136
    subs = [read_submission(p, ref) for p in paths]
    assert [s.values["project_no"] for s in subs] == list(range(1, 137))
    assert sum((s.values["allocation"] for s in subs), Decimal(0)) == Decimal("11087.00")
    assert subs[0].values["funds_spent"] is None
    assert subs[0].cells["funds_spent"] == "资金情况!C5"
    assert all(not s.problems for s in subs)
