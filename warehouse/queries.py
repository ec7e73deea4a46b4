"""Read the warehouse: current submissions and their totals in SQL (the consolidated view,
汇总表, is in warehouse/consolidated.py).

"Current" means the accepted (newest) version of each project and period. Sums run in SQL and
come back as Decimal; a weighted mean is two SQL sums divided in Decimal, so both dialects
round it the same way.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import Boolean, ColumnElement, Engine, Integer, Numeric, case, func, select
from sqlalchemy import type_coerce as coerce

from warehouse import models as m

S, P, D = m.Submission, m.Project, m.Direction
F, C, E = m.FundExecution, m.IndicatorContribution, m.SelfEvaluation
RATE_PLACES = Decimal("0.0001")


def _fact_columns() -> dict[str, Any]:
    return {
        c.name: getattr(model, c.name)
        for model in (F, C, E)
        for c in model.__table__.columns
        if c.name not in m.FACT_KEYS
    }


def _summable() -> dict[str, Any]:
    """Money, counts and yes/no fields; rates are averaged (weighted_mean), not summed."""
    return {
        c.name: getattr(model, c.name)
        for model in (F, C)
        for c in model.__table__.columns
        if c.name not in m.FACT_KEYS
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
