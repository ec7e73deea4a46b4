"""Read the warehouse: current submissions, their totals, the year-end breakdowns and what the
alert rules look at, in SQL (the consolidated view, 汇总表, is in warehouse/consolidated.py).

"Current" means the accepted (newest) version of each project and period. Sums run in SQL and
come back as Decimal; a weighted mean is two SQL sums divided in Decimal, so both dialects
round it the same way.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Engine,
    Integer,
    Numeric,
    and_,
    bindparam,
    case,
    exists,
    func,
    select,
)
from sqlalchemy import type_coerce as coerce

from guidefund.warehouse import models as m

S, P, D = m.Submission, m.Project, m.Direction
F, C, E, W = m.FundExecution, m.IndicatorContribution, m.SelfEvaluation, m.Finding
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


def current(region: str, year: int, period: str | None = None) -> list[ColumnElement[bool]]:
    """The one definition of "current": the accepted (newest) version of a project and period,
    of one region-year (and one period when given). Every query of current figures uses it."""
    where = [S.region_code == region, S.year == year, S.state == m.ACCEPTED]
    return where + ([S.period == period] if period is not None else [])


def of_project() -> ColumnElement[bool]:
    """A submission joined to its plan project."""
    return and_(P.region_code == S.region_code, P.year == S.year, P.no == S.project_no)


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
        .where(*current(region, year))
        .order_by(S.project_no, S.period)
    )
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(stmt)]


def field_totals(engine: Engine, region: str, year: int, period: str) -> dict[str, Decimal]:
    """SQL SUM of every money, count and yes/no field (yes counts 1) over the current
    submissions of plan projects for `period`; Decimal, 0 when nothing is submitted."""
    with engine.connect() as conn:
        row = conn.execute(_totals(), {"region": region, "year": year, "period": period}).one()
    return {k: Decimal(v) for k, v in row._mapping.items()}


@lru_cache(maxsize=32)
def _weighted(field: str, weight: str) -> Any:
    """weighted_mean's statement for one field and weight, built once."""
    cols = _fact_columns()
    x, w = cols[field], cols[weight]
    region, year, period = bindparam("region"), bindparam("year"), bindparam("period")
    return _facts_of_plan_projects(
        select(
            func.sum(coerce(x * w, Numeric(28, 6))).label("num"),
            func.sum(coerce(w, Numeric(18, 2))).label("den"),
        ).where(x.is_not(None), w.is_not(None)),
        region,
        year,
        period,
    )


@lru_cache(maxsize=1)
def _totals() -> Any:
    """field_totals' statement, built once: building its ~30 sums cost more than running it
    (a night that checks 13 periods built it 13 times)."""
    sums = []
    for name, col in _summable().items():
        value = case((col.is_(True), 1), else_=0) if isinstance(col.type, Boolean) else col
        sums.append(func.coalesce(func.sum(value), 0).label(name))
    region, year, period = bindparam("region"), bindparam("year"), bindparam("period")
    return _facts_of_plan_projects(select(*sums), region, year, period)


def weighted_mean(
    engine: Engine, region: str, year: int, period: str, field: str, weight: str = "allocation"
) -> Decimal | None:
    """SUM(field * weight) / SUM(weight) over the current submissions of plan projects that
    report both, rounded half-up to 4 places; None when the weights sum to 0."""
    cols = _fact_columns()
    for name in (field, weight):
        if name not in cols or not isinstance(cols[name].type, Numeric | Integer):
            raise ValueError(f"{name!r} is not a numeric submission field")
    with engine.connect() as conn:
        params = {"region": region, "year": year, "period": period}
        num, den = conn.execute(_weighted(field, weight), params).one()
    if not den:
        return None
    return (Decimal(num) / Decimal(den)).quantize(RATE_PLACES, rounding=ROUND_HALF_UP)


def _facts_of_plan_projects(stmt: Any, region: str, year: int, period: str) -> Any:
    return (
        stmt.select_from(S)
        .join(F, F.submission_id == S.id)
        .join(C, C.submission_id == S.id)
        .join(P, of_project())
        .where(*current(region, year, period))
    )


def _rows(engine: Engine, stmt: Any) -> list[Any]:
    with engine.connect() as conn:
        return list(conn.execute(stmt))


GROUP_COLUMNS = {"category": P.category, "project_type": P.project_type,
                 "support_mode": P.support_mode}  # fmt: skip


