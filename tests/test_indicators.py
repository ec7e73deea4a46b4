"""The indicator engine: each aggregation rule of targets.csv, the ≤ direction, the qualitative
bands of note 5, an unscored indicator, the fund weights, and the units' reasons."""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine

from guidefund.evaluate.figures import consolidate
from guidefund.evaluate.indicators import evaluate, gather_reasons
from guidefund.intake.template import prefill
from guidefund.records import IndicatorResult, Submission
from guidefund.reference import Reference
from guidefund.warehouse.load import load_batch, start_run

UNDER, OVER = Decimal(100), Decimal(130)
# The seed's totals (sample_totals.csv): what the 136 submissions add up to.
SEED_SUMS = {
    "funds_received": Decimal("11087"), "funds_on_time": Decimal("11087"),
    "allocation": Decimal("11087"), "funds_spent": Decimal("8314.25"),
    "self_raised": Decimal("29218.65"), "local_east_west": Decimal("2172"),
    "financing": Decimal("5567.05"), "achievements": Decimal(122), "east_west": Decimal(11),
    "central_local": Decimal(0), "hightech_firms": Decimal(45), "sme_firms": Decimal(119),
    "contract_value": Decimal("8868.04"), "trained_staff": Decimal(4203),
    "consulting": Decimal(9573), "rural": Decimal(5), "brokers": Decimal(808),
}  # fmt: skip
SEED_MEANS = {"capability": Decimal(100), "satisfaction": Decimal(95)}


def results(ref: Reference, sums=SEED_SUMS, means=SEED_MEANS) -> dict[str, IndicatorResult]:
    return {r.indicator: r for r in evaluate(ref, sums, means, UNDER, OVER)}


def with_target(ref: Reference, name: str, **changes: object) -> Reference:
    targets = tuple(dataclasses.replace(t, **changes) if t.name == name else t for t in ref.targets)
    return dataclasses.replace(ref, targets=targets)


def test_absolute_values_are_summed(ref: Reference) -> None:
    r = results(ref)["转化科技成果数量"]
    assert (r.actual, r.completion_pct, r.deviation_pct, r.needs_explanation) == (
        Decimal(122), Decimal("74.85"), Decimal("25.15"), True,
    )  # fmt: skip


def test_yes_answers_are_counted(ref: Reference) -> None:
    r = results(ref)["支持东西部科技合作及区域协同创新项目数量"]
    assert (r.actual, r.completion_pct) == (Decimal(11), Decimal("183.33"))


def test_plan_counts_take_the_base_projects_with_a_2024_allocation(ref: Reference) -> None:
    """49 科技创新基地建设 projects, 10 of them without a 2024 allocation: 39, as the seed."""
    base = results(ref)["支持建设科技创新基地项目数量"]
    carriers = results(ref)["支持区域创新载体项目数量"]
    assert (base.actual, base.completion_pct) == (Decimal(39), Decimal("100.00"))
    assert (carriers.actual, carriers.completion_pct) == (Decimal(5), Decimal("100.00"))


def test_the_leverage_ratio_divides_the_sums(ref: Reference) -> None:
    """29218.65 / 11087 = 2.635… → 2.64, completion 132 % (the 附件's 2.65 is a slip)."""
    r = results(ref)["带动社会投入与引导资金投入比例"]
    assert (r.actual, r.completion_pct, r.needs_explanation) == (
        Decimal("2.64"), Decimal("132.00"), True,
    )  # fmt: skip


def test_a_percent_ratio_is_scaled_to_percent(ref: Reference) -> None:
    sums = {**SEED_SUMS, "funds_on_time": Decimal("9978.30")}
    r = results(ref, sums)["资金拨付及时率"]
    assert (r.actual, r.completion_pct) == (Decimal("90.00"), Decimal("100.00"))


def test_a_ratio_without_a_denominator_has_no_actual(ref: Reference) -> None:
    r = results(ref, {**SEED_SUMS, "funds_received": Decimal(0)})["带动社会投入与引导资金投入比例"]
    assert (r.actual, r.completion_pct, r.needs_explanation) == (None, None, False)


