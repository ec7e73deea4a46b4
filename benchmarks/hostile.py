"""What hostile files cost a night (issue 9): the same night of N good submissions with and
without 1% hostile files among them (far cells, bombs, a million rows, huge shared-string
tables, entities, external links, not-a-workbook, encrypted, macros, an .xls that makes the
reader abort in its worker…, from tests/hostile.py), each through `guidefund nightly` against a
running Prefect server. Prints both nights' variable time (run − empty-inbox run) and what the
hostile files added; the goal is at most 10% more.

Run: `.venv/bin/python benchmarks/hostile.py [--n 2000] [--repeat 2]`. Asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from nightly_scale import MB, drop, env_for, nightly  # noqa: E402
from prefect_server import start_server, stop  # noqa: E402
from scale_data import ROOT, Templater, synthetic_year  # noqa: E402

sys.path.insert(0, str(ROOT))
from tests.hostile import Corpus, convert_to_xls  # noqa: E402

HOSTILE_KINDS = ("not_workbook", "format", "exhaustion", "xml", "value")


def hostile_files(n: int, tmp: Path) -> list[Path]:
    """`n` hostile files that are rejected (one of each kind in turn)."""
    from guidefund.reference import load_reference
    from guidefund.settings import Settings

    ref = load_reference(Settings().reference_dir, 2024)
    corpus = Corpus(ref, tmp / "corpus-scratch", tmp / "outside")
    xls = None
    if shutil.which("soffice"):
        xls = tmp / "xls"
        convert_to_xls(corpus.xls_sources(), xls)
    cases = [c for c in corpus.cases(xls) if c.kind in HOSTILE_KINDS and c.outcome == "rejected"]
    out = tmp / "hostile"
    out.mkdir()
    paths = []
    for i in range(n):
        case = cases[i % len(cases)]
        path = out / f"zz_hostile_{i:03d}_{case.name}"
        case.make(path)
        paths.append(path)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="guidefund-bench-hostile-"))
    server = None
    try:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        (tmp / "prefect-server").mkdir()
        server, _ = start_server(tmp / "prefect-server", port)
        api = f"http://127.0.0.1:{port}/api"
        reference = tmp / "reference"
        ref = synthetic_year(reference, args.n)
        good = Templater(ref, tmp / "samples").write(tmp / "good", range(1, args.n + 1))
        bad = hostile_files(max(1, args.n // 100), tmp)
        nightly(env_for(tmp / "work-empty", reference, api))  # first night: creates the warehouse
        empty = nightly(env_for(tmp / "work-empty", reference, api)).seconds
        plain, mixed, peaks = [], [], []
        for r in range(args.repeat):
            for label, files, out in (("good", good, plain), ("mixed", good + bad, mixed)):
                work = tmp / f"work-{label}-{r}"
                drop(files, work / "inbox")
                night = nightly(env_for(work, reference, api))
                out.append(night.seconds - empty)
                peaks.append(night.peak_rss)
                if label == "mixed":
                    s = night.summary
                    print(
                        f"  mixed night {r + 1}: accepted {s['accepted']}, rejected {s['rejected']}"
                    )
        a, b = statistics.median(plain), statistics.median(mixed)
        print(f"\n{args.n:,} good files, {len(bad)} hostile ({len(bad) / args.n:.0%}); "
              f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")  # fmt: skip
        print(f"  empty-inbox nightly, nothing new     {empty:7.2f} s   (variable = run − this)")
        print(
            f"  good night, variable time            {a:7.2f} s   (runs: {', '.join(f'{x:.2f}' for x in plain)})"
        )
        print(
            f"  with 1% hostile, variable time       {b:7.2f} s   (runs: {', '.join(f'{x:.2f}' for x in mixed)})"
        )
        print(f"  the hostile files added              {(b - a) / a * 100:7.1f} %   (goal ≤ 10 %)")
        print(f"  peak RSS of a night (children incl.) {max(peaks) / MB:7.0f} MiB")
    finally:
        if server is not None:
            stop(server)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
