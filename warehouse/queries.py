"""Read the warehouse: current submissions, status per plan project, totals in SQL.

"Current" means the accepted (newest) version of each project and period. Sums run in SQL and
come back as Decimal; a weighted mean is two SQL sums divided in Decimal, so both dialects
round it the same way.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import Boolean, ColumnElement, Engine, Integer, Numeric, case, func, select
from sqlalchemy import type_coerce as coerce

from flows.reference import Reference
from warehouse import models as m

S, P, D = m.Submission, m.Project, m.Direction
F, C, E = m.FundExecution, m.IndicatorContribution, m.SelfEvaluation
RATE_PLACES = Decimal("0.0001")


def _fact_columns() -> dict[str, Any]:
    return {
        c.name: getattr(model, c.name)
        for model in (F, C, E)
        for c in model.__table__.columns
        if c.name != "submission_id"
    }


def _summable() -> dict[str, Any]:
    """Money, counts and yes/no fields; rates are averaged (weighted_mean), not summed."""
    return {
        c.name: getattr(model, c.name)
        for model in (F, C)
        for c in model.__table__.columns
        if c.name != "submission_id"
        and not (isinstance(c.type, Numeric) and c.type.scale == m.RATE.scale)
    }


def _current(region: str, year: int, period: str | None = None) -> list[ColumnElement[bool]]:
    where = [S.region_code == region, S.year == year, S.state == m.ACCEPTED]
    return where + ([S.period == period] if period is not None else [])


def current_submissions(engine: Engine, region: str, year: int) -> list[dict[str, Any]]:
    """One dict per project and period: the current version's file and every fact, by field key."""
    stmt = (
        select(
            S.id.label("submission_id"),
            S.project_no,
            S.period,
            S.version,
            S.file_name,
            S.sha256,
            S.received_at,
            *[col.label(name) for name, col in _fact_columns().items()],
        )
        .join(F, F.submission_id == S.id)
        .join(C, C.submission_id == S.id)
        .join(E, E.submission_id == S.id)
        .where(*_current(region, year))
        .order_by(S.project_no, S.period)
    )
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(stmt)]


def consolidated_status(
    engine: Engine, ref: Reference, period: str | None = None
) -> list[dict[str, Any]]:
    """One row per plan project: 'submitted' (has a current version), else 'rejected' (only
    rejected files), else 'missing'; with its accepted version count and rejected file count.
    With `period`, only that reporting period counts."""
    where = [S.region_code == ref.region_code, S.year == ref.year]
    if period is not None:
        where.append(S.period == period)
    stats = (
        select(
            S.project_no,
            func.sum(case((S.state == m.ACCEPTED, 1), else_=0)).label("current"),
            func.sum(case((S.state != m.REJECTED, 1), else_=0)).label("versions"),
            func.sum(case((S.state == m.REJECTED, 1), else_=0)).label("rejected"),
        )
        .where(*where)
        .group_by(S.project_no)
        .subquery()
    )
    state = case(
        (stats.c.current > 0, "submitted"), (stats.c.rejected > 0, "rejected"), else_="missing"
    )
    stmt = (
        select(
            P.no.label("project_no"),
            P.name,
            P.unit,
            P.category,
            P.allocation,
            state.label("state"),
            func.coalesce(stats.c.versions, 0).label("versions"),
            func.coalesce(stats.c.rejected, 0).label("rejected_files"),
        )
        .outerjoin(stats, stats.c.project_no == P.no)
        .where(P.region_code == ref.region_code, P.year == ref.year)
        .order_by(P.no)
    )
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(stmt)]


def plan_vs_submitted(
    engine: Engine, ref: Reference, period: str | None = None
) -> list[dict[str, Any]]:
    """One row per direction (类别), in the reference's order: budget, planned projects and
    allocation, and the current submissions' count, allocation, funds received and spent for
    `period` (default: the annual report, period == the year)."""
    period = period or str(ref.year)
    in_year = (P.region_code == ref.region_code, P.year == ref.year)
    plan = (
        select(
            P.category,
            func.count().label("plan_projects"),
            func.sum(P.allocation).label("plan_allocation"),
        )
        .where(*in_year)
        .group_by(P.category)
        .subquery()
    )
    submitted = (
        select(
            P.category,
            func.count().label("submitted"),
            func.sum(F.allocation).label("submitted_allocation"),
            func.sum(F.funds_received).label("funds_received"),
            func.sum(F.funds_spent).label("funds_spent"),
        )
        .select_from(S)
        .join(F, F.submission_id == S.id)
        .join(P, (P.region_code == S.region_code) & (P.year == S.year) & (P.no == S.project_no))
        .where(*_current(ref.region_code, ref.year, period))
        .group_by(P.category)
        .subquery()
    )
    stmt = (
        select(
            D.name.label("direction"),
            D.budget_total,
            func.coalesce(plan.c.plan_projects, 0).label("plan_projects"),
            func.coalesce(plan.c.plan_allocation, 0).label("plan_allocation"),
            func.coalesce(submitted.c.submitted, 0).label("submitted"),
            *[
                func.coalesce(submitted.c[k], 0).label(k)
                for k in ("submitted_allocation", "funds_received", "funds_spent")
            ],
        )
        .outerjoin(plan, plan.c.category == D.name)
        .outerjoin(submitted, submitted.c.category == D.name)
        .where(D.region_code == ref.region_code, D.year == ref.year)
    )
    order = {name: i for i, name in enumerate(ref.categories)}
    with engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(stmt)]
    return sorted(rows, key=lambda r: order.get(r["direction"], len(order)))


def field_totals(engine: Engine, region: str, year: int, period: str) -> dict[str, Decimal]:
    """SQL SUM of every money, count and yes/no field (yes counts 1) over the current
    submissions of plan projects for `period`; Decimal, 0 when nothing is submitted."""
    sums = []
    for name, col in _summable().items():
        value = case((col.is_(True), 1), else_=0) if isinstance(col.type, Boolean) else col
        sums.append(func.coalesce(func.sum(value), 0).label(name))
    stmt = _facts_of_plan_projects(select(*sums), region, year, period)
    with engine.connect() as conn:
        row = conn.execute(stmt).one()
    return {k: Decimal(v) for k, v in row._mapping.items()}


def weighted_mean(
    engine: Engine, region: str, year: int, period: str, field: str, weight: str = "allocation"
) -> Decimal | None:
    """SUM(field * weight) / SUM(weight) over the current submissions of plan projects that
    report both, rounded half-up to 4 places; None when the weights sum to 0."""
    cols = _fact_columns()
    for name in (field, weight):
        if name not in cols or not isinstance(cols[name].type, Numeric | Integer):
            raise ValueError(f"{name!r} is not a numeric submission field")
    x, w = cols[field], cols[weight]
    stmt = _facts_of_plan_projects(
        select(
            func.sum(coerce(x * w, Numeric(28, 6))).label("num"),
            func.sum(coerce(w, Numeric(18, 2))).label("den"),
        ).where(x.is_not(None), w.is_not(None)),
        region,
        year,
        period,
    )
    with engine.connect() as conn:
        num, den = conn.execute(stmt).one()
    if not den:
        return None
    return (Decimal(num) / Decimal(den)).quantize(RATE_PLACES, rounding=ROUND_HALF_UP)


def _facts_of_plan_projects(stmt: Any, region: str, year: int, period: str) -> Any:
    return (
        stmt.select_from(S)
        .join(F, F.submission_id == S.id)
        .join(C, C.submission_id == S.id)
        .join(P, (P.region_code == S.region_code) & (P.year == S.year) & (P.no == S.project_no))
        .where(*_current(region, year, period))
    )