def test_a_less_or_equal_target_is_met_by_staying_under_it(ref: Reference) -> None:
    """≤163: 122 is 163/122 = 133.61 % (an overrun to explain); 200 is 81.50 % (a miss)."""
    capped = with_target(ref, "转化科技成果数量", operator="≤")
    under = results(capped)["转化科技成果数量"]
    over = results(capped, {**SEED_SUMS, "achievements": Decimal(200)})["转化科技成果数量"]
    assert (under.completion_pct, under.deviation_pct, under.needs_explanation) == (
        Decimal("133.61"), Decimal("33.61"), True,
    )  # fmt: skip
    assert (over.completion_pct, over.deviation_pct, over.needs_explanation) == (
        Decimal("81.50"), Decimal("18.50"), True,
    )  # fmt: skip


def test_a_less_or_equal_target_with_nothing_reported_is_fully_met(ref: Reference) -> None:
    capped = with_target(ref, "转化科技成果数量", operator="≤")
    r = results(capped, {**SEED_SUMS, "achievements": Decimal(0)})["转化科技成果数量"]
    assert (r.completion_pct, r.deviation_pct, r.needs_explanation) == (
        Decimal(100), Decimal(0), False,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("mean", "wording", "needs"),
    [("100", "稳步提升", False), ("95", "稳步提升", False), ("80", "稳步提升", False),
     ("79.99", "部分提升", True), ("60", "部分提升", True), ("59.99", "未见提升", True),
     ("0", "未见提升", True)],
)  # fmt: skip
def test_qualitative_completion_falls_in_the_bands_of_note_5(
    ref: Reference, mean: str, wording: str, needs: bool
) -> None:
    """80 and 60 belong to the upper band (100–80（含）, 80–60（含）); below the target's band
    (稳步提升 = 80–100) the indicator needs explaining."""
    r = results(ref, means={**SEED_MEANS, "capability": Decimal(mean)})["区域科技创新能力"]
    assert (r.actual_text, r.completion_pct, r.needs_explanation) == (
        wording, Decimal(mean).quantize(Decimal("0.01")), needs,
    )  # fmt: skip


def test_an_indicator_without_a_target_is_reported_but_not_scored(ref: Reference) -> None:
    r = results(ref, {**SEED_SUMS, "central_local": Decimal(2)})["支持央地协同重大科技项目数量"]
    assert (r.actual, r.target_text, r.completion_pct, r.needs_explanation, r.scored) == (
        Decimal(2), "—", None, False, False,
    )  # fmt: skip


def test_the_seed_needs_nine_overruns_and_two_misses_explained(ref: Reference) -> None:
    table = results(ref).values()
    over = [r.indicator for r in table if r.needs_explanation and r.completion_pct >= OVER]
    missed = sorted(r.indicator for r in table if r.needs_explanation and r.completion_pct < UNDER)
    assert len(over) == 9
    assert missed == ["培训从事技术创新服务人员数量", "转化科技成果数量"]


def test_the_explanation_thresholds_are_parameters(ref: Reference) -> None:
    strict = {r.indicator: r for r in evaluate(ref, SEED_SUMS, SEED_MEANS, UNDER, Decimal(200))}
    assert strict["支持东西部科技合作及区域协同创新项目数量"].needs_explanation is False
    assert strict["促进技术合同成交额"].needs_explanation is True


# --- the fund weights, in SQL on SQLite and PostgreSQL --------------------------------------


@pytest.fixture
def db(migrated_warehouse: Engine) -> Engine:
    """An empty warehouse at head (tests/conftest.py: SQLite and PostgreSQL)."""
    return migrated_warehouse


