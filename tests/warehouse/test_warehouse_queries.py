"""Queries read current versions only and return exact Decimals on both dialects."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import pytest
from sqlalchemy import Engine

from guidefund.reference import Reference
from guidefund.warehouse.consolidated import (
    consolidated_status,
    plan_vs_submitted,
    submission_history,
)
from guidefund.warehouse.load import finish_run, load_batch, start_run
from guidefund.warehouse.queries import current_submissions, field_totals, weighted_mean

REGION, YEAR = "650000", 2024


def _load(engine: Engine, ref: Reference, accepted, rejected=()) -> None:
    run_id = start_run(engine, "nightly")
    load_batch(engine, ref, run_id, list(accepted), list(rejected), [])
    finish_run(engine, run_id)


def test_money_totals_are_exact_to_the_cent(
    warehouse: Engine, ref: Reference, make_submission
) -> None:
    _load(
        warehouse,
        ref,
        [
            make_submission(1, funds_spent=Decimal("0.10")),
            make_submission(13, funds_spent=Decimal("0.20")),
        ],
    )

    assert field_totals(warehouse, REGION, YEAR, "2024")["funds_spent"] == Decimal("0.30")


def test_totals_over_all_136_projects_are_exact(
    warehouse: Engine, ref: Reference, make_submission
) -> None:
    _load(
        warehouse,
        ref,
        [make_submission(p.no, funds_spent=Decimal("1234567.89")) for p in ref.plan],
    )

    totals = field_totals(warehouse, REGION, YEAR, "2024")

    assert totals["funds_spent"] == Decimal("167901233.04")
    assert totals["allocation"] == Decimal("11087")
    assert totals["contract_value"] == Decimal("1678.24")


def test_field_totals_sum_current_versions_of_the_period_and_count_yes_answers(
    warehouse: Engine, ref: Reference, make_submission, make_finding
) -> None:
    _load(warehouse, ref, [make_submission(1, funds_spent=Decimal("100"))])
    bad = make_submission(2, funds_spent=Decimal("999"))
    _load(
        warehouse,
        ref,
        [
            make_submission(1, file_name="001_v2.xlsx", funds_spent=Decimal("0.10")),
            make_submission(13, funds_spent=Decimal("0.20"), east_west=True),
            make_submission(13, "2024-07", funds_spent=Decimal("50")),
        ],
        [(bad, [make_finding(bad.file_name)])],
    )

    totals = field_totals(warehouse, REGION, YEAR, "2024")

    assert totals == {
        "allocation": Decimal("60"),
        "funds_received": Decimal("60"),
        "funds_spent": Decimal("0.30"),
        "funds_on_time": Decimal("60"),
        "self_raised": Decimal("11.00"),
        "local_east_west": Decimal("0"),
        "financing": Decimal("2.50"),
        "achievements": Decimal("2"),
        "east_west": Decimal("1"),
        "central_local": Decimal("0"),
        "hightech_firms": Decimal("0"),
        "sme_firms": Decimal("2"),
        "contract_value": Decimal("24.68"),
        "trained_staff": Decimal("40"),
        "consulting": Decimal("20"),
        "rural": Decimal("0"),
        "brokers": Decimal("2"),
    }
    assert all(isinstance(v, Decimal) for v in totals.values())


def test_field_totals_of_a_period_without_submissions_are_zero_for_every_summed_field(
    warehouse: Engine, ref: Reference
) -> None:
    kinds = {f.key: f.kind for f in ref.fields}

    totals = field_totals(warehouse, REGION, YEAR, "2024-03", kinds)

    summed = {k for k, kind in kinds.items() if kind in ("money", "int", "yesno")} - {"project_no"}
    assert set(totals) == summed
    assert set(totals.values()) == {Decimal(0)}


def test_weighted_mean_weights_by_allocation_exactly(
    warehouse: Engine, ref: Reference, make_submission
) -> None:
    _load(
        warehouse,
        ref,
        [
            make_submission(1, satisfaction=Decimal("90")),  # allocation 30
            make_submission(3, satisfaction=Decimal("95.5")),  # allocation 279
            make_submission(97, satisfaction=Decimal("10")),  # allocation 0: no weight
        ],
    )

    # (90 * 30 + 95.5 * 279) / 309 = 29344.5 / 309 = 94.966019...
    assert weighted_mean(warehouse, REGION, YEAR, "2024", "satisfaction") == Decimal("94.9660")
    assert weighted_mean(
        warehouse, REGION, YEAR, "2024", "satisfaction", weight="funds_spent"
    ) == Decimal("65.1667")  # (90 * 10 + 95.5 * 10 + 10 * 10) / 30 = 1955 / 30


def test_weighted_mean_rounds_half_up_to_four_places(
    warehouse: Engine, ref: Reference, make_submission
) -> None:
    _load(
        warehouse,
        ref,
        [
            make_submission(1, capability=Decimal("80.0001")),  # allocation 30
            make_submission(2, capability=Decimal("80.0000")),  # allocation 30
        ],
    )

    assert weighted_mean(warehouse, REGION, YEAR, "2024", "capability") == Decimal("80.0001")


def test_weighted_mean_without_weight_is_none_and_text_fields_are_refused(
    warehouse: Engine, ref: Reference, make_submission
) -> None:
    _load(warehouse, ref, [make_submission(97, satisfaction=Decimal("10"))])  # allocation 0

    assert weighted_mean(warehouse, REGION, YEAR, "2024", "satisfaction") is None
    with pytest.raises(ValueError, match="contact"):
        weighted_mean(warehouse, REGION, YEAR, "2024", "contact")


def test_consolidated_status_marks_each_plan_project_submitted_rejected_or_missing(
    warehouse: Engine, ref: Reference, make_submission, make_finding
) -> None:
    late_fix = make_submission(61, funds_spent=Decimal("999"))
    bad = make_submission(2, funds_spent=Decimal("999"))
    _load(
        warehouse,
        ref,
        [make_submission(1), make_submission(13), make_submission(109, "2024-07")],
        [(bad, [make_finding(bad.file_name)]), (late_fix, [make_finding(late_fix.file_name)])],
    )
    _load(
        warehouse,
        ref,
        [
            make_submission(13, file_name="v2.xlsx", brokers=5, funds_spent=Decimal("12.34")),
            make_submission(61, file_name="061_fixed.xlsx"),
        ],
    )

    rows = consolidated_status(warehouse, ref)
    by_no = {r["project_no"]: r for r in rows}

    assert len(rows) == 136
    assert Counter(r["state"] for r in rows) == {"submitted": 3, "rejected": 1, "missing": 132}
    keys = ("state", "version", "superseded", "rejected_files", "file_name", "funds_spent")
    assert {n: tuple(by_no[n][k] for k in keys) for n in (1, 2, 13, 61, 109, 136)} == {
        1: ("submitted", 1, 0, 0, "001_2024.xlsx", Decimal("10.00")),
        2: ("rejected", None, 0, 1, "002_2024.xlsx", None),
        13: ("submitted", 2, 1, 0, "v2.xlsx", Decimal("12.34")),
        61: ("submitted", 1, 0, 1, "061_fixed.xlsx", Decimal("10.00")),
        109: ("missing", None, 0, 0, None, None),  # only a monthly report: not the annual one
        136: ("missing", None, 0, 0, None, None),
    }
    monthly = consolidated_status(warehouse, ref, period="2024-07")
    assert [(r["project_no"], r["state"]) for r in monthly if r["state"] != "missing"] == [
        (109, "submitted")
    ]


def test_submission_history_lists_every_stored_file_in_arrival_order_with_its_state(
    warehouse: Engine, ref: Reference, make_submission, make_finding
) -> None:
    bad = make_submission(13, file_name="013_bad.xlsx", funds_spent=Decimal("999"))
    _load(warehouse, ref, [make_submission(13)], [(bad, [make_finding(bad.file_name)])])
    _load(warehouse, ref, [make_submission(13, file_name="013_v2.xlsx", brokers=2)])

    rows = submission_history(warehouse, REGION, YEAR, period="2024")

    assert [(r["project_no"], r["version"], r["state"], r["file_name"], r["run_id"])
            for r in rows] == [
        (13, 1, "superseded", "013_2024.xlsx", 1),
        (13, None, "rejected", "013_bad.xlsx", 1),
        (13, 2, "accepted", "013_v2.xlsx", 2),
    ]  # fmt: skip


def test_plan_vs_submitted_compares_each_direction_with_its_current_annual_reports(
    warehouse: Engine, ref: Reference, make_submission
) -> None:
    _load(
        warehouse,
        ref,
        [
            make_submission(1),  # 区域科技创新体系建设, allocation 30
            make_submission(13),  # 科技创新基地建设, 30
            make_submission(37, funds_spent=Decimal("0.05")),  # 科技创新基地建设, 266
            make_submission(61),  # 科技成果转移转化, 20
            make_submission(109, "2024-07"),  # monthly: not in the annual comparison
        ],
    )

    rows = plan_vs_submitted(warehouse, ref)

    assert [tuple(r.values()) for r in rows] == [
        ("区域科技创新体系建设", Decimal("855"), 10, Decimal("855"), 1,
         Decimal("30"), Decimal("30"), Decimal("10.00")),
        ("科技创新基地建设", Decimal("5324"), 49, Decimal("5324"), 2,
         Decimal("296"), Decimal("296"), Decimal("10.05")),
        ("科技成果转移转化", Decimal("4093"), 45, Decimal("4093"), 1,
         Decimal("20"), Decimal("20"), Decimal("10.00")),
        ("自由探索类基础研究", Decimal("815"), 32, Decimal("815"), 0,
         Decimal("0"), Decimal("0"), Decimal("0")),
    ]  # fmt: skip
    assert list(rows[0]) == [
        "direction",
        "budget_total",
        "plan_projects",
        "plan_allocation",
        "submitted",
        "submitted_allocation",
        "funds_received",
        "funds_spent",
    ]


def test_current_submissions_lists_one_current_version_per_project_and_period(
    warehouse: Engine, ref: Reference, make_submission
) -> None:
    _load(warehouse, ref, [make_submission(1), make_submission(1, "2024-07")])
    _load(warehouse, ref, [make_submission(1, file_name="v2.xlsx", funds_spent=Decimal("7.07"))])

    rows = current_submissions(warehouse, REGION, YEAR)

    assert [(r["project_no"], r["period"], r["version"], r["funds_spent"]) for r in rows] == [
        (1, "2024", 2, Decimal("7.07")),
        (1, "2024-07", 1, Decimal("10.00")),
    ]