def plan_groups(engine: Engine, region: str, year: int, column: str, period: str) -> list[Any]:
    """One row per value of the plan column `column` (category, project_type, support_mode):
    grp, plan projects, submitted projects, allocation, funds received and spent for `period`."""
    col = GROUP_COLUMNS[column]
    money = Numeric(18, 2)
    # Each plan project joined to its current submission on the columns of the partial unique
    # index (region, year, project, period where accepted): one index probe per project, a
    # good plan even before the database has statistics for freshly loaded rows.
    reported = and_(of_project(), *current(region, year, period))
    stmt = (
        select(
            col.label("grp"),
            func.count(P.no).label("projects"),
            func.count(S.id).label("submitted"),
            func.coalesce(func.sum(P.allocation), 0).cast(money).label("allocation"),
            func.coalesce(func.sum(F.funds_received), 0).cast(money).label("received"),
            func.coalesce(func.sum(F.funds_spent), 0).cast(money).label("spent"),
        )
        .select_from(P)
        .outerjoin(S, reported)
        .outerjoin(F, F.submission_id == S.id)
        .where(P.region_code == region, P.year == year)
        .group_by(col)
    )
    return _rows(engine, stmt)


def grade_counts(engine: Engine, region: str, year: int, period: str) -> list[Any]:
    """(category, self_grade, n): how many current submissions of each direction graded
    themselves each way."""
    stmt = (
        select(P.category, E.self_grade, func.count().label("n"))
        .select_from(S)
        .join(E, E.submission_id == S.id)
        .join(P, of_project())
        .where(*current(region, year, period))
        .group_by(P.category, E.self_grade)
    )
    return _rows(engine, stmt)


def stated_reasons(engine: Engine, region: str, year: int, period: str) -> list[dict[str, Any]]:
    """One dict per current submission whose unit stated a 偏差原因及改进措施: the project
    number, the reason and every summable field (to weigh its contribution)."""
    facts = [
        getattr(model, c.name).label(c.name)
        for model in (F, C)
        for c in model.__table__.columns
        if c.name not in m.FACT_KEYS
    ]
    stmt = (
        select(S.project_no, E.deviation_reason, *facts)
        .select_from(S)
        .join(E, E.submission_id == S.id)
        .join(F, F.submission_id == S.id)
        .join(C, C.submission_id == S.id)
        .where(*current(region, year, period))
        .where(E.deviation_reason.is_not(None), E.deviation_reason != "")
        .order_by(S.project_no)
    )
    return [dict(r._mapping) for r in _rows(engine, stmt)]


def slow_projects(engine: Engine, region: str, year: int, period: str, below: Decimal) -> list[Any]:
    """Reported projects with an allocation whose execution may be under `below` percent. SQL
    narrows with one point of slack (SQLite compares floats); callers decide exactly."""
    stmt = (
        select(P.no, P.name, P.unit, P.category, P.allocation, F.funds_spent, E.deviation_reason)
        .select_from(S)
        .join(F, F.submission_id == S.id)
        .join(E, E.submission_id == S.id)
        .join(P, of_project())
        .where(*current(region, year, period), P.allocation > 0)
        .where(F.funds_spent * 100 < (below + 1) * P.allocation)
        .order_by(P.no)
    )
    return _rows(engine, stmt)


def projects_without(engine: Engine, region: str, year: int, period: str) -> list[Any]:
    """Plan projects with no current submission for `period` (no, name, unit), and whether
    files of theirs were rejected (has_rejected)."""
    mine = and_(of_project(), S.region_code == region, S.year == year)
    accepted = exists().where(mine, S.state == m.ACCEPTED, S.period == period)
    rejected = exists().where(mine, S.state == m.REJECTED)
    stmt = (
        select(P.no, P.name, P.unit, rejected.label("has_rejected"))
        .where(P.region_code == region, P.year == year, ~accepted)
        .order_by(P.no)
    )
    return _rows(engine, stmt)


def current_findings(engine: Engine, region: str, year: int, severity: str) -> list[Any]:
    """The stored findings of `severity` of current submissions (a superseded file's are stale)."""
    stmt = (
        select(W.file, W.sheet, W.cell, W.label, W.value, W.rule, W.message, S.period, S.sha256,
               S.project_no)
        .join(S, S.id == W.submission_id)
        .where(*current(region, year), W.severity == severity)
        .order_by(S.project_no, W.id)
    )  # fmt: skip
    return _rows(engine, stmt)


def reported_periods(
    engine: Engine, region: str, year: int, run_id: int | None = None
) -> list[str]:
    """The periods of the year that hold at least one current (accepted) submission; with
    `run_id`, only those that run loaded."""
    stmt = select(S.period).where(*current(region, year)).distinct().order_by(S.period)
    if run_id is not None:
        stmt = stmt.where(S.run_id == run_id)
    return [r.period for r in _rows(engine, stmt)]


def period_execution(engine: Engine, region: str, year: int, period: str) -> list[Any]:
    """One row per plan project with a current submission for `period`, in plan order: no,
    name, unit, category, allocation, funds received and spent (year to date)."""
    stmt = (
        select(P.no, P.name, P.unit, P.category, P.allocation, F.funds_received, F.funds_spent)
        .select_from(S)
        .join(F, F.submission_id == S.id)
        .join(P, of_project())
        .where(*current(region, year, period))
        .order_by(P.no)
    )
    return _rows(engine, stmt)