def stored(engine: Engine, ref: Reference, rows: dict[int, dict[str, object]]) -> None:
    """Annual submissions of the given projects: zeros everywhere except `rows`' values."""
    subs = []
    for no, values in rows.items():
        project = ref.project(no)
        assert project is not None
        typed = {
            **prefill(project, ref), "period": "2024", "filled_date": date(2025, 1, 10),
            "contact": "王芳", "funds_received": project.allocation,
            "funds_on_time": project.allocation, "funds_spent": Decimal(0),
            "self_raised": Decimal(0), "local_east_west": Decimal(0), "financing": Decimal(0),
            "achievements": 0, "east_west": False, "central_local": False, "hightech_firms": 0,
            "sme_firms": 0, "contract_value": Decimal(0), "trained_staff": 0, "consulting": 0,
            "rural": False, "brokers": 0, "capability": Decimal(100),
            "satisfaction": Decimal(100), "self_grade": "优", "deviation_reason": None,
            **values,
        }  # fmt: skip
        digest = hashlib.sha256(repr(sorted(typed.items())).encode()).hexdigest()
        subs.append(Submission(Path(f"{no:03d}.xlsx"), digest, typed))
    load_batch(engine, ref, start_run(engine, "test"), subs, [])


def test_relative_values_are_weighted_by_allocation(db: Engine, ref: Reference) -> None:
    """Project 3 (279 万元) says 90 %, project 4 (300 万元) 100 %: (279×90 + 300×100) / 579."""
    stored(db, ref, {3: {"satisfaction": Decimal(90)}, 4: {"satisfaction": Decimal(100)}})
    table, _, _ = consolidate(db, ref, "2024", UNDER, OVER)
    r = next(x for x in table if x.indicator == "被服务对象满意度")
    assert (r.actual, r.completion_pct) == (Decimal("95.18"), Decimal("105.76"))


def test_a_project_without_allocation_has_no_weight_in_the_mean(db: Engine, ref: Reference) -> None:
    """Project 6 (后补助, 0 万元) reports 10 %: it does not move the fund-weighted mean."""
    stored(db, ref, {3: {"satisfaction": Decimal(90)}, 6: {"satisfaction": Decimal(10)}})
    table, _, _ = consolidate(db, ref, "2024", UNDER, OVER)
    r = next(x for x in table if x.indicator == "被服务对象满意度")
    assert r.actual == Decimal("90.00")


def test_only_zero_allocation_projects_give_no_mean(db: Engine, ref: Reference) -> None:
    stored(db, ref, {6: {"satisfaction": Decimal(95)}, 7: {"satisfaction": Decimal(85)}})
    table, _, _ = consolidate(db, ref, "2024", UNDER, OVER)
    r = next(x for x in table if x.indicator == "被服务对象满意度")
    assert (r.actual, r.completion_pct) == (None, None)


def test_a_qualitative_mean_is_fund_weighted_and_worded(db: Engine, ref: Reference) -> None:
    """(279×100 + 300×50) / 579 = 74.09 %: 部分提升, below the target band."""
    stored(db, ref, {3: {"capability": Decimal(100)}, 4: {"capability": Decimal(50)}})
    table, _, _ = consolidate(db, ref, "2024", UNDER, OVER)
    r = next(x for x in table if x.indicator == "区域科技创新能力")
    assert (r.actual_text, r.completion_pct, r.needs_explanation) == (
        "部分提升", Decimal("74.09"), True,
    )  # fmt: skip


# --- the units' reasons ------------------------------------------------------------------------


def test_a_reason_is_gathered_under_the_indicator_its_project_carried(ref: Reference) -> None:
    """Project 58 brought 5200 of the 8868.04 万元 技术合同成交额 (58.64 %); project 92's reason
    about slow procurement came with 100 万元 (1.13 %) and stays out."""
    stated = [
        {"project_no": 58, "deviation_reason": "签订成交了一项大额技术合同。",
         "contract_value": Decimal(5200), "allocation": Decimal(0)},
        {"project_no": 92, "deviation_reason": "采购周期较长。",
         "contract_value": Decimal(100), "allocation": Decimal(300)},
    ]  # fmt: skip
    table = list(results(ref).values())
    reasons = gather_reasons(ref, table, stated, SEED_SUMS, Decimal(20))
    contract = reasons[11]
    assert [(x.project_no, x.share_pct, x.line()) for x in contract] == [
        (58, Decimal("58.64"), "项目58（新疆电子研究所股份有限公司）：签订成交了一项大额技术合同。")
    ]
    assert 1 not in reasons  # 支持建设科技创新基地项目数量 is met: nothing to explain
    assert reasons[2] == []  # 转化科技成果数量 is missed, but nobody said why


