"""The dimensions: region, plan year, directions, units, plan projects and indicators, upserted
from a year's reference files. Every load stores them first, so facts always find their keys.

The allocation plan is versioned: a plan.csv that differs from the stored current version (a
调整: projects added, removed, or with another name, unit, direction, kind or allocation)
records the next version in plan_version and plan_project, and `project` becomes the new
version's projects, so every query (which joins `project`) counts the current plan only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, insert, select
from sqlalchemy.orm import Session

from guidefund.reference import Reference
from guidefund.warehouse import models as m
from guidefund.warehouse.db import bulk_insert, upsert

# A plan project's attributes a version compares, and how the run summary names them.
PLAN_ATTRIBUTES = {"name": "项目名称", "unit": "申报单位", "category": "类别",
                   "project_type": "立项类型", "support_mode": "支持方式",
                   "allocation": "安排资金（万元）"}  # fmt: skip


@dataclass(frozen=True)
class PlanChange:
    """How plan version `version` differs from the one before it (version 1: from nothing)."""

    version: int
    added: tuple[tuple[int, str, Decimal], ...] = ()  # (no, name, allocation)
    removed: tuple[tuple[int, str, Decimal], ...] = ()
    # (no, name, {attribute: (before, after)})
    changed: tuple[tuple[int, str, dict[str, tuple[Any, Any]]], ...] = field(default=())

    def lines(self) -> list[str]:
        """The change in words, one line per project, for the run summary."""
        head = f"资金安排计划第 {self.version} 版"
        if self.version == 1:
            return [f"{head}：{len(self.added)} 个项目"]
        out = [f"{head}：新增 {len(self.added)} 个、删除 {len(self.removed)} 个、"
               f"调整 {len(self.changed)} 个项目"]  # fmt: skip
        out += [f"  新增 序号{no} {name}（安排资金 {_n(a)} 万元）" for no, name, a in self.added]
        out += [f"  删除 序号{no} {name}（安排资金 {_n(a)} 万元）" for no, name, a in self.removed]
        for no, name, what in self.changed:
            diffs = "；".join(
                f"{PLAN_ATTRIBUTES[k]} {_n(before)} → {_n(after)}"
                for k, (before, after) in what.items()
            )
            out.append(f"  调整 序号{no} {name}：{diffs}")
        return out


def _n(value: Any) -> str:
    return format(value.normalize(), "f") if isinstance(value, Decimal) else str(value)


def diff_plans(
    version: int, old: Mapping[int, Mapping[str, Any]], new: Mapping[int, Mapping[str, Any]]
) -> PlanChange:
    """What changed from plan `old` to plan `new` (project no → attributes)."""

    def brief(rows: Mapping[int, Mapping[str, Any]], nos: set[int]) -> tuple[Any, ...]:
        return tuple((no, rows[no]["name"], rows[no]["allocation"]) for no in sorted(nos))

    changed = []
    for no in sorted(set(old) & set(new)):
        what = {k: (old[no][k], new[no][k]) for k in PLAN_ATTRIBUTES if old[no][k] != new[no][k]}
        if what:
            changed.append((no, new[no]["name"], what))
    return PlanChange(
        version,
        added=brief(new, set(new) - set(old)),
        removed=brief(old, set(old) - set(new)),
        changed=tuple(changed),
    )


def _plan_rows(ref: Reference) -> dict[int, dict[str, Any]]:
    return {p.no: {k: getattr(p, k) for k in PLAN_ATTRIBUTES} for p in ref.plan}


def _version_rows(conn: Connection, region: str, year: int, version: int) -> dict[int, Any]:
    PP = m.PlanProject
    stmt = select(PP.no, *(getattr(PP, k) for k in PLAN_ATTRIBUTES)).where(
        PP.region_code == region, PP.year == year, PP.version == version
    )
    return {r.no: {k: getattr(r, k) for k in PLAN_ATTRIBUTES} for r in conn.execute(stmt)}


def _latest_version(conn: Connection, region: str, year: int) -> int | None:
    PV = m.PlanVersion
    stmt = select(func.max(PV.version)).where(PV.region_code == region, PV.year == year)
    return conn.execute(stmt).scalar()


def record_plan_version(conn: Connection, ref: Reference, run_id: int | None) -> PlanChange | None:
    """Record `ref`'s plan as the next version when it differs from the current one (or none is
    stored); return how it differs, or None when it is the current version already."""
    key = {"region_code": ref.region_code, "year": ref.year}
    latest = _latest_version(conn, ref.region_code, ref.year)
    old = {} if latest is None else _version_rows(conn, ref.region_code, ref.year, latest)
    new = _plan_rows(ref)
    if latest is not None and old == new:
        return None
    change = diff_plans((latest or 0) + 1, old, new)
    conn.execute(
        insert(m.PlanVersion).values(
            **key, version=change.version, recorded_at=datetime.now(UTC).replace(tzinfo=None),
            run_id=run_id, projects=len(ref.plan),
            allocation=sum((p.allocation for p in ref.plan), Decimal(0)),
            added=len(change.added), removed=len(change.removed), changed=len(change.changed),
        )
    )  # fmt: skip
    rows = [{**key, "version": change.version, "no": no, **attrs} for no, attrs in new.items()]
    bulk_insert(conn, m.PlanProject, rows)
    return change


def plan_change(engine: Engine, region: str, year: int, version: int) -> PlanChange:
    """How stored plan version `version` differs from the version before it."""
    with engine.connect() as conn:
        old = _version_rows(conn, region, year, version - 1) if version > 1 else {}
        return diff_plans(version, old, _version_rows(conn, region, year, version))


def plan_versions(engine: Engine, region: str, year: int) -> list[Any]:
    """Every stored plan version of a region-year, oldest first: version, recorded_at, run_id,
    projects, allocation, added, removed, changed."""
    PV = m.PlanVersion
    stmt = (
        select(PV.version, PV.recorded_at, PV.run_id, PV.projects, PV.allocation, PV.added,
               PV.removed, PV.changed)
        .where(PV.region_code == region, PV.year == year)
        .order_by(PV.version)
    )  # fmt: skip
    with engine.connect() as conn:
        return list(conn.execute(stmt))


def plan_of_version(engine: Engine, region: str, year: int, version: int) -> dict[int, Any]:
    """The projects of stored plan version `version`: no → attributes."""
    with engine.connect() as conn:
        return _version_rows(conn, region, year, version)


def changes_recorded_by(engine: Engine, region: str, year: int, run_id: int) -> list[PlanChange]:
    """The plan versions run `run_id` recorded for the region-year, with what each changed."""
    PV = m.PlanVersion
    stmt = select(PV.version).where(PV.region_code == region, PV.year == year,
                                    PV.run_id == run_id).order_by(PV.version)  # fmt: skip
    with engine.connect() as conn:
        versions = list(conn.execute(stmt).scalars())
    return [plan_change(engine, region, year, v) for v in versions]


def load_reference_data(
    conn: Connection | Session, ref: Reference, run_id: int | None = None
) -> PlanChange | None:
    """Upsert the year's region, directions, units, plan projects and indicators from `ref`;
    a plan that differs from the stored current version becomes the next version (recorded
    with `run_id`, the run that loaded it), and projects and directions it no longer has are
    removed from the current plan. Returns that change, or None.

    Idempotent; a corrected reference file overwrites the stored values."""
    c = conn.connection() if isinstance(conn, Session) else conn
    key = {"region_code": ref.region_code, "year": ref.year}
    upsert(c, m.Region, [{"code": ref.region_code, "name": ref.region_name}], ["code"])
    year_row = {
        **key,
        "fund_name": ref.fund_name,
        "annual_amount": ref.annual_amount,
        "central_amount": ref.central_amount,
        "local_amount": ref.local_amount,
    }
    upsert(c, m.PlanYear, [year_row], ["region_code", "year"])
    directions = [
        {**key, "name": b.category, "budget_total": b.total, "budget_carried": b.carried,
         "budget_new": b.new}
        for b in ref.budget.values()
    ]  # fmt: skip
    upsert(c, m.Direction, directions, ["region_code", "year", "name"])
    units = {p.unit: p.unit_type for p in ref.plan}
    upsert(c, m.Unit, [{"name": n, "unit_type": t} for n, t in units.items()], ["name"])
    projects = [
        {**key, "no": p.no, "name": p.name, "unit": p.unit, "category": p.category,
         "project_type": p.project_type, "support_mode": p.support_mode,
         "allocation": p.allocation}
        for p in ref.plan
    ]  # fmt: skip
    upsert(c, m.Project, projects, ["region_code", "year", "no"])
    change = record_plan_version(c, ref, run_id)
    if change is not None and change.removed:
        P, D = m.Project, m.Direction
        mine = (P.region_code == ref.region_code, P.year == ref.year)
        c.execute(delete(P).where(*mine, P.no.in_([no for no, _, _ in change.removed])))
        c.execute(
            delete(D).where(D.region_code == ref.region_code, D.year == ref.year,
                            D.name.not_in(list(ref.budget)))
        )  # fmt: skip
    indicators = [
        {**key, "no": t.no, "name": t.name, "level1": t.level1, "level2": t.level2,
         "operator": t.operator, "target": t.target, "target_text": t.target_text,
         "unit": t.unit, "rule": t.rule, "field": t.field, "denominator": t.denominator,
         "condition": t.condition}
        for t in ref.targets
    ]  # fmt: skip
    upsert(c, m.Indicator, indicators, ["region_code", "year", "no"])
    return change


def ensure_reference_data(conn: Connection, ref: Reference) -> None:
    """Store the year's reference data unless its plan year is stored already. The flows refresh
    it with load_reference_data when a run opens the warehouse; a load only needs the keys to
    exist, and re-upserting a large plan inside every batch would cost more than the batch."""
    P = m.PlanYear
    stored = conn.execute(
        select(P.year).where(P.region_code == ref.region_code, P.year == ref.year)
    ).first()
    if stored is None:
        load_reference_data(conn, ref)
