"""Scores under 财预〔2020〕10号: parts, weights, the cap, the grade bands, and the seed's
self-assessment (95 = 8 + 49 + 28 + 10) beside the computed score."""

from __future__ import annotations

import dataclasses
import shutil
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest

from guidefund.evaluate.indicators import budget_rows, evaluate
from guidefund.evaluate.scores import compute_scores, grade_for, render_scores
from guidefund.reference import Reference, load_reference

from .test_indicators import OVER, SEED_MEANS, SEED_SUMS, UNDER

SPENT = Decimal("8314.25")


def seed_scores(ref: Reference, sums=SEED_SUMS, means=SEED_MEANS):
    results = evaluate(ref, sums, means, UNDER, OVER)
    return compute_scores(ref, results, budget_rows(ref, {"funds_spent": SPENT}))


def parts(scores) -> dict[str, Decimal]:
    return {p.part: p.score for p in scores.parts}


def copy_reference(ref: Reference, tmp_path: Path) -> Path:
    root = tmp_path / "reference"
    shutil.copytree(ref.year_dir, root / str(ref.year))
    return root


def test_the_seed_scores_with_their_formulas(ref: Reference) -> None:
    s = seed_scores(ref)
    assert parts(s) == {
        "预算执行": Decimal("7.50"), "产出指标": Decimal("47.48"),
        "效益指标": Decimal("29.61"), "满意度指标": Decimal("10.00"),
    }  # fmt: skip
    assert (s.total, s.grade) == (Decimal("94.59"), "优")
    formulas = {p.part: p.formula for p in s.parts}
    assert formulas["预算执行"] == "10 × min(8314.25/11087, 1) = 7.50（执行率 74.99%）"
    assert formulas["产出指标"] == "10 × (1 + 122/163 + 1 + 1 + 1) = 47.48（5 项指标）"
    assert formulas["效益指标"] == (
        "30/11 × (1 + 1 + 1 + 1 + 1 + 1 + 1 + 4203/4906 + 1 + 1 + 1) = 29.61（11 项指标）"
    )


def test_the_self_assessed_score_is_shown_beside_the_computed_one(ref: Reference) -> None:
    s = seed_scores(ref)
    assert {p.part: (p.self_score, p.difference) for p in s.parts} == {
        "预算执行": (Decimal(8), Decimal("-0.50")), "产出指标": (Decimal(49), Decimal("-1.52")),
        "效益指标": (Decimal(28), Decimal("1.61")), "满意度指标": (Decimal(10), Decimal("0.00")),
    }  # fmt: skip
    assert (s.self_total, s.self_grade, s.difference) == (Decimal(95), "优", Decimal("-0.41"))
    text = render_scores(s)
    assert "  合计：7.50 + 47.48 + 29.61 + 10.00 = 94.59 分，等级“优”" in text
    assert "  自评：8 + 49 + 28 + 10 = 95 分，等级“优”；计算得分与自评相差 -0.41 分" in text
    assert "      转化科技成果数量：10 × min(122/163, 1) = 7.48" in text


def test_an_indicator_never_scores_above_its_weight(ref: Reference) -> None:
    """培训技术经纪人数量 at 678.99 % earns its 30/11, no more; the part stays within 30."""
    s = seed_scores(ref, {**SEED_SUMS, "trained_staff": Decimal(10_000)})
    benefit = next(p for p in s.parts if p.part == "效益指标")
    brokers = next(i for i in benefit.indicators if i.indicator == "培训技术经纪人数量")
    assert (brokers.weight, brokers.score) == (Fraction(30, 11), Fraction(30, 11))
    assert benefit.score == Decimal("30.00")


def test_a_missed_indicator_scores_its_share(ref: Reference) -> None:
    output = next(p for p in seed_scores(ref).parts if p.part == "产出指标")
    achievements = next(i for i in output.indicators if i.indicator == "转化科技成果数量")
    assert achievements.score == Fraction(10) * Fraction(122, 163)


