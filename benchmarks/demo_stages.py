"""Stage timings of the demo: read, validate, load, aggregate, and the fixed start-up costs.

Run: `make bench` (or `.venv/bin/python benchmarks/demo_stages.py [--files N]`). Prints figures;
asserts nothing about time. Everything is written under a fresh temporary directory.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from timing import bare_read, timed  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--repeat", type=int, default=3, help="repeats of the per-batch stages (median)"
    )
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="guidefund-bench-"))
    os.environ.update(
        {
            "PREFECT_HOME": str(tmp / ".prefect"),
            "DO_NOT_TRACK": "1",
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_UI_ENABLED": "false",
            "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
            "PREFECT_LOGGING_LEVEL": "WARNING",
            "GX_ANALYTICS_ENABLED": "false",
        }
    )
    (tmp / ".prefect").mkdir()
    try:
        run(tmp, args.repeat)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run(tmp: Path, repeat: int) -> None:
    t_prefect_import, _ = timed(lambda: __import__("prefect"))

    from guidefund.intake.batch import read_batch, split
    from guidefund.intake.inbox import scan_inbox
    from guidefund.intake.samples import write_samples
    from guidefund.reference import load_reference
    from guidefund.settings import Settings

    settings = Settings(workdir=tmp / "work")
    ref = load_reference(settings.reference_dir, 2024)
    samples = tmp / "samples"
    t_gen, _ = timed(lambda: write_samples(ref, samples))
    paths = [e.path for e in scan_inbox(samples).files]
    n = len(paths)

    t_bare, _ = timed(lambda: bare_read(paths), repeat)
    t_read, subs = timed(lambda: read_batch(paths, ref), repeat)
    t_gx_import, _ = timed(lambda: __import__("guidefund.intake.validate"))
    from guidefund.intake.validate import quiet_gx_context, validate_submissions

    t_gx_ctx, _ = timed(quiet_gx_context)
    t_validate, found = timed(lambda: validate_submissions(subs, ref), repeat)  # type: ignore[arg-type]
    accepted, rejected = split(subs, found)  # type: ignore[arg-type]

    from guidefund.warehouse.db import make_engine, upgrade
    from guidefund.warehouse.load import load_batch, start_run

    def fresh_load() -> object:
        db = tmp / "work" / "bench.sqlite"
        db.unlink(missing_ok=True)
        engine = make_engine(f"sqlite:///{db}")
        upgrade(engine)
        run_id = start_run(engine, "bench")
        t = time.perf_counter()
        load_batch(engine, ref, run_id, accepted, rejected)
        return time.perf_counter() - t

    t_migrate_and_load, t_load = timed(fresh_load)
    from guidefund.evaluate.figures import consolidate
    from guidefund.warehouse.db import engine_for

    url = f"sqlite:///{tmp / 'work' / 'bench.sqlite'}"
    under, over = settings.explain_under_pct, settings.explain_over_pct
    t_agg, _ = timed(lambda: consolidate(engine_for(url), ref, "2024", under, over), repeat)

    from guidefund.flows.nightly import nightly_consolidation
    from guidefund.flows.year_end import year_end_aggregation

    shutil.copytree(samples, settings.inbox)
    t_first_flow, _ = timed(lambda: nightly_consolidation(year=2024, workdir=str(settings.workdir)))
    t_year_end, _ = timed(lambda: year_end_aggregation(year=2024, workdir=str(settings.workdir)))

    ms = 1000
    print(f"guidefund demo stages, {n} sample workbooks (median of {repeat} where repeated)")
    print(f"  generate samples (openpyxl write)      {t_gen * ms:9.0f} ms")
    print(
        f"  bare read (calamine, all sheets)       {t_bare * ms:9.1f} ms  {t_bare / n * ms:.2f} ms/file"
    )
    print(
        f"  read + parse by label                  {t_read * ms:9.1f} ms  {t_read / n * ms:.2f} ms/file"
        f"  ({t_read / t_bare:.2f}x bare read)"
    )
    print(f"  validate (GX suites, once per batch)   {t_validate * ms:9.1f} ms")
    print(
        f"  read + validate                        {(t_read + t_validate) * ms:9.1f} ms"
        f"  ({(t_read + t_validate) / t_bare:.1f}x bare read)"
    )
    print(f"  load (one transaction, SQLite)         {float(t_load) * ms:9.1f} ms")  # type: ignore[arg-type]
    print(f"  migrate empty SQLite + load            {t_migrate_and_load * ms:9.1f} ms")
    print(f"  aggregate (SQL sums + indicator rules) {t_agg * ms:9.1f} ms")
    print("fixed start-up")
    print(f"  import great_expectations              {t_gx_import * ms:9.0f} ms")
    print(f"  GX ephemeral context                   {t_gx_ctx * ms:9.0f} ms")
    print(f"  import prefect                         {t_prefect_import * ms:9.0f} ms")
    print(f"  nightly flow, first (starts local API) {t_first_flow * ms:9.0f} ms")
    print(f"  year-end flow, API already up          {t_year_end * ms:9.0f} ms")


if __name__ == "__main__":
    main()
