"""The dimensions: region, plan year, directions, units, plan projects and indicators, upserted
from a year's reference files. Every load stores them first, so facts always find their keys."""

from __future__ import annotations

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from guidefund.reference import Reference
from guidefund.warehouse import models as m
from guidefund.warehouse.db import upsert


def load_reference_data(conn: Connection | Session, ref: Reference) -> None:
    """Upsert the year's region, directions, units, plan projects and indicators from `ref`.

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
    indicators = [
        {**key, "no": t.no, "name": t.name, "level1": t.level1, "level2": t.level2,
         "operator": t.operator, "target": t.target, "target_text": t.target_text,
         "unit": t.unit, "rule": t.rule, "field": t.field, "denominator": t.denominator,
         "condition": t.condition}
        for t in ref.targets
    ]  # fmt: skip
    upsert(c, m.Indicator, indicators, ["region_code", "year", "no"])


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
