"""The consolidated submission state of a region-year: what `guidefund status` prints and the
office overview shows. Plain functions over the warehouse's consolidated queries."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from guidefund.reference import Reference
from guidefund.warehouse.consolidated import (
    MISSING,
    PROJECT_STATES,
    REJECTED,
    consolidated_status,
    file_counts,
    plan_vs_submitted,
)


def status_summary(engine: Engine, ref: Reference, period: str | None = None) -> dict[str, Any]:
    """The region-year's consolidated state for `period` (default: the annual report): plan
    projects per state and which ones, stored files and receipts per state, and plan vs
    submitted per direction. Money stays Decimal."""
    period = period or str(ref.year)
    rows = consolidated_status(engine, ref, period)
    counts = file_counts(engine, ref.region_code, ref.year)
    return {
        "region_code": ref.region_code,
        "region": ref.region_name,
        "year": ref.year,
        "period": period,
        "projects": len(rows),
        "states": {s: sum(1 for r in rows if r["state"] == s) for s in PROJECT_STATES},
        "rejected": [r["project_no"] for r in rows if r["state"] == REJECTED],
        "missing": [r["project_no"] for r in rows if r["state"] == MISSING],
        "submissions": counts["submissions"],
        "receipts": counts["receipts"],
        "directions": plan_vs_submitted(engine, ref, period),
    }
