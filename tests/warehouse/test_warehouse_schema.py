"""The migrations build exactly the models' schema, carry existing data forward, and the
reference loads once; the PostgreSQL fixture fails rather than skips when CI names a server."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, func, inspect, select, text

from guidefund.reference import Reference
from guidefund.warehouse import models as m
from guidefund.warehouse.db import (
    alembic_config,
    current_revision,
    make_engine,
    upgrade,
)
from guidefund.warehouse.load import FACTS, load_reference_data
from tests import pg


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
    facts = {c.name for t in FACTS for c in t.__table__.columns} - set(m.FACT_KEYS)
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


# Rows as revision 0001 stored them: one run that received project 13 twice (v1 superseded by
# v2 in the same batch) and a rejected file, a finding on it and one on no stored file.
AT_0001 = [
    "INSERT INTO region (code, name) VALUES ('650000', '新疆维吾尔自治区')",
    "INSERT INTO plan_year VALUES ('650000', 2024, '中央引导地方科技发展资金', 11087, 11087, 0)",
    "INSERT INTO run (id, flow_name, started_at, status, received, accepted, rejected, duplicate,"
    " superseded) VALUES (1, 'nightly', '2024-12-01 02:00:00', 'succeeded', 3, 2, 1, 0, 1)",
    "INSERT INTO submission (id, region_code, year, project_no, period, version, file_name,"
    " sha256, received_at, state, run_id) VALUES"
    " (1, '650000', 2024, 13, '2024', 1, 'a.xlsx', 'aa', '2024-12-01 02:00:01', 'superseded', 1),"
    " (2, '650000', 2024, 13, '2024', 2, 'b.xlsx', 'bb', '2024-12-01 02:00:01', 'accepted', 1),"
    " (3, '650000', 2024, 2, '2024', NULL, 'c.xlsx', 'cc', '2024-12-01 02:00:01', 'rejected', 1)",
    "INSERT INTO fund_execution (submission_id, funds_spent) VALUES (1, 10.5), (2, 20.25)",
    "INSERT INTO indicator_contribution (submission_id, brokers) VALUES (1, 1), (2, 2)",
    "INSERT INTO self_evaluation (submission_id, self_grade) VALUES (1, '优'), (2, '良')",
    "INSERT INTO finding (id, run_id, submission_id, file, sheet, cell, field, label, value,"
    " rule, severity, message) VALUES"
    " (1, 1, 3, 'c.xlsx', '资金情况', 'C5', 'funds_spent', '实际支出', '-1', 'r', 'critical', 'm'),"
    " (2, 1, NULL, 'x.xlsx', '', '', '', '文件', '.doc', 'r', 'critical', 'm')",
]


def test_upgrading_stored_data_to_0002_gives_every_fact_its_region_and_every_file_a_receipt(
    engine: Engine,
) -> None:
    upgrade(engine, "0001")
    with engine.begin() as conn:
        for statement in AT_0001:
            conn.execute(text(statement))

    upgrade(engine, "0002")

    assert current_revision(engine) == "0002"
    with engine.connect() as conn:
        regions = {
            table: conn.execute(text(f"SELECT DISTINCT region_code, year FROM {table}")).all()
            for table in ("fund_execution", "indicator_contribution", "self_evaluation", "finding")
        }
        receipts = conn.execute(
            text("SELECT run_id, file_name, state, submission_id FROM receipt ORDER BY id")
        ).all()
        fe = m.FundExecution
        spent = conn.execute(select(fe.funds_spent).order_by(fe.submission_id)).scalars()
        assert [str(v) for v in spent] == ["10.50", "20.25"]
    assert {t: [tuple(r) for r in rows] for t, rows in regions.items()} == {
        t: [("650000", 2024)] for t in regions
    }
    assert [tuple(r) for r in receipts] == [
        (1, "a.xlsx", "superseded", 1),
        (1, "b.xlsx", "accepted", 2),
        (1, "c.xlsx", "rejected", 3),
    ]


def test_a_database_never_migrated_has_no_revision(engine: Engine) -> None:
    assert current_revision(engine) is None


def test_postgres_tests_fail_when_ci_names_a_server_that_does_not_answer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(pg.ENV, "postgresql+psycopg://postgres@127.0.0.1:1/test")

    with pytest.raises(pytest.fail.Exception, match="is set but PostgreSQL at .*:1/test"):
        with pg.postgres_schema():
            pass


def test_postgres_tests_are_skipped_only_when_no_server_is_named_or_found(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(pg.ENV, raising=False)
    monkeypatch.setattr(pg, "DEFAULT", "postgresql+psycopg://postgres@127.0.0.1:1/test")

    with pytest.raises(pytest.skip.Exception, match="is unset"):
        with pg.postgres_schema():
            pass
