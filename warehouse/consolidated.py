"""The consolidated view (汇总表) in SQL: each plan project's submission state, plan vs
submitted per direction, the version history, and counts of files by state.

Every query takes an optional region and year, so one region-year, one region's years, or every
region and year stored can be read with the same SQL ("apart or together"). `period` is a
reporting period ("2024", "2024-07") or ANNUAL: each year's own annual report, which is what a
query across years means by "the annual report".

A project's state: `submitted` when it has a current (accepted, newest) version for the period;
else `rejected` when only rejected files came for it; else `missing`. Earlier accepted versions
are its `superseded` history.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Engine, String, case, cast, func, select
from sqlalchemy.orm import aliased

from guidefund.reference import Reference
from guidefund.warehouse import models as m
from guidefund.warehouse.queries import value_of

S, P, D, R = m.Submission, m.Project, m.Direction, m.Receipt
ANNUAL = "annual"
SUBMITTED, REJECTED, MISSING = "submitted", "rejected", "missing"
PROJECT_STATES = (SUBMITTED, REJECTED, MISSING)


def _period(period: str | None) -> list[ColumnElement[bool]]:
    if period is None:
        return []
    if period == ANNUAL:
        return [S.period == cast(S.year, String)]
    return [S.period == period]


def _scope(model: Any, region: str | None, year: int | None) -> list[ColumnElement[bool]]:
    where = [] if region is None else [model.region_code == region]
    return where + ([] if year is None else [model.year == year])


def _rows(engine: Engine, stmt: Any) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(stmt)]


def _project_states_stmt(region: str | None, year: int | None, period: str) -> Any:
    stats = (
        select(
            S.region_code,
            S.year,
            S.project_no,
            func.max(case((S.state == m.ACCEPTED, S.id))).label("current_id"),
            func.sum(case((S.state == m.SUPERSEDED, 1), else_=0)).label("superseded"),
            func.sum(case((S.state == m.REJECTED, 1), else_=0)).label("rejected"),
            func.max(case((S.state == m.REJECTED, S.id))).label("last_rejected_id"),
        )
        .where(*_scope(S, region, year), *_period(period))
        .group_by(S.region_code, S.year, S.project_no)
        .subquery()
    )
    cur, rej = aliased(S), aliased(S)
    received, on_received = value_of(cur.id, "funds_received")
    spent, on_spent = value_of(cur.id, "funds_spent")
    state = case(
        (stats.c.current_id.is_not(None), SUBMITTED),
        (stats.c.rejected > 0, REJECTED),
        else_=MISSING,
    )
    return (
        select(
            P.region_code,
            P.year,
            P.no.label("project_no"),
            P.name,
            P.unit,
            P.category,
            P.allocation,
            state.label("state"),
            cur.version,
            func.coalesce(stats.c.superseded, 0).label("superseded"),
            func.coalesce(stats.c.rejected, 0).label("rejected_files"),
            func.coalesce(cur.file_name, rej.file_name).label("file_name"),
            func.coalesce(cur.received_at, rej.received_at).label("received_at"),
            received.value_money.label("funds_received"),
            spent.value_money.label("funds_spent"),
        )
        .outerjoin(
            stats,
            (stats.c.region_code == P.region_code)
            & (stats.c.year == P.year)
            & (stats.c.project_no == P.no),
        )
        .outerjoin(cur, cur.id == stats.c.current_id)
        .outerjoin(rej, rej.id == stats.c.last_rejected_id)
        .outerjoin(received, on_received)
        .outerjoin(spent, on_spent)
        .where(*_scope(P, region, year))
    )


def project_states(
    engine: Engine, region: str | None = None, year: int | None = None, period: str = ANNUAL
) -> list[dict[str, Any]]:
    """One row per plan project (of `region` and `year`, or of all stored): its state for the
    period, current version, superseded versions, rejected files, the file shown (current, else
    the last rejected), when it came, and the current version's funds received and spent."""
    stmt = _project_states_stmt(region, year, period)
    return _rows(engine, stmt.order_by(P.region_code, P.year, P.no))


def consolidated_status(
    engine: Engine, ref: Reference, period: str | None = None
) -> list[dict[str, Any]]:
    """project_states of the reference's region and year; `period` defaults to its annual report."""
    return project_states(engine, ref.region_code, ref.year, period or str(ref.year))


