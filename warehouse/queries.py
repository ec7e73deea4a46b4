"""Read the warehouse: current submissions, their totals, the year-end breakdowns and what the
alert rules look at, in SQL (the consolidated view, 汇总表, is in warehouse/consolidated.py).

"Current" means the accepted (newest) version of each project and period. Sums run in SQL and
come back as Decimal; a weighted mean is two SQL sums divided in Decimal, so both dialects
round it the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Engine,
    Numeric,
    and_,
    exists,
    func,
    select,
)
from sqlalchemy import type_coerce as coerce
from sqlalchemy.orm import aliased

from guidefund.warehouse import models as m

S, P, D = m.Submission, m.Project, m.Direction
W, V = m.Finding, m.FieldValue
RATE_PLACES = Decimal("0.0001")


def _number(fv: Any) -> Any:
    """A field value as a number, whatever its numeric kind (only its kind's column is set)."""
    return func.coalesce(fv.value_money, fv.value_rate, fv.value_count)


def value_of(submission_id: Any, key: str) -> tuple[Any, ColumnElement[bool]]:
    """A field_value alias holding field `key` of the submission `submission_id`, and the
    condition to join it on (outer: a submission may lack a field its year's template dropped)."""
    fv = aliased(V)
    return fv, and_(fv.submission_id == submission_id, fv.field_key == key)


def current(region: str, year: int, period: str | None = None) -> list[ColumnElement[bool]]:
    """The one definition of "current": the accepted (newest) version of a project and period,
    of one region-year (and one period when given). Every query of current figures uses it."""
    where = [S.region_code == region, S.year == year, S.state == m.ACCEPTED]
    return where + ([S.period == period] if period is not None else [])


def of_project() -> ColumnElement[bool]:
    """A submission joined to its plan project."""
    return and_(P.region_code == S.region_code, P.year == S.year, P.no == S.project_no)


def current_submissions(engine: Engine, region: str, year: int) -> list[dict[str, Any]]:
    """One dict per project of the current plan version and period: the current version's file
    and every field value, by field key (every field stored for the region-year is present;
    None when not reported). A project an amendment removed from the plan is left out."""
    heads = (
        select(S.id.label("submission_id"), S.project_no, S.period, S.version, S.file_name,
               S.sha256, S.received_at)
        .join(P, of_project())
        .where(*current(region, year))
        .order_by(S.project_no, S.period)
    )  # fmt: skip
    values = (
        select(V.submission_id, V.field_key, V.kind, *[getattr(V, c) for c in _VALUE_COLUMNS])
        .join(S, S.id == V.submission_id)
        .join(P, of_project())
        .where(*current(region, year))
    )
    with engine.connect() as conn:
        rows = {r.submission_id: dict(r._mapping) for r in conn.execute(heads)}
        found = list(conn.execute(values))
    keys = dict.fromkeys(r.field_key for r in found)
    for row in rows.values():
        row.update(dict.fromkeys(keys))
    for r in found:
        rows[r.submission_id][r.field_key] = _value(r)
    return list(rows.values())


_VALUE_COLUMNS = tuple(dict.fromkeys(m.VALUE_COLUMNS.values()))


def _value(r: Any) -> Any:
    value = getattr(r, m.VALUE_COLUMNS[r.kind]) if r.kind in m.VALUE_COLUMNS else None
    return bool(value) if r.kind == "yesno" and value is not None else value


def field_totals(
    engine: Engine, region: str, year: int, period: str, kinds: Mapping[str, str] | None = None
) -> dict[str, Decimal]:
    """SQL SUM of every money, count and yes/no field (yes counts 1), by field key, over the
    current submissions of plan projects for `period`; Decimal. `kinds` (field key → 类型 of
    template_fields.csv) names the fields that count even when nothing is submitted: 0."""
    stmt = _values_of_plan_projects(
        select(V.field_key, V.kind, func.sum(V.value_money), func.sum(V.value_count)),
        region,
        year,
        period,
    )
    stmt = stmt.where(V.kind.in_(m.SUMMED_KINDS)).group_by(V.field_key, V.kind)
    sums = {
        key: Decimal(0)
        for key, kind in (kinds or {}).items()
        if kind in m.SUMMED_KINDS and key not in m.ON_SUBMISSION
    }
    for key, kind, money, count in _rows(engine, stmt):
        sums[key] = Decimal((money if kind == "money" else count) or 0)
    return sums


def weighted_mean(
    engine: Engine, region: str, year: int, period: str, field: str, weight: str = "allocation"
) -> Decimal | None:
    """SUM(field * weight) / SUM(weight) over the current submissions of plan projects that
    report both, rounded half-up to 4 places; None when the weights sum to 0. A field stored
    with a non-numeric kind is refused."""
    kinds = (
        select(V.field_key, V.kind)
        .join(S, S.id == V.submission_id)
        .where(*current(region, year), V.field_key.in_((field, weight)))
    )
    for name, kind in _rows(engine, kinds.distinct()):
        if kind not in m.NUMBER_KINDS:
            raise ValueError(f"{name!r} is not a numeric submission field")
    x, w = aliased(V), aliased(V)
    xv, wv = _number(x), _number(w)
    stmt = (
        select(
            func.sum(coerce(xv * wv, Numeric(28, 6))).label("num"),
            func.sum(coerce(wv, Numeric(18, 2))).label("den"),
        )
        .select_from(S)
        .join(x, and_(x.submission_id == S.id, x.field_key == field))
        .join(w, and_(w.submission_id == S.id, w.field_key == weight))
        .join(P, of_project())
        .where(*current(region, year, period), xv.is_not(None), wv.is_not(None))
    )
    with engine.connect() as conn:
        num, den = conn.execute(stmt).one()
    if not den:
        return None
    return (Decimal(num) / Decimal(den)).quantize(RATE_PLACES, rounding=ROUND_HALF_UP)


def _values_of_plan_projects(stmt: Any, region: str, year: int, period: str) -> Any:
    return (
        stmt.select_from(S)
        .join(V, V.submission_id == S.id)
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
    received, on_received = value_of(S.id, "funds_received")
    spent, on_spent = value_of(S.id, "funds_spent")
    stmt = (
        select(
            col.label("grp"),
            func.count(P.no).label("projects"),
            func.count(S.id).label("submitted"),
            func.coalesce(func.sum(P.allocation), 0).cast(money).label("allocation"),
            func.coalesce(func.sum(received.value_money), 0).cast(money).label("received"),
            func.coalesce(func.sum(spent.value_money), 0).cast(money).label("spent"),
        )
        .select_from(P)
        .outerjoin(S, reported)
        .outerjoin(received, on_received)
        .outerjoin(spent, on_spent)
        .where(P.region_code == region, P.year == year)
        .group_by(col)
    )
    return _rows(engine, stmt)


def grade_counts(engine: Engine, region: str, year: int, period: str) -> list[Any]:
    """(category, self_grade, n): how many current submissions of each direction graded
    themselves each way."""
    grade, on_grade = value_of(S.id, "self_grade")
    stmt = (
        select(P.category, grade.value_text.label("self_grade"), func.count().label("n"))
        .select_from(S)
        .outerjoin(grade, on_grade)
        .join(P, of_project())
        .where(*current(region, year, period))
        .group_by(P.category, grade.value_text)
    )
    return _rows(engine, stmt)


def stated_reasons(engine: Engine, region: str, year: int, period: str) -> list[dict[str, Any]]:
    """One dict per current submission whose unit stated a 偏差原因及改进措施: the project
    number, the reason and every money, count and yes/no field by key (to weigh its
    contribution)."""
    reason, on_reason = value_of(S.id, "deviation_reason")
    stated = (
        select(S.id, S.project_no, reason.value_text.label("deviation_reason"))
        .join(reason, on_reason)
        .join(P, of_project())
        .where(*current(region, year, period))
        .where(reason.value_text.is_not(None), reason.value_text != "")
    )
    values = (
        select(V.submission_id, V.field_key, V.kind, V.value_money, V.value_count, V.value_rate)
        .where(V.submission_id.in_(stated.with_only_columns(S.id).scalar_subquery()))
        .where(V.kind.in_(m.NUMBER_KINDS))
    )
    rows = {
        r.id: {"project_no": r.project_no, "deviation_reason": r.deviation_reason}
        for r in _rows(engine, stated)
    }
    for r in _rows(engine, values):
        rows[r.submission_id][r.field_key] = _value(r)
    return sorted(rows.values(), key=lambda r: r["project_no"])


def slow_projects(engine: Engine, region: str, year: int, period: str, below: Decimal) -> list[Any]:
    """Reported projects with an allocation whose execution may be under `below` percent. SQL
    narrows with one point of slack (SQLite compares floats); callers decide exactly."""
    spent, on_spent = value_of(S.id, "funds_spent")
    reason, on_reason = value_of(S.id, "deviation_reason")
    stmt = (
        select(P.no, P.name, P.unit, P.category, P.allocation,
               spent.value_money.label("funds_spent"),
               reason.value_text.label("deviation_reason"))
        .select_from(S)
        .join(spent, on_spent)
        .outerjoin(reason, on_reason)
        .join(P, of_project())
        .where(*current(region, year, period), P.allocation > 0)
        .where(spent.value_money * 100 < (below + 1) * P.allocation)
        .order_by(P.no)
    )  # fmt: skip
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
    """The stored findings of `severity` of current submissions of plan projects (a superseded
    file's are stale, a removed project's no longer count)."""
    stmt = (
        select(W.file, W.sheet, W.cell, W.label, W.value, W.rule, W.message, S.period, S.sha256,
               S.project_no)
        .join(S, S.id == W.submission_id)
        .join(P, of_project())
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
    received, on_received = value_of(S.id, "funds_received")
    spent, on_spent = value_of(S.id, "funds_spent")
    stmt = (
        select(
            P.no, P.name, P.unit, P.category, P.allocation,
            received.value_money.label("funds_received"), spent.value_money.label("funds_spent"),
        )
        .select_from(S)
        .join(P, of_project())
        .outerjoin(received, on_received)
        .outerjoin(spent, on_spent)
        .where(*current(region, year, period))
        .order_by(P.no)
    )  # fmt: skip
    return _rows(engine, stmt)
