"""Year-end aggregation over 50,000 stored submissions, on SQLite and PostgreSQL.

The year-end figures (indicator sums and fund-weighted means, breakdowns per 类别 / 立项类型 /
支持方式, grade distribution, the units' stated reasons, scores) are grouped SQL queries
(flows.breakdown.collect_figures). For comparison it also times what the aggregation must not
be: loading every current submission into Python (warehouse.queries.current_submissions) and
summing there. Then the documents written from the figures, and the alert rules.

Run: `.venv/bin/python benchmarks/year_end_sql.py [--submissions 50000] [--repeat 3]
[--postgres URL | --no-postgres]`. Prints figures and ratios; asserts nothing about time. The
synthetic region (benchmarks/synthetic.py) repeats the 2024 plan; every 20th unit states a
reason. SQLite lives in a temporary folder, PostgreSQL in a schema dropped at the end.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
import tracemalloc
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from sqlalchemy import Engine  # noqa: E402
from sqlalchemy.exc import OperationalError  # noqa: E402
from synthetic import store, synthetic_reference, synthetic_submissions  # noqa: E402
from timing import timed  # noqa: E402

from guidefund.evaluate.alerts import evaluate_alerts  # noqa: E402
from guidefund.evaluate.figures import collect_figures  # noqa: E402
from guidefund.flows.year_end import write_reports  # noqa: E402
from guidefund.reference import Reference, load_reference  # noqa: E402
from guidefund.settings import Settings  # noqa: E402
from guidefund.warehouse.db import make_engine  # noqa: E402
from guidefund.warehouse.queries import current_submissions  # noqa: E402

PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
FRESH_TIMEOUT_S = 60
TABLES = ("project", "submission", "field_value", "fund_execution", "indicator_contribution",
          "self_evaluation")  # fmt: skip


def peak_mib(fn: Callable[[], object]) -> float:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def python_sums(engine: Engine, ref: Reference) -> dict[str, Decimal]:
    """What year-end must not do: every current row into Python, summed there."""
    totals: dict[str, Decimal] = {}
    for row in current_submissions(engine, ref.region_code, ref.year):
        for key, value in row.items():
            if isinstance(value, Decimal | int) and not isinstance(value, bool):
                totals[key] = totals.get(key, Decimal(0)) + Decimal(value)
    return totals


@contextmanager
def sqlite(tmp: Path) -> Iterator[tuple[Engine, Engine]]:
    engine = make_engine(f"sqlite:///{tmp / 'year_end.sqlite'}")
    yield engine, engine
    engine.dispose()


@contextmanager
def postgres(url: str) -> Iterator[tuple[Engine, Engine]]:
    """The engine, and one whose statements give up after FRESH_TIMEOUT_S."""
    admin, schema = make_engine(url), f"gf_bench_{uuid.uuid4().hex[:12]}"
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    engine = make_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    limit = f"-csearch_path={schema} -cstatement_timeout={FRESH_TIMEOUT_S * 1000}"
    bounded = make_engine(url, connect_args={"options": limit})
    try:
        yield engine, bounded
    finally:
        engine.dispose()
        bounded.dispose()
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


def fresh_figures(engine: Engine, ref: Reference, settings: Settings) -> str:
    """collect_figures before any ANALYZE, or how long it ran before the statement timeout."""
    t = time.perf_counter()
    try:
        collect_figures(engine, ref, settings, str(ref.year))
    except OperationalError:
        return f"> {time.perf_counter() - t:6.1f} s (statement timeout)"
    return f"{time.perf_counter() - t:8.3f} s"


def measure(
    name: str, engines: tuple[Engine, Engine], ref: Reference, n: int, repeat: int, out: Path
) -> None:
    engine, bounded = engines
    settings = Settings()
    subs = synthetic_submissions(ref, n=n)
    for i, s in enumerate(subs):
        if i % 20 == 0:
            s.values["deviation_reason"] = "部分设备采购周期较长，资金执行率偏低。"
    t_store, _ = timed(lambda: store(engine, ref, subs), 1)
    # Straight after a bulk load the database has no statistics for the new rows; PostgreSQL's
    # planner then expects one row per table and may pick nested loops. Autovacuum analyzes
    # within about a minute; both states are measured.
    fresh = fresh_figures(bounded, ref, settings)
    t = time.perf_counter()
    with engine.begin() as conn:
        for table in TABLES:
            conn.exec_driver_sql(f"ANALYZE {table}")
    t_analyze = time.perf_counter() - t
    t_sql, fig = timed(lambda: collect_figures(engine, ref, settings, str(ref.year)), repeat)
    t_py, sums = timed(lambda: python_sums(engine, ref), repeat)
    mem_sql = peak_mib(lambda: collect_figures(engine, ref, settings, str(ref.year)))
    mem_py = peak_mib(lambda: python_sums(engine, ref))
    t_docs, _ = timed(lambda: write_reports(out / name, fig), repeat)  # type: ignore[arg-type]
    today = date(ref.year + 1, 2, 1)
    t_alerts, alerts = timed(
        lambda: evaluate_alerts(engine, ref, settings, str(ref.year), today), repeat
    )
    spent = fig.budget[0].executed  # type: ignore[attr-defined]
    assert spent == sums["funds_spent"], (spent, sums["funds_spent"])  # same figure both ways
    print(f"\n{name}: {n:,} stored submissions ({len(ref.plan):,} plan projects)")
    print(f"  load (synthetic.store, one batch)          {t_store:8.2f} s")
    print(f"  year-end figures, before ANALYZE (fresh)   {fresh}")
    print(f"  ANALYZE                                    {t_analyze:8.3f} s")
    print(f"  year-end figures in SQL (collect_figures)  {t_sql:8.3f} s   peak {mem_sql:7.1f} MiB")
    print(f"  every row into Python, summed there        {t_py:8.3f} s   peak {mem_py:7.1f} MiB")
    print(
        f"    ratio Python / SQL                       {t_py / t_sql:8.1f} x time, {mem_py / mem_sql:5.1f} x memory"
    )
    print(f"  documents (.xlsx .csv .json .docx .html)   {t_docs:8.3f} s")
    print(
        f"  alert rules (annual, after the deadline)   {t_alerts:8.3f} s   {len(alerts):,} alerts"
    )  # type: ignore[arg-type]
    print(f"  total executed {spent} 万元, score {fig.scores.total} ({fig.scores.grade})")  # type: ignore[attr-defined]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--submissions", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3, help="repeats per stage (median)")
    parser.add_argument(
        "--postgres", default=os.environ.get("GUIDEFUND_TEST_POSTGRES_URL", PG_DEFAULT)
    )
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    base = load_reference(Settings().reference_dir, 2024)
    ref = synthetic_reference(base, projects=args.submissions)
    tmp = Path(tempfile.mkdtemp(prefix="guidefund-year-end-"))
    print(f"year-end SQL benchmark: {args.submissions:,} submissions, median of {args.repeat}")
    try:
        with sqlite(tmp) as engines:
            measure("SQLite", engines, ref, args.submissions, args.repeat, tmp)
        if not args.no_postgres:
            with postgres(args.postgres) as engines:
                measure("PostgreSQL", engines, ref, args.submissions, args.repeat, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