def test_a_low_floor_gathers_smaller_contributors_too(ref: Reference) -> None:
    stated = [{"project_no": 92, "deviation_reason": "采购周期较长。",
               "contract_value": Decimal(100), "allocation": Decimal(300)}]  # fmt: skip
    reasons = gather_reasons(ref, list(results(ref).values()), stated, SEED_SUMS, Decimal(1))
    assert [x.project_no for x in reasons[11]] == [92]


def test_a_plan_count_shares_its_credit_equally_among_the_counted_projects(
    ref: Reference,
) -> None:
    """With a target of 30 the 39 base projects overrun (130 %); each counted project holds
    1/39 = 2.56 % of it, an uncounted one (45, no allocation) nothing."""
    lowered = with_target(ref, "支持建设科技创新基地项目数量", target=Decimal(30), target_text="30")
    table = list(results(lowered).values())
    stated = [
        {"project_no": 31, "deviation_reason": "新建平台较多。", "allocation": Decimal(216)},
        {"project_no": 45, "deviation_reason": "未安排资金。", "allocation": Decimal(0)},
    ]  # fmt: skip
    reasons = gather_reasons(lowered, table, stated, SEED_SUMS, Decimal(2))
    assert [(x.project_no, x.share_pct) for x in reasons[1]] == [(31, Decimal("2.56"))]


@pytest.mark.parametrize(
    "operator, target, actual, completion, met",
    [
        ("≥", "0", "0", "100", True),  # a target of 0 met: 100 %
        ("≥", "0", "7", "100", True),
        ("≤", "0", "0", "100", True),
        ("≤", "0", "3", "0", False),  # a target of 0 missed: 0 %
        ("≤", "10", "0", "100", True),
        ("≤", "10", "20", "50", False),
        ("≤", "10", "8", "125", True),
        ("≥", "163", "122", "74.85", False),
    ],
)
def test_completion_at_the_edges_is_defined_once(
    ref: Reference, operator: str, target: str, actual: str, completion: str, met: bool
) -> None:
    """The table, the scores, the summary and section 四 all read these two functions."""
    from guidefund.evaluate.indicators import completion as completion_of
    from guidefund.evaluate.indicators import is_met
    from guidefund.numbers import rounded

    t = dataclasses.replace(
        next(t for t in ref.targets if t.name == "转化科技成果数量"),
        operator=operator,
        target=Decimal(target),
        target_text=target,
    )
    got = completion_of(t, Decimal(actual))
    assert got is not None and rounded(got, 2) == Decimal(completion)
    assert is_met(t, Decimal(actual)) is met


def test_a_qualitative_indicator_within_its_band_is_met_below_100(ref: Reference) -> None:
    sums = dict(SEED_SUMS)
    means = {"capability": Decimal("95"), "satisfaction": Decimal("95")}
    results = {r.indicator: r for r in evaluate(ref, sums, means, UNDER, OVER)}
    capability = results["区域科技创新能力"]
    assert (capability.completion_pct, capability.actual_text) == (Decimal("95.00"), "稳步提升")
    assert (capability.met, capability.needs_explanation) == (True, False)
    results = {
        r.indicator: r
        for r in evaluate(ref, sums, {**means, "capability": Decimal("79.99")}, UNDER, OVER)
    }
    assert (results["区域科技创新能力"].met, results["区域科技创新能力"].needs_explanation) == (
        False,
        True,
    )
