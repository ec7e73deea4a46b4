"""Bulk load of N synthetic submissions (default 50,000) on SQLite and PostgreSQL, against the
naive row-by-row ORM load (one file at a time: look up, add, flush, commit).

Run: `.venv/bin/python benchmarks/warehouse_load.py [--n 50000] [--naive 500] [--postgres URL]`.
The naive load is timed on the first `--naive` files and extrapolated linearly to N (it is
linear: every file costs the same lookups, inserts and commit); the output says so. On
PostgreSQL it also times COPY against executemany for one fact table. Prints figures and ratios;
asserts nothing about time. SQLite files go to a fresh temporary directory; PostgreSQL gets a
schema of its own, dropped at the end. PostgreSQL is skipped (with a note) when it does not answer.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from sqlalchemy import Column, Engine, MetaData, Table, insert, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.exc import OperationalError  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402
from synthetic import reject_every, synthetic_reference, synthetic_submissions  # noqa: E402

from guidefund.records import Submission  # noqa: E402
from guidefund.reference import Reference, load_reference  # noqa: E402
from guidefund.settings import PROJECT_ROOT  # noqa: E402
from guidefund.warehouse import models as m  # noqa: E402
from guidefund.warehouse.db import bulk_insert, make_engine, upgrade  # noqa: E402
from guidefund.warehouse.dimensions import load_reference_data  # noqa: E402
from guidefund.warehouse.load import (  # noqa: E402
    FACTS,
    field_value_rows,
    finish_run,
    load_batch,
    start_run,
)

POSTGRES = os.environ.get(
    "GUIDEFUND_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


T = TypeVar("T")


def timed(fn: Callable[[], T]) -> tuple[float, T]:
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


@contextmanager
def sqlite_database() -> Iterator[Callable[[], Engine]]:
    folder = Path(tempfile.mkdtemp(prefix="guidefund-wh-bench-"))
    n = iter(range(1_000))
    yield lambda: make_engine(f"sqlite:///{folder / f'w{next(n)}.sqlite'}")


@contextmanager
def postgres_database(url: str) -> Iterator[Callable[[], Engine]]:
    admin = make_engine(url, connect_args={"connect_timeout": 5})
    schemas: list[str] = []

    def fresh() -> Engine:
        schemas.append(f"gf_bench_{uuid.uuid4().hex[:12]}")
        with admin.begin() as conn:
            conn.exec_driver_sql(f"CREATE SCHEMA {schemas[-1]}")
        opts = {"options": f"-csearch_path={schemas[-1]}"}
        return make_engine(make_url(url).update_query_dict(opts))

    try:
        yield fresh
    finally:
        with admin.begin() as conn:
            for schema in schemas:
                conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


def bulk(engine: Engine, ref: Reference, subs: list[Submission]) -> dict[str, float]:
    """The warehouse's own path: reference upsert, then one load_batch; then the same batch again."""
    upgrade(engine)
    t_ref, _ = timed(lambda: _reference(engine, ref))
    accepted, rejected = reject_every(subs, 50)
    run_id = start_run(engine, "bench")
    t_load, result = timed(lambda: load_batch(engine, ref, run_id, accepted, rejected))
    finish_run(engine, run_id)
    run_id = start_run(engine, "bench")
    t_again, again = timed(lambda: load_batch(engine, ref, run_id, accepted, rejected))
    finish_run(engine, run_id)
    assert again.duplicate == len(subs), "the second load must find every file stored"
    print(f"    loaded {result}")
    return {"reference": t_ref, "load": t_load, "again": t_again}


def _reference(engine: Engine, ref: Reference) -> None:
    with engine.begin() as conn:
        load_reference_data(conn, ref)


def naive(engine: Engine, ref: Reference, subs: list[Submission]) -> float:
    """Row by row with the ORM, one commit per file, doing the same job (duplicate check,
    versioning, facts, receipt). Returns seconds for `subs`."""
    upgrade(engine)
    _reference(engine, ref)
    run_id = start_run(engine, "bench-naive")
    S = m.Submission
    t = time.perf_counter()
    with Session(engine) as session:
        for sub in subs:
            now = datetime.now(UTC).replace(tzinfo=None)
            key = {"region_code": ref.region_code, "year": ref.year}
            stored = session.scalar(select(S.id).filter_by(**key, sha256=sub.sha256))
            if stored is not None:
                session.add(m.Receipt(**key, run_id=run_id, file_name=sub.file_name,
                                      sha256=sub.sha256, received_at=now, state="duplicate",
                                      submission_id=stored))  # fmt: skip
                session.commit()
                continue
            current = session.scalar(
                select(S).filter_by(
                    **key, project_no=sub.project_no, period=sub.period, state=m.ACCEPTED
                )  # fmt: skip
            )
            version = 1
            if current is not None:
                current.state, version = m.SUPERSEDED, (current.version or 0) + 1
                session.flush()
            row = S(**key, project_no=sub.project_no, period=sub.period, version=version,
                    template_version=str(sub.values["template_version"]),
                    file_name=sub.file_name, sha256=sub.sha256, received_at=now,
                    state=m.ACCEPTED, run_id=run_id)  # fmt: skip
            session.add(row)
            session.flush()
            for model in FACTS:
                fields = [c.name for c in model.__table__.columns if c.name not in m.FACT_KEYS]
                session.add(model(submission_id=row.id, **key,
                                  **{f: sub.values.get(f) for f in fields}))  # fmt: skip
            for value in field_value_rows(ref, [(sub, row.id)]):
                session.add(m.FieldValue(**value))
            session.add(m.Receipt(**key, run_id=run_id, file_name=sub.file_name,
                                  sha256=sub.sha256, received_at=now, state=m.ACCEPTED,
                                  submission_id=row.id))  # fmt: skip
            session.commit()
    return time.perf_counter() - t