def state_counts(
    engine: Engine, region: str | None = None, year: int | None = None, period: str = ANNUAL
) -> dict[tuple[str, int], dict[str, int]]:
    """(region, year) → plan projects per state, every state present (0 when none), in SQL."""
    states = _project_states_stmt(region, year, period).subquery()
    stmt = select(states.c.region_code, states.c.year, states.c.state, func.count()).group_by(
        states.c.region_code, states.c.year, states.c.state
    )
    out: dict[tuple[str, int], dict[str, int]] = {}
    with engine.connect() as conn:
        for reg, yr, state, n in conn.execute(stmt):
            out.setdefault((reg, yr), dict.fromkeys(PROJECT_STATES, 0))[state] = n
    return dict(sorted(out.items()))


def direction_totals(
    engine: Engine, region: str | None = None, year: int | None = None, period: str = ANNUAL
) -> list[dict[str, Any]]:
    """One row per region, year and direction (类别): budget, planned projects and allocation,
    and the current submissions' count, allocation, funds received and spent for the period."""
    plan = (
        select(
            P.region_code,
            P.year,
            P.category,
            func.count().label("plan_projects"),
            func.sum(P.allocation).label("plan_allocation"),
        )
        .where(*_scope(P, region, year))
        .group_by(P.region_code, P.year, P.category)
        .subquery()
    )
    allocation, on_allocation = value_of(S.id, "allocation")
    received, on_received = value_of(S.id, "funds_received")
    spent, on_spent = value_of(S.id, "funds_spent")
    submitted = (
        select(
            P.region_code,
            P.year,
            P.category,
            func.count().label("submitted"),
            func.sum(allocation.value_money).label("submitted_allocation"),
            func.sum(received.value_money).label("funds_received"),
            func.sum(spent.value_money).label("funds_spent"),
        )
        .select_from(S)
        .outerjoin(allocation, on_allocation)
        .outerjoin(received, on_received)
        .outerjoin(spent, on_spent)
        .join(P, (P.region_code == S.region_code) & (P.year == S.year) & (P.no == S.project_no))
        .where(S.state == m.ACCEPTED, *_scope(S, region, year), *_period(period))
        .group_by(P.region_code, P.year, P.category)
        .subquery()
    )

    def on(sub: Any) -> ColumnElement[bool]:
        return (
            (sub.c.region_code == D.region_code)
            & (sub.c.year == D.year)
            & (sub.c.category == D.name)
        )

    stmt = (
        select(
            D.region_code,
            D.year,
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
        .outerjoin(plan, on(plan))
        .outerjoin(submitted, on(submitted))
        .where(*_scope(D, region, year))
        .order_by(D.region_code, D.year, D.name)
    )
    return _rows(engine, stmt)


def plan_vs_submitted(
    engine: Engine, ref: Reference, period: str | None = None
) -> list[dict[str, Any]]:
    """direction_totals of the reference's region and year, in the reference's direction order,
    without the region and year keys; `period` defaults to the annual report."""
    rows = direction_totals(engine, ref.region_code, ref.year, period or str(ref.year))
    order = {name: i for i, name in enumerate(ref.categories)}
    rows.sort(key=lambda r: order.get(r["direction"], len(order)))
    return [{k: v for k, v in r.items() if k not in ("region_code", "year")} for r in rows]


def submission_history(
    engine: Engine, region: str, year: int, period: str | None = None
) -> list[dict[str, Any]]:
    """Every stored submission of the region and year (of `period`, or of all periods), per
    project and period in arrival order: its version and state (accepted = current,
    superseded, rejected), file, time and run. Files without a project number come last."""
    stmt = (
        select(
            S.project_no,
            S.period,
            S.version,
            S.state,
            S.file_name,
            S.received_at,
            S.run_id,
            S.sha256,
        )
        .where(*_scope(S, region, year), *_period(period))
        .order_by(S.project_no.nulls_last(), S.period.nulls_last(), S.id)
    )
    return _rows(engine, stmt)


def file_counts(engine: Engine, region: str, year: int) -> dict[str, dict[str, int]]:
    """Stored submissions per state, and files received (receipts) per state, for a region-year."""
    out: dict[str, dict[str, int]] = {}
    with engine.connect() as conn:
        for name, model in (("submissions", S), ("receipts", R)):
            stmt = (
                select(model.state, func.count())
                .where(*_scope(model, region, year))
                .group_by(model.state)
                .order_by(model.state)
            )
            out[name] = {state: n for state, n in conn.execute(stmt)}
    return out
