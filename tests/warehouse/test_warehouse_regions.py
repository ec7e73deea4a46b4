"""Two years and two regions side by side: each fact carries its region, and the same SQL reads
one region-year apart or all of them together."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import Engine, func, select

from guidefund.reference import Reference
from guidefund.warehouse import models as m
from guidefund.warehouse.consolidated import (
    consolidated_status,
    direction_totals,
    project_states,
    state_counts,
)
from guidefund.warehouse.load import finish_run, load_batch, start_run
from guidefund.warehouse.queries import current_submissions, field_totals

XJ24, XJ25, NX24 = ("650000", 2024), ("650000", 2025), ("640000", 2024)


def _load(engine: Engine, ref: Reference, accepted, rejected=()) -> None:
    run_id = start_run(engine, "nightly")
    load_batch(engine, ref, run_id, list(accepted), list(rejected))
    finish_run(engine, run_id)


@pytest.fixture
def side_by_side(
    warehouse: Engine, ref: Reference, other_references, make_submission, make_finding
):
    """Xinjiang 2024: projects 1 and 13. Xinjiang 2025: project 1, and project 2 rejected.
    Ningxia 2024: projects 1 and 61 with the very same values as Xinjiang's project 1 file."""
    xj25, nx24 = other_references["650000/2025"], other_references["640000/2024"]
    _load(warehouse, ref, [make_submission(1), make_submission(13, funds_spent=Decimal("0.10"))])
    bad = make_submission(2, of=xj25, funds_spent=Decimal("999"))
    _load(
        warehouse,
        xj25,
        [make_submission(1, of=xj25, funds_spent=Decimal("7.00"))],
        [(bad, [make_finding(bad.file_name)])],
    )
    _load(warehouse, nx24, [make_submission(1, of=nx24), make_submission(61, of=nx24)])
    return {XJ24: ref, XJ25: xj25, NX24: nx24}


def test_the_copied_reference_names_its_region_and_year(other_references) -> None:
    nx24, xj25 = other_references["640000/2024"], other_references["650000/2025"]

    assert (nx24.region_code, nx24.region_name, nx24.year) == ("640000", "宁夏回族自治区", 2024)
    assert (xj25.region_code, xj25.year, len(xj25.plan)) == ("650000", 2025, 136)


def test_every_fact_row_carries_its_region_and_year(side_by_side, warehouse: Engine) -> None:
    tables = (m.Submission, m.Receipt, m.FundExecution, m.IndicatorContribution,
              m.SelfEvaluation, m.Finding)  # fmt: skip
    with warehouse.connect() as conn:
        counts = {
            t.__tablename__: {
                (r, y): n
                for r, y, n in conn.execute(
                    select(t.region_code, t.year, func.count()).group_by(t.region_code, t.year)
                )
            }
            for t in tables
        }

    assert counts == {
        "submission": {XJ24: 2, XJ25: 2, NX24: 2},
        "receipt": {XJ24: 2, XJ25: 2, NX24: 2},
        "fund_execution": {XJ24: 2, XJ25: 1, NX24: 2},
        "indicator_contribution": {XJ24: 2, XJ25: 1, NX24: 2},
        "self_evaluation": {XJ24: 2, XJ25: 1, NX24: 2},
        "finding": {XJ25: 1},
    }


def test_the_same_bytes_in_two_regions_are_two_submissions_not_a_duplicate(
    side_by_side, warehouse: Engine
) -> None:
    with warehouse.connect() as conn:
        states = conn.execute(select(m.Receipt.region_code, m.Receipt.state)).all()

    assert sorted(tuple(s) for s in states) == [
        ("640000", "accepted"),
        ("640000", "accepted"),
        ("650000", "accepted"),
        ("650000", "accepted"),
        ("650000", "accepted"),
        ("650000", "rejected"),
    ]


def test_each_region_year_is_read_apart(side_by_side, warehouse: Engine) -> None:
    refs = side_by_side

    submitted = {
        key: [r["project_no"] for r in consolidated_status(warehouse, refs[key])
              if r["state"] == "submitted"]
        for key in refs
    }  # fmt: skip
    spent = {key: field_totals(warehouse, *key, str(key[1]))["funds_spent"] for key in refs}
    current = {key: len(current_submissions(warehouse, *key)) for key in refs}

    assert submitted == {XJ24: [1, 13], XJ25: [1], NX24: [1, 61]}
    assert spent == {XJ24: Decimal("10.10"), XJ25: Decimal("7.00"), NX24: Decimal("20.00")}
    assert current == {XJ24: 2, XJ25: 1, NX24: 2}


def test_all_regions_and_years_are_read_together_with_the_same_sql(
    side_by_side, warehouse: Engine
) -> None:
    assert state_counts(warehouse) == {
        NX24: {"submitted": 2, "rejected": 0, "missing": 134},
        XJ24: {"submitted": 2, "rejected": 0, "missing": 134},
        XJ25: {"submitted": 1, "rejected": 1, "missing": 134},
    }
    assert state_counts(warehouse, region="650000") == {
        XJ24: {"submitted": 2, "rejected": 0, "missing": 134},
        XJ25: {"submitted": 1, "rejected": 1, "missing": 134},
    }
    assert list(state_counts(warehouse, year=2024)) == [NX24, XJ24]
    every = project_states(warehouse)
    assert len(every) == 3 * 136
    assert [(r["region_code"], r["year"], r["project_no"]) for r in every
            if r["state"] != "missing"] == [
        ("640000", 2024, 1), ("640000", 2024, 61),
        ("650000", 2024, 1), ("650000", 2024, 13),
        ("650000", 2025, 1), ("650000", 2025, 2),
    ]  # fmt: skip


def test_plan_vs_submitted_adds_up_across_regions_and_years(
    side_by_side, warehouse: Engine
) -> None:
    rows = direction_totals(warehouse)

    assert len(rows) == 3 * 4
    assert sum(r["plan_allocation"] for r in rows) == 3 * Decimal("11087")
    assert sum(r["submitted"] for r in rows) == 5
    assert sum(r["funds_spent"] for r in rows) == Decimal("37.10")
    by_key = {(r["region_code"], r["year"], r["direction"]): r["submitted"] for r in rows}
    assert by_key[("640000", 2024, "科技成果转移转化")] == 1  # project 61
    assert by_key[("650000", 2025, "区域科技创新体系建设")] == 1  # project 1; 2 was rejected