def test_a_less_or_equal_indicator_scores_target_over_actual(ref: Reference) -> None:
    targets = tuple(
        dataclasses.replace(t, operator="≤") if t.name == "转化科技成果数量" else t
        for t in ref.targets
    )
    capped = dataclasses.replace(ref, targets=targets)
    s = seed_scores(capped, {**SEED_SUMS, "achievements": Decimal(200)})
    output = next(p for p in s.parts if p.part == "产出指标")
    item = next(i for i in output.indicators if i.indicator == "转化科技成果数量")
    assert (item.score, item.formula) == (
        Fraction(10) * Fraction(163, 200),
        "10 × min(163/200, 1) = 8.15",
    )


def test_a_qualitative_indicator_scores_by_its_completion(ref: Reference) -> None:
    s = seed_scores(ref, means={**SEED_MEANS, "capability": Decimal(70)})
    benefit = next(p for p in s.parts if p.part == "效益指标")
    item = next(i for i in benefit.indicators if i.indicator == "区域科技创新能力")
    assert item.score == Fraction(30, 11) * Fraction(7, 10)


def test_an_indicator_without_a_target_takes_no_share_of_the_points(ref: Reference) -> None:
    """产出指标 has six indicators; 支持央地协同重大科技项目数量 has no target, so five share 50."""
    output = next(p for p in seed_scores(ref).parts if p.part == "产出指标")
    assert [i.weight for i in output.indicators] == [Fraction(10)] * 5
    assert "支持央地协同重大科技项目数量" not in [i.indicator for i in output.indicators]


def test_an_indicator_without_an_actual_scores_nothing(ref: Reference) -> None:
    s = seed_scores(ref, means={"capability": Decimal(100)})  # no satisfaction reported
    satisfaction = next(p for p in s.parts if p.part == "满意度指标")
    assert (satisfaction.score, satisfaction.indicators[0].formula) == (
        Decimal("0.00"), "10 × 0（无实际完成值）= 0.00",
    )  # fmt: skip


def test_given_weights_are_used_and_the_rest_share_what_is_left(
    ref: Reference, tmp_path: Path
) -> None:
    root = copy_reference(ref, tmp_path)
    (root / "2024" / "indicator_weights.csv").write_text(
        "三级指标,权重\n转化科技成果数量,20\n", encoding="utf-8"
    )
    weighted = load_reference(root, 2024)
    output = next(p for p in seed_scores(weighted).parts if p.part == "产出指标")
    assert {i.indicator: i.weight for i in output.indicators} == {
        "支持建设科技创新基地项目数量": Fraction(15, 2), "转化科技成果数量": Fraction(20),
        "支持区域创新载体项目数量": Fraction(15, 2),
        "支持东西部科技合作及区域协同创新项目数量": Fraction(15, 2), "资金拨付及时率": Fraction(15, 2),
    }  # fmt: skip
    assert output.score == Decimal("44.97")  # 30 + 20 × 122/163 = 44.969…


def test_weights_above_a_parts_points_are_refused(ref: Reference, tmp_path: Path) -> None:
    root = copy_reference(ref, tmp_path)
    (root / "2024" / "indicator_weights.csv").write_text(
        "三级指标,权重\n转化科技成果数量,40\n资金拨付及时率,20\n", encoding="utf-8"
    )
    with pytest.raises(ValueError, match="产出指标 各指标权重之和 60 应等于该部分满分 50"):
        seed_scores(load_reference(root, 2024))


@pytest.mark.parametrize(
    ("score", "grade"),
    [("100", "优"), ("90", "优"), ("89.99", "良"), ("80", "良"), ("79.99", "中"), ("60", "中"),
     ("59.99", "差"), ("0", "差")],
)  # fmt: skip
def test_grades_follow_the_bands_in_score_bands_csv(ref: Reference, score: str, grade: str) -> None:
    assert grade_for(Decimal(score), ref.score_bands) == grade


def test_full_execution_scores_all_ten_points(ref: Reference) -> None:
    results = evaluate(ref, SEED_SUMS, SEED_MEANS, UNDER, OVER)
    s = compute_scores(ref, results, budget_rows(ref, {"funds_spent": Decimal(11087)}))
    assert parts(s)["预算执行"] == Decimal("10.00")
