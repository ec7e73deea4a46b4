"""The 2024 reference files say exactly what the seed report says."""

from __future__ import annotations

import shutil
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest

from guidefund.reference import POST, Reference, ReferenceError, load_reference
from tests.seedtext import allocation_table

from .conftest import REFERENCE_DIR


def test_plan_rows_are_the_seed_allocation_table(ref: Reference) -> None:
    seed = allocation_table()
    ours = [
        {
            "序号": p.no,
            "项目名称": p.name,
            "申报单位": p.unit,
            "类别": p.category,
            "立项类型": p.project_type,
            "安排资金（万元）": p.allocation,
        }
        for p in ref.plan
    ]
    assert ours == seed.rows


def test_category_budget_matches_the_seed_subtotals(ref: Reference) -> None:
    seed = allocation_table()
    assert {c: b.total for c, b in ref.budget.items()} == seed.directions
    assert {(c, "结转"): b.carried for c, b in ref.budget.items()} | {
        (c, "新上"): b.new for c, b in ref.budget.items()
    } == seed.subtotals
    assert [b.total for b in ref.budget.values()] == [
        Decimal(855),
        Decimal(5324),
        Decimal(4093),
        Decimal(815),
    ]
    assert ref.annual_amount == seed.total == Decimal(11087)


def test_project_counts_are_the_seeds(ref: Reference) -> None:
    kinds = Counter(p.project_type for p in ref.plan)
    assert (len(ref.plan), kinds["新上"], kinds["结转"]) == (136, 88, 48)
    assert sum(1 for p in ref.plan if p.support_mode == POST) == 24
    by_cat = Counter((p.category, p.project_type, p.support_mode) for p in ref.plan)
    assert by_cat[("区域科技创新体系建设", "新上", "直接补助")] == 3
    assert by_cat[("区域科技创新体系建设", "新上", "后补助")] == 5
    assert by_cat[("科技创新基地建设", "新上", "后补助")] == 9
    assert by_cat[("科技成果转移转化", "新上", "直接补助")] == 23
    assert by_cat[("自由探索类基础研究", "新上", "后补助")] == 1


def test_post_subsidy_projects_are_new_enterprise_projects_with_no_2024_allocation(
    ref: Reference,
) -> None:
    post = [p for p in ref.plan if p.support_mode == POST]
    assert {(p.project_type, p.unit_type, p.allocation) for p in post} == {
        ("新上", "企业", Decimal(0))
    }
    zero_direct = [p.no for p in ref.plan if p.support_mode != POST and p.allocation == 0]
    assert zero_direct == [45]


def test_all_eighteen_targets_with_their_rules(ref: Reference) -> None:
    assert len(ref.targets) == 18
    by_name = {t.name: t for t in ref.targets}
    assert by_name["支持央地协同重大科技项目数量"].target_text == ""
    assert by_name["支持央地协同重大科技项目数量"].scored is False
    assert by_name["转化科技成果数量"].target == Decimal(163)
    assert by_name["区域科技创新能力"].rule == "qualitative"
    assert by_name["带动社会投入与引导资金投入比例"].rule == "ratio"
    assert by_name["支持建设科技创新基地项目数量"].rule == "count_plan"
    assert by_name["被服务对象满意度"].rule == "weighted_mean"
    assert {t.operator for t in ref.targets if t.scored} == {"≥"}


def _copy(tmp_path: Path) -> Path:
    root = tmp_path / "reference"
    shutil.copytree(REFERENCE_DIR / "650000" / "2024", root / "2024")
    return root


def test_a_plan_row_that_breaks_its_subtotal_is_refused(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    plan = root / "2024" / "plan.csv"
    text = plan.read_text(encoding="utf-8")
    plan.write_text(
        text.replace(
            "新疆科技计划数据综合服务体系研究与应用,新疆维吾尔自治区科技项目服务中心,区域科技创新体系建设,结转,直接补助,30",
            "新疆科技计划数据综合服务体系研究与应用,新疆维吾尔自治区科技项目服务中心,区域科技创新体系建设,结转,直接补助,31",
        ),
        encoding="utf-8",
    )
    with pytest.raises(ReferenceError) as err:
        load_reference(root, 2024)
    assert (
        "区域科技创新体系建设 结转项目安排资金合计 61 与 category_budget.csv 小计 60 不符"
        in err.value.problems
    )


def test_a_missing_year_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ReferenceError, match="没有 2031 年度的参考数据目录"):
        load_reference(tmp_path, 2031)


def test_a_grade_field_without_allowed_values_is_refused(tmp_path: Path) -> None:
    """The allowed 自评等级 are data (template_fields.csv 可选值): a year that leaves them out is
    told so, instead of accepting any grade."""
    root = _copy(tmp_path)
    fields = root / "2024" / "template_fields.csv"
    text = fields.read_text(encoding="utf-8-sig")
    fields.write_text(text.replace(",优、良、中、差", ","), encoding="utf-8")

    with pytest.raises(ReferenceError) as err:
        load_reference(root, 2024)

    assert err.value.problems == [
        "template_fields.csv self_grade: 等级字段需要在 可选值 列写出可选等级（如 优、良、中、差）"
    ]


def test_allowed_values_are_read_from_template_fields(ref: Reference) -> None:
    assert ref.field("self_grade").choices == ("优", "良", "中", "差")
    assert ref.field("satisfaction").choices == ()
