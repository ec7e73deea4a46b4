"""A load that dies part-way leaves the warehouse as it was; the next run loads everything once.

Failures are real, on both dialects: the database connection is closed under SQLAlchemy between
two statements of the load, or a trigger makes the database refuse one table's insert (which
also reaches PostgreSQL's COPY path).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

import pytest
from sqlalchemy import Engine, event, select
from sqlalchemy.exc import DBAPIError

from guidefund.reference import Reference
from guidefund.warehouse import models as m
from guidefund.warehouse.load import LoadResult, finish_run, load_batch, start_run

S, R = m.Submission, m.Receipt


@contextmanager
def connection_closed_before(engine: Engine, statement: str) -> Iterator[None]:
    """Close the DBAPI connection just before the first statement that starts with `statement`:
    the load has run every statement before it, and the connection is gone."""
    fired: list[str] = []

    def close(conn, cursor, sql, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        if not fired and sql.lstrip().upper().startswith(statement):
            fired.append(sql)
            conn.connection.dbapi_connection.close()

    event.listen(engine, "before_cursor_execute", close)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", close)


@contextmanager
def insert_refused(engine: Engine, table: str) -> Iterator[None]:
    """A trigger that makes the database refuse any row inserted into `table`."""
    with engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql(
                f"CREATE TRIGGER refuse_{table} BEFORE INSERT ON {table} "
                "BEGIN SELECT RAISE(ABORT, 'injected failure'); END"
            )
        else:
            conn.exec_driver_sql(
                "CREATE OR REPLACE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN RAISE EXCEPTION 'injected failure'; END $$"
            )
            conn.exec_driver_sql(
                f"CREATE TRIGGER refuse_{table} BEFORE INSERT ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION refuse()"
            )
    try:
        yield
    finally:
        with engine.begin() as conn:
            on = "" if conn.dialect.name == "sqlite" else f" ON {table}"
            conn.exec_driver_sql(f"DROP TRIGGER refuse_{table}{on}")


def _history(engine: Engine) -> list[tuple[object, ...]]:
    with engine.connect() as conn:
        rows = conn.execute(select(S.project_no, S.version, S.state, S.file_name).order_by(S.id))
        return [tuple(r) for r in rows]


def _receipts_per_run(engine: Engine) -> dict[int, int]:
    with engine.connect() as conn:
        rows = conn.execute(select(R.run_id, R.id))
        out: dict[int, int] = {}
        for run_id, _ in rows:
            out[run_id] = out.get(run_id, 0) + 1
        return out


@pytest.fixture
def loaded_once(warehouse: Engine, ref: Reference, make_submission, make_finding):
    """Project 1 stored by run 1; then the batch the failing run will try: a new version of 1,
    project 13, and a rejected file of project 2 with its finding."""
    run_id = start_run(warehouse, "nightly")
    load_batch(warehouse, ref, run_id, [make_submission(1)], [])
    finish_run(warehouse, run_id)
    bad = make_submission(2, funds_spent=Decimal("400"))
    accepted = [make_submission(1, file_name="001_v2.xlsx", brokers=9), make_submission(13)]
    return accepted, [(bad, [make_finding(bad.file_name)])]


TABLES = ("submission", "fund_execution", "indicator_contribution", "self_evaluation", "finding",
          "receipt")  # fmt: skip
FAILURES = [
    pytest.param(
        lambda e: connection_closed_before(e, "UPDATE SUBMISSION"), "closed", True,
        id="connection-closed-before-superseding-the-current-version",
    ),
    pytest.param(
        lambda e: connection_closed_before(e, "UPDATE RUN"), "closed", True,
        id="connection-closed-after-every-insert-before-the-run-counts",
    ),
    *[
        pytest.param(
            lambda e, t=t: insert_refused(e, t), "injected failure", False,
            id=f"insert-into-{t}-refused",
        )
        for t in TABLES
    ],
]  # fmt: skip


@pytest.mark.parametrize(("failure", "match", "invalidated"), FAILURES)
def test_a_load_that_dies_midway_leaves_the_warehouse_as_it_was_and_the_next_run_loads_once(
    warehouse: Engine, ref: Reference, loaded_once, row_counts, failure, match, invalidated
) -> None:
    accepted, rejected = loaded_once
    before = row_counts(warehouse)
    run_id = start_run(warehouse, "nightly")
    with failure(warehouse), pytest.raises(DBAPIError, match=match) as raised:
        load_batch(warehouse, ref, run_id, accepted, rejected)
    finish_run(warehouse, run_id, "failed", note=str(raised.value.orig))

    assert row_counts(warehouse) == before
    assert _history(warehouse) == [(1, 1, "accepted", "001_2024.xlsx")]
    # A dead connection is what the flows' retry rule treats as transient; a refusal is not.
    assert raised.value.connection_invalidated is invalidated

    retry = start_run(warehouse, "nightly")
    result = load_batch(warehouse, ref, retry, accepted, rejected)
    finish_run(warehouse, retry)

    assert result == LoadResult(received=3, accepted=2, rejected=1, duplicate=0, superseded=1)
    assert _history(warehouse) == [
        (1, 1, "superseded", "001_2024.xlsx"),
        (1, 2, "accepted", "001_v2.xlsx"),
        (13, 1, "accepted", "013_2024.xlsx"),
        (2, None, "rejected", "002_2024.xlsx"),
    ]
    counts = row_counts(warehouse)
    assert (counts["fund_execution"], counts["finding"], counts["receipt"]) == (3, 1, 4)
    assert _receipts_per_run(warehouse) == {1: 1, retry: 3}
    with warehouse.connect() as conn:
        failed = conn.execute(select(m.Run.status, m.Run.received).where(m.Run.id == run_id))
        assert tuple(failed.one()) == ("failed", 0)
