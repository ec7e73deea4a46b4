"""Read + validate per file, against the bare calamine read and against the naive way.

Run: `.venv/bin/python benchmarks/read_validate.py [--files 1000] [--naive 50] [--repeat 3]`.
Writes N sample workbooks (flows.samples, varying seeds) under a temporary directory, then
times, per file (median of --repeat):

* bare read: python-calamine opens each file and turns every sheet into Python lists;
* guidefund: flows.ingest.read_batch (hash, label search, normalisers) + validate_submissions
  (submission.critical + submission.warning: one GX run each over the whole batch, plus a
  detail run of the failing expectations);
* naive: pandas.read_excel(engine="openpyxl") of every sheet + one GX validation per file per
  suite, timed on --naive files and extrapolated to N (said so in the output).

Targets (issue 3): guidefund ≤ 2x the bare read, and ≥ 50x faster than the naive way. Prints
figures, ratios and where guidefund's time goes; asserts nothing.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from timing import bare_read, timed  # noqa: E402

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")


def write_files(ref: Any, out: Path, n: int) -> list[Path]:
    """n sample workbooks: the 136 plan projects, seed after seed."""
    from guidefund.intake.samples import generate
    from guidefund.intake.template import file_name, write_submission

    paths: list[Path] = []
    seed = 2024
    while len(paths) < n:
        values = generate(ref, seed)
        for p in ref.plan[: n - len(paths)]:
            paths.append(write_submission(ref, p, out / f"{seed}_{file_name(p)}", values[p.no]))
        seed += 1
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--naive", type=int, default=50, help="files timed the naive way")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="guidefund-bench-rv-"))
    try:
        run(tmp, args.files, args.naive, args.repeat)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run(tmp: Path, n: int, n_naive: int, repeat: int) -> None:
    from python_calamine import CalamineWorkbook

    from guidefund.cli.common import reference_for
    from guidefund.intake.batch import read_batch
    from guidefund.intake.workbook import read_bytes
    from guidefund.settings import Settings

    settings = Settings(workdir=tmp / "work")
    ref = reference_for(settings, None)  # the current plan year (the seed's, while it is alone)
    t_gen, paths = timed(lambda: write_files(ref, tmp / "files", n))
    t_import, _ = timed(lambda: __import__("guidefund.intake.validate"))
    from guidefund.expectations import SUBMISSION_SUITE, WARNING_SUITE, suite_data
    from guidefund.expectations.runner import build_data_docs, run_suite
    from guidefund.intake.outliers import Thresholds, find_outliers
    from guidefund.intake.validate import (
        quiet_gx_context,
        submission_frame,
        submission_parameters,
        validate_submissions,
    )

    quiet_gx_context()
    thresholds = Thresholds.of(settings)
    rules = ref.warning_rules
    params = submission_parameters(ref, thresholds)
    data_sheets = list(dict.fromkeys(f.sheet for f in ref.fields))
    blobs = [(p, p.read_bytes()) for p in paths]  # also warms the page cache for everyone

    def calamine_share() -> None:
        for _, data in blobs:
            wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
            for name in data_sheets:
                wb.get_sheet_by_name(name).to_python(skip_empty_area=False)

    subs = read_batch(paths, ref)
    outliers = find_outliers(subs, ref, rules.outlier_fields, rules.outlier_min_peers,
                             thresholds.outlier_factor, {})  # fmt: skip
    frame = submission_frame(subs, ref, outliers)
    stages: dict[str, Callable[[], Any]] = {
        "bare": lambda: bare_read(paths),
        "read": lambda: read_batch(paths, ref),
        "validate": lambda: validate_submissions(subs, ref, thresholds),
        "calamine": calamine_share,
        "hash": lambda: [hashlib.sha256(data).hexdigest() for _, data in blobs],
        "reader": lambda: [read_bytes(p, data, ref) for p, data in blobs],
        "outliers": lambda: find_outliers(subs, ref, rules.outlier_fields,
                                          rules.outlier_min_peers, thresholds.outlier_factor, {}),
        "frame": lambda: submission_frame(subs, ref, outliers),
        "critical": lambda: run_suite(frame, SUBMISSION_SUITE, params, fields=ref.fields),
        "warning": lambda: run_suite(frame, WARNING_SUITE, params, fields=ref.fields),
    }  # fmt: skip
    # Interleaved, so a burst of load on this shared machine hits every stage alike.
    times: dict[str, list[float]] = {name: [] for name in stages}
    for _ in range(repeat):
        for name, fn in stages.items():
            t = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t)
    m = {name: statistics.median(ts) for name, ts in times.items()}
    t_bare, t_read, t_validate = m["bare"], m["read"], m["validate"]
    t_ours = t_read + t_validate
    found = validate_submissions(subs, ref, thresholds)
    failures = run_suite(frame, WARNING_SUITE, params, fields=ref.fields)

    t_naive_sample, _ = timed(lambda: naive(paths[:n_naive], ref, params))
    t_naive = t_naive_sample / n_naive * n

    from guidefund.expectations import DocsRun

    docs = DocsRun("benchmark")
    validate_submissions(subs, ref, thresholds, docs=docs)
    t_docs, _ = timed(lambda: build_data_docs(docs, tmp / "data_docs"))

    ms = 1000
    flagged = sum(1 for fs in found.values() for f in fs)
    print(f"read + validate, {n} sample workbooks (median of {repeat} interleaved rounds; "
          f"files generated in {t_gen:.0f} s)")  # fmt: skip
    print(
        f"  bare read (calamine, every sheet)      {t_bare * ms:8.0f} ms  {t_bare / n * ms:6.3f} ms/file"
    )
    print(
        f"  guidefund read (read_batch)            {t_read * ms:8.0f} ms  {t_read / n * ms:6.3f} ms/file"
    )
    print(
        f"  guidefund validate (critical+warning)  {t_validate * ms:8.0f} ms  {t_validate / n * ms:6.3f} ms/file  ({flagged} findings)"
    )
    print(
        f"  guidefund read + validate              {t_ours * ms:8.0f} ms  {t_ours / n * ms:6.3f} ms/file"
    )
    print(f"  naive: pandas/openpyxl + GX per file   {t_naive * ms:8.0f} ms  {t_naive / n * ms:6.3f} ms/file"
          f"  (timed on {n_naive} files, extrapolated to {n})")  # fmt: skip
    print("ratios")
    print(f"  guidefund / bare read                  {t_ours / t_bare:8.2f}x   (target ≤ 2x)")
    print(f"  naive / guidefund                      {t_naive / t_ours:8.1f}x   (target ≥ 50x)")
    print("where guidefund's time goes (each timed alone, files already in memory)")
    print(f"  calamine, the 4 data sheets            {m['calamine'] * ms:8.0f} ms")
    print(f"  SHA-256 of the files                   {m['hash'] * ms:8.0f} ms")
    print(
        f"  label search + normalisers             {(m['reader'] - m['calamine'] - m['hash']) * ms:8.0f} ms"
    )
    print(f"  reading the files from disk            {(t_read - m['reader']) * ms:8.0f} ms")
    print(f"  outliers (medians, Decimal)            {m['outliers'] * ms:8.0f} ms")
    print(f"  submission frame (pandas)              {m['frame'] * ms:8.0f} ms")
    for name, key in ((SUBMISSION_SUITE, "critical"), (WARNING_SUITE, "warning")):
        label = f"GX {name} ({len(suite_data(name, ref.fields)['expectations'])} exp.)"
        extra = f"  ({len(failures)} failing, detail pass included)" if key == "warning" else ""
        print(f"  {label:<39}{m[key] * ms:8.0f} ms{extra}")
    print("not in read + validate")
    print(f"  import great_expectations (once)       {t_import * ms:8.0f} ms")
    print(f"  Data Docs for the run                  {t_docs * ms:8.0f} ms")


def naive(paths: list[Path], ref: Any, params: dict[str, Any]) -> None:
    """The way issue 3 calls naive: pandas with openpyxl, one GX validation per file."""
    import pandas as pd
    from openpyxl.utils import column_index_from_string
    from openpyxl.utils.cell import coordinate_from_string

    from guidefund.expectations import SUBMISSION_SUITE, WARNING_SUITE, load_suite
    from guidefund.expectations.runner import _batch_definition
    from guidefund.intake.normalise import Refused
    from guidefund.intake.validate import submission_frame
    from guidefund.intake.workbook import parse_value
    from guidefund.records import Submission

    suites = [load_suite(SUBMISSION_SUITE, fields=ref.fields),
              load_suite(WARNING_SUITE, fields=ref.fields)]  # fmt: skip
    batch_definition = _batch_definition("naive")
    detail = {"result_format": "COMPLETE", "unexpected_index_column_names": ["row_key"]}
    for path in paths:
        sheets = pd.read_excel(path, sheet_name=None, engine="openpyxl", header=None)
        sub = Submission(path=path, sha256=hashlib.sha256(path.read_bytes()).hexdigest())
        for f in ref.fields:
            letter, row = coordinate_from_string(f.cell)
            frame = sheets[f.sheet]
            raw = frame.iat[row - 1, column_index_from_string(letter) - 1]
            try:
                sub.values[f.key] = parse_value(None if pd.isna(raw) else raw, f, ref.year)
            except Refused:
                sub.values[f.key] = None
        one = submission_frame([sub], ref, {})
        for suite in suites:
            batch = batch_definition.get_batch(batch_parameters={"dataframe": one})
            batch.validate(suite, result_format=detail, expectation_parameters=params)


if __name__ == "__main__":
    main()