def copy_vs_executemany(engine: Engine, n: int) -> tuple[float, float]:
    """Seconds to put n fund_execution rows in a constraint-free temporary table by COPY
    (warehouse.db.bulk_insert on PostgreSQL) and by one executemany."""
    source = m.FundExecution.__table__
    columns = [Column(c.name, c.type) for c in source.columns]
    temp = Table("fe_bench", MetaData(), *columns, prefixes=["TEMPORARY"])
    with engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(select(source).limit(n))]
    rows = (rows * (n // max(len(rows), 1) + 1))[:n]
    times = []
    for way in ("copy", "executemany"):
        with engine.begin() as conn:
            temp.create(conn)
            if way == "copy":
                t, _ = timed(lambda c=conn: bulk_insert(c, temp, rows))
            else:
                t, _ = timed(lambda c=conn: c.execute(insert(temp), rows))
            conn.execute(text("DROP TABLE fe_bench"))
        times.append(t)
    return times[0], times[1]


def report(name: str, n: int, b: dict[str, float], per_file: float, k: int) -> None:
    extrapolated = per_file * n
    print(f"  {name}")
    print(f"    bulk load of {n:,} submissions (2% rejected, with findings): {b['load']:.2f} s "
          f"({n / b['load']:,.0f} files/s); reference upsert of {n:,} plan projects "
          f"{b['reference']:.2f} s (done once per run, before the load)")  # fmt: skip
    print(f"    the same {n:,} files again (all duplicates, receipts only): {b['again']:.2f} s")
    print(f"    naive ORM row by row: {per_file * 1000:.2f} ms/file measured on {k:,} files; "
          f"extrapolated to {n:,}: {extrapolated:,.0f} s")  # fmt: skip
    print(f"    ratio naive / bulk: {extrapolated / b['load']:.0f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=50_000, help="submissions in the bulk load")
    parser.add_argument("--naive", type=int, default=500, help="files timed row by row")
    parser.add_argument("--postgres", default=POSTGRES, help="PostgreSQL URL (a schema is made)")
    args = parser.parse_args()

    base = load_reference(PROJECT_ROOT / "data" / "reference", 2024)
    t_gen, ref = timed(lambda: synthetic_reference(base, args.n))
    t_subs, subs = timed(lambda: synthetic_submissions(ref))
    print(f"guidefund warehouse load benchmark: {args.n:,} synthetic submissions of one region "
          f"and year ({t_gen + t_subs:.1f} s to generate); SQLite {sqlite3.sqlite_version}")  # fmt: skip
    k = min(args.naive, args.n)

    with sqlite_database() as fresh:
        b = bulk(fresh(), ref, subs)
        per_file = naive(fresh(), ref, subs[:k]) / k
        report("SQLite (file, WAL)", args.n, b, per_file, k)

    try:
        with postgres_database(args.postgres) as fresh:
            engine = fresh()
            with engine.connect() as conn:
                version = conn.execute(text("SHOW server_version")).scalar_one()
            b = bulk(engine, ref, subs)
            per_file = naive(fresh(), ref, subs[:k]) / k
            report(f"PostgreSQL {version}", args.n, b, per_file, k)
            runs = [copy_vs_executemany(engine, args.n) for _ in range(3)]
            copy, many = (
                statistics.median(r[0] for r in runs),
                statistics.median(r[1] for r in runs),
            )
            print(f"    {args.n:,} fund_execution rows (median of 3): COPY {copy:.2f} s, "
                  f"executemany {many:.2f} s: COPY {many / copy:.1f}x faster")  # fmt: skip
    except OperationalError as exc:
        print(f"  PostgreSQL: not measured, no server answers at {args.postgres} ({exc.orig})")


if __name__ == "__main__":
    main()
