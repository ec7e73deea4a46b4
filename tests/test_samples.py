"""Sample submissions reproduce the seed's reported totals exactly, and its single-project facts."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest

from guidefund.intake.samples import apportion, generate
from guidefund.intake.workbook import read_submission
from guidefund.reference import Reference


def test_apportion_is_exact_and_respects_caps() -> None:
    assert apportion(10, [1, 1, 1]) == [4, 3, 3]
    assert apportion(100, [1, 1, 8], caps=[None, None, 20]) == [40, 40, 20]
    assert sum(apportion(831425, [0.3, 2.5, 7.1, 1.0])) == 831425


def test_sample_workbooks_reproduce_the_seed_totals(sample_dir: Path, ref: Reference) -> None:
    subs = [read_submission(p, ref) for p in sorted(sample_dir.glob("*.xlsx"))]
    assert len(subs) == 136 and all(not s.problems for s in subs)

    def total(key: str) -> Decimal:
        return sum(
            (
                Decimal(int(s.values[key]))
                if isinstance(s.values[key], bool)
                else Decimal(s.values[key])
                for s in subs
            ),
            Decimal(0),
        )

    assert total("funds_spent") == Decimal("8314.25")
    assert total("funds_received") == Decimal("11087.00")
    assert total("self_raised") == Decimal("29218.65")
    assert total("financing") == Decimal("5567.05")
    assert total("contract_value") == Decimal("8868.04")
    assert total("local_east_west") == Decimal("2172.00")
    counts = {
        k: total(k)
        for k in (
            "achievements",
            "east_west",
            "hightech_firms",
            "sme_firms",
            "trained_staff",
            "consulting",
            "rural",
            "brokers",
        )
    }
    assert counts == {
        "achievements": 122,
        "east_west": 11,
        "hightech_firms": 45,
        "sme_firms": 119,
        "trained_staff": 4203,
        "consulting": 9573,
        "rural": 5,
        "brokers": 808,
    }
    alloc = {p.no: p.allocation for p in ref.plan}
    weighted = sum(s.values["satisfaction"] * alloc[s.values["project_no"]] for s in subs) / sum(
        alloc.values()
    )
    assert weighted == Decimal(95)


def test_samples_keep_the_seeds_typical_cases_and_grades(ref: Reference) -> None:
    values = generate(ref, seed=2024)
    assert (values[92]["funds_spent"], values[46]["funds_spent"], values[133]["funds_spent"]) == (
        Decimal("225.00"),
        Decimal("200.00"),
        Decimal("40.00"),
    )
    assert (values[46]["self_raised"], values[104]["self_raised"]) == (
        Decimal("1060.00"),
        Decimal("940.00"),
    )
    assert (values[46]["trained_staff"], values[46]["consulting"]) == (30, 20)
    grades = Counter(v["self_grade"] for v in values.values())
    assert grades == {"优": 121, "良": 15}
    assert values[136]["self_grade"] == "良" and values[9]["self_grade"] == "良"
    by_dir = Counter(p.category for p in ref.plan if values[p.no]["self_grade"] == "良")
    assert by_dir == {
        "区域科技创新体系建设": 2,
        "科技创新基地建设": 5,
        "科技成果转移转化": 7,
        "自由探索类基础研究": 1,
    }


def test_post_subsidy_projects_spend_no_guidance_funds_and_enterprises_raise_twice(
    ref: Reference,
) -> None:
    values = generate(ref, seed=7)
    for p in ref.plan:
        v = values[p.no]
        if p.support_mode == "后补助":
            assert v["funds_spent"] == 0
        assert v["funds_spent"] <= p.allocation
        if p.unit_type == "企业":
            assert v["self_raised"] >= 2 * p.allocation


def test_generation_is_deterministic_for_a_seed_and_varies_across_seeds(ref: Reference) -> None:
    assert generate(ref, seed=3) == generate(ref, seed=3)
    assert generate(ref, seed=3)[1]["funds_spent"] != generate(ref, seed=4)[1]["funds_spent"]


@pytest.mark.parametrize("seed", range(12))
def test_a_weighted_mean_is_reached_exactly_on_fractional_allocations_for_any_seed(
    tmp_path: Path, seed: int
) -> None:
    """甘肃's plan (allocations × 0.75: 22.5, 209.25 …) with a stated satisfaction of 93.57 %:
    the allocation-weighted mean of the generated values is exactly that, whatever the seed."""
    from guidefund.reference import load_reference

    from .regions import Region, write_region

    gansu = Region("620000", "甘肃省", "甘肃", "全省", 2024, 17, Decimal("0.75"), {})
    year_dir = write_region(tmp_path, gansu)
    (year_dir / "sample_totals.csv").write_text(
        "字段,口径,合计,参与项目,权重,上限\nsatisfaction,weighted_mean,93.57,全部,,\n", "utf-8"
    )
    ref = load_reference(tmp_path, 2024, "620000")
    assert any(p.allocation % 1 for p in ref.plan)
    values = generate(ref, seed)
    weighted = sum((values[p.no]["satisfaction"] * p.allocation for p in ref.plan), Decimal(0))
    total = sum((p.allocation for p in ref.plan), Decimal(0))
    assert weighted == Decimal("93.57") * total
    assert all(Decimal("83.57") <= values[p.no]["satisfaction"] <= 100 for p in ref.plan)
    spent = [values[p.no]["funds_spent"] for p in ref.plan]
    assert all(0 <= s <= p.allocation for s, p in zip(spent, ref.plan, strict=True))
