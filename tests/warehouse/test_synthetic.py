"""The synthetic submissions the warehouse benchmarks load are consistent and load exactly."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import Engine

from benchmarks.synthetic import (
    reject_every,
    store,
    synthetic_reference,
    synthetic_submissions,
)
from guidefund.reference import Reference, check_reference
from guidefund.warehouse.consolidated import state_counts
from guidefund.warehouse.queries import field_totals


def test_a_synthetic_plan_passes_the_reference_checks_with_recomputed_budgets(
    ref: Reference,
) -> None:
    big = synthetic_reference(ref, 300)

    assert (big.region_code, len(big.plan), big.plan[-1].no) == ("990000", 300, 300)
    assert check_reference(big, {p.unit: p.unit_type for p in big.plan}) == []
    assert big.annual_amount == sum((p.allocation for p in big.plan), Decimal(0))


def test_synthetic_submissions_load_once_and_sum_exactly_in_sql(
    warehouse: Engine, ref: Reference
) -> None:
    big = synthetic_reference(ref, 300)
    subs = synthetic_submissions(big)
    accepted, rejected = reject_every(subs, 50)

    first = store(warehouse, big, accepted, rejected)
    again = store(warehouse, big, accepted, rejected)
    newer = store(warehouse, big, synthetic_submissions(big, n=10, seed=1))

    assert (first.accepted, first.rejected) == (294, 6)
    assert (again.duplicate, again.accepted) == (300, 0)
    assert (newer.accepted, newer.superseded) == (10, 9)  # project 1 had only a rejected file
    spent = field_totals(warehouse, "990000", big.year, str(big.year))["funds_spent"]
    current = {s.project_no: s for s in accepted} | {
        s.project_no: s for s in synthetic_submissions(big, n=10, seed=1)
    }
    assert spent == sum((s.values["funds_spent"] for s in current.values()), Decimal(0))
    assert state_counts(warehouse, region="990000") == {
        ("990000", 2024): {"submitted": 295, "rejected": 5, "missing": 0}
    }
