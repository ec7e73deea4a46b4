"""The migrations build exactly the models' schema, and the reference loads once."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, func, inspect, select

from flows.reference import Reference
from warehouse import models as m
from warehouse.db import alembic_config, make_engine, upgrade
from warehouse.load import FACTS, load_reference_data


def test_upgrading_an_empty_database_gives_exactly_the_models_schema(engine: Engine) -> None:
    upgrade(engine)

    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, m.Base.metadata) == []
        assert (
            context.get_current_revision()
            == ScriptDirectory.from_config(alembic_config()).get_current_head()
        )
        tables = set(inspect(conn).get_table_names())
    assert tables == set(m.Base.metadata.tables) | {"alembic_version"}


def test_upgrading_twice_changes_nothing(engine: Engine) -> None:
    upgrade(engine)
    upgrade(engine)

    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, m.Base.metadata) == []


def test_downgrading_to_base_removes_every_table(engine: Engine) -> None:
    upgrade(engine)
    with engine.begin() as conn:
        command.downgrade(alembic_config(conn), "base")

    assert set(inspect(engine).get_table_names()) == {"alembic_version"}


def test_the_migration_keeps_one_current_version_per_project_and_period(warehouse: Engine) -> None:
    """The partial unique index exists in the database, not only in the models."""
    indexes = {i["name"]: i for i in inspect(warehouse).get_indexes("submission")}

    current = indexes["uq_submission_current"]
    assert current["unique"]
    assert current["column_names"] == ["region_code", "year", "project_no", "period"]


def test_sqlite_engine_creates_its_folder_and_turns_on_wal_and_foreign_keys(
    tmp_path: Path,
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'a' / 'b' / 'w.sqlite'}")

    with engine.connect() as conn:
        pragmas = (
            conn.exec_driver_sql("PRAGMA journal_mode").scalar(),
            conn.exec_driver_sql("PRAGMA foreign_keys").scalar(),
        )
    engine.dispose()
    assert pragmas == ("wal", 1)
    assert (tmp_path / "a" / "b" / "w.sqlite").exists()


def test_every_template_field_is_stored_as_a_fact_or_on_the_submission_or_the_plan(
    ref: Reference,
) -> None:
    facts = {c.name for t in FACTS for c in t.__table__.columns} - {"submission_id"}
    on_submission = {"template_version", "project_no", "period"}
    from_plan = {"project_name", "unit_name", "unit_type", "category", "project_type",
                 "support_mode"}  # fmt: skip

    assert {f.key for f in ref.fields} == facts | on_submission | from_plan
    assert not facts & (on_submission | from_plan)


def test_loading_the_reference_twice_stores_the_2024_plan_once(
    warehouse: Engine, ref: Reference, row_counts
) -> None:
    with warehouse.begin() as conn:
        load_reference_data(conn, ref)
    with warehouse.begin() as conn:
        load_reference_data(conn, ref)

    counts = row_counts(warehouse)
    assert {k: counts[k] for k in ("region", "plan_year", "direction", "project", "indicator")} == {
        "region": 1,
        "plan_year": 1,
        "direction": 4,
        "project": 136,
        "indicator": 18,
    }
    assert counts["unit"] == len({p.unit for p in ref.plan})
    with warehouse.connect() as conn:
        total = conn.execute(select(func.sum(m.Project.allocation))).scalar_one()
        budgets = dict(conn.execute(select(m.Direction.name, m.Direction.budget_total)).all())
    assert total == Decimal("11087")
    assert budgets == {
        "区域科技创新体系建设": Decimal("855"),
        "科技创新基地建设": Decimal("5324"),
        "科技成果转移转化": Decimal("4093"),
        "自由探索类基础研究": Decimal("815"),
    }
