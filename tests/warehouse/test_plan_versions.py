"""A plan amendment (调整) is a new plan version: what changed is recorded, every query counts
the current version's projects only, and earlier versions stay readable."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from guidefund.reference import Reference, load_reference
from guidefund.warehouse import models as m
from guidefund.warehouse.consolidated import consolidated_status
from guidefund.warehouse.dimensions import (
    PlanChange,
    load_reference_data,
    plan_change,
    plan_of_version,
    plan_versions,
)
from guidefund.warehouse.load import finish_run, load_batch, start_run
from guidefund.warehouse.queries import current_submissions, field_totals, projects_without
from tests.yearbuild import amend_plan, copy_year, read_csv

REMOVED, LOWER, HIGHER = 7, 31, 32  # a 后补助 project with 0, two 直接补助 of one direction


@pytest.fixture
def amended(ref: Reference, tmp_path: Path) -> Reference:
    """The 2024 plan without project 7, 16 万元 moved from project 31 to project 32."""
    year_dir = copy_year(ref.year_dir, tmp_path / "amended", ref.year)
    amend_plan(year_dir, {REMOVED}, {LOWER: Decimal(200), HIGHER: Decimal(316)})
    return load_reference(tmp_path / "amended", ref.year)


def _store(engine: Engine, ref: Reference, run_id: int | None = None) -> PlanChange | None:
    with engine.begin() as conn:
        return load_reference_data(conn, ref, run_id)


def test_the_first_plan_is_version_1_and_loading_it_again_records_nothing(
    warehouse: Engine, ref: Reference
) -> None:
    first = _store(warehouse, ref)
    again = _store(warehouse, ref)

    assert first is not None and first.lines() == ["资金安排计划第 1 版：136 个项目"]
    assert again is None
    [v1] = plan_versions(warehouse, ref.region_code, ref.year)
    assert (v1.version, v1.projects, v1.allocation, v1.added) == (1, 136, Decimal("11087"), 136)


def test_an_amended_plan_is_the_next_version_with_what_was_removed_and_changed(
    warehouse: Engine, ref: Reference, amended: Reference
) -> None:
    _store(warehouse, ref)
    run_id = start_run(warehouse, "nightly")

    change = _store(warehouse, amended, run_id)

    names = {int(r["序号"]): r["项目名称"] for r in read_csv(ref.year_dir / "plan.csv")}
    assert change is not None
    assert change.lines() == [
        "资金安排计划第 2 版：新增 0 个、删除 1 个、调整 2 个项目",
        f"  删除 序号7 {names[7]}（安排资金 0 万元）",
        f"  调整 序号31 {names[31]}：安排资金（万元） 216 → 200",
        f"  调整 序号32 {names[32]}：安排资金（万元） 300 → 316",
    ]
    assert plan_change(warehouse, ref.region_code, ref.year, 2) == change
    versions = plan_versions(warehouse, ref.region_code, ref.year)
    assert [(v.version, v.run_id, v.projects, v.removed, v.changed) for v in versions] == [
        (1, None, 136, 0, 0),
        (2, run_id, 135, 1, 2),
    ]
    # Earlier versions stay readable; the current one is what `project` holds.
    v1 = plan_of_version(warehouse, ref.region_code, ref.year, 1)
    v2 = plan_of_version(warehouse, ref.region_code, ref.year, 2)
    assert (REMOVED in v1, REMOVED in v2) == (True, False)
    assert (v1[LOWER]["allocation"], v2[LOWER]["allocation"]) == (Decimal(216), Decimal(200))
    with warehouse.connect() as conn:
        P = m.Project
        current = dict(conn.execute(select(P.no, P.allocation).where(P.year == ref.year)).all())
        total = conn.execute(select(func.sum(P.allocation))).scalar_one()
    assert (len(current), REMOVED in current, current[HIGHER]) == (135, False, Decimal(316))
    assert total == Decimal("11087")


def test_a_removed_project_no_longer_counts_in_figures_status_or_checks(
    warehouse: Engine, ref: Reference, amended: Reference, make_submission
) -> None:
    run_id = start_run(warehouse, "nightly")
    subs = [make_submission(REMOVED, funds_spent=Decimal("0"), achievements=5),
            make_submission(13, funds_spent=Decimal("7.50"), achievements=2)]  # fmt: skip
    load_batch(warehouse, ref, run_id, subs, [])
    finish_run(warehouse, run_id)
    before = field_totals(warehouse, ref.region_code, ref.year, "2024")["achievements"]

    _store(warehouse, amended)

    assert before == Decimal(7)
    assert field_totals(warehouse, ref.region_code, ref.year, "2024")["achievements"] == 2
    rows = current_submissions(warehouse, ref.region_code, ref.year)
    assert [r["project_no"] for r in rows] == [13]
    missing = {r.no for r in projects_without(warehouse, ref.region_code, ref.year, "2024")}
    assert REMOVED not in missing and len(missing) == 134
    status = consolidated_status(warehouse, amended, "2024")
    assert REMOVED not in {r["project_no"] for r in status}
    assert len(status) == 135


def test_upgrading_to_0007_makes_the_stored_plan_version_1(
    warehouse: Engine, ref: Reference, amended: Reference
) -> None:
    from alembic import command

    from guidefund.warehouse.db import alembic_config, upgrade

    _store(warehouse, amended)  # stored before plan versions existed: 135 projects
    with warehouse.begin() as conn:
        command.downgrade(alembic_config(conn), "0006_portal")

    upgrade(warehouse)

    [v1] = plan_versions(warehouse, ref.region_code, ref.year)
    assert (v1.version, v1.projects, v1.allocation, v1.run_id) == (1, 135, Decimal("11087"), None)
    assert REMOVED not in plan_of_version(warehouse, ref.region_code, ref.year, 1)
    assert _store(warehouse, amended) is None  # the same plan: no new version
    change = _store(warehouse, ref)  # project 7 back, the allocations as first planned
    assert change is not None
    assert (change.version, [a[0] for a in change.added], len(change.changed)) == (2, [7], 2)
