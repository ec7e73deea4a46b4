"""How a nightly run scales (issue 10): N distinct submissions through `guidefund nightly`, as a
person (or the scheduler) runs it, against the floor.

For each N it writes N distinct submissions of a synthetic year (scale_data.py: templated bytes,
one project each), then in one run times:

* the floor: python-calamine reading every sheet of the same files into lists, in one process;
* an empty-inbox nightly (the fixed cost: interpreter, imports, Prefect, the warehouse);
* the full nightly (all N new), and its variable time = full − empty;
* the same N files dropped again (all duplicates: known bytes, nothing parsed);

with a running Prefect server (PREFECT_API_URL, started here), and once more the empty-inbox
nightly with no server (the temporary API a demo starts), and prints the ratios of the issue's
table, the workers used and the peak RSS of the whole process tree (reading workers included).

Run: `.venv/bin/python benchmarks/nightly_scale.py` (N = 2,000), `--big` adds N = 50,000
(~15–30 min on 2 cores, mostly writing the files), `--n 500 5000` picks other sizes. Prints
figures; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from prefect_server import start_server, stop  # noqa: E402
from scale_data import Templater, synthetic_year  # noqa: E402
from timing import bare_read, timed  # noqa: E402

BIN = Path(sys.executable).parent
MB = 1 << 20


@dataclass(frozen=True)
class Night:
    seconds: float
    peak_rss: int
    summary: dict[str, object]


def env_for(workdir: Path, reference: Path, api: str | None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "GUIDEFUND_"))}
    env.update(
        GUIDEFUND_WORKDIR=str(workdir),
        GUIDEFUND_REFERENCE_DIR=str(reference),
        DO_NOT_TRACK="1",
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_UI_ENABLED="false",
        GX_ANALYTICS_ENABLED="false",
        PREFECT_LOGGING_LEVEL="WARNING",
        PREFECT_HOME=str(workdir / ".prefect"),
        **extra,
    )
    if api:
        env["PREFECT_API_URL"] = api
    return env


def tree_rss(root: psutil.Process) -> int:
    total = 0
    try:
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            pass
    return total


def nightly(env: dict[str, str]) -> Night:
    """One `guidefund nightly --json`, timed from start to exit, memory sampled every 20 ms."""
    started = time.perf_counter()
    proc = subprocess.Popen([str(BIN / "guidefund"), "nightly", "--json"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    peak, done = 0, threading.Event()

    def sample() -> None:
        nonlocal peak
        root = psutil.Process(proc.pid)
        while not done.is_set():
            peak = max(peak, tree_rss(root))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.communicate()
    done.set()
    sampler.join()
    seconds = time.perf_counter() - started
    if proc.returncode not in (0, 1):
        raise SystemExit(f"nightly failed ({proc.returncode}): {err.decode()[-2000:]}")
    summary = json.loads(out)
    summary.pop("outcomes", None)
    return Night(seconds, peak, summary)


def drop(files: list[Path], inbox: Path) -> None:
    inbox.mkdir(parents=True, exist_ok=True)
    for path in files:
        shutil.copy(path, inbox / path.name)


def measure(n: int, tmp: Path, api: str, templater_scratch: Path) -> dict[str, float]:
    ref = synthetic_year(tmp / f"reference-{n}", n)
    reference = tmp / f"reference-{n}"
    t_write, files = timed(
        lambda: Templater(ref, templater_scratch).write(tmp / f"files-{n}", range(1, n + 1))
    )
    t_floor, _ = timed(lambda: bare_read(files))
    work = tmp / f"work-{n}"
    env = env_for(work, reference, api)
    first = nightly(env)  # a new warehouse; the plan is checked (GX imported)
    quiet = nightly(env)  # nothing new: nothing validated, no GX
    (work / ".checked.json").unlink()
    empty = nightly(env)  # empty again, the plan checked again: GX imported, as a full night
    drop(files, work / "inbox")
    full = nightly(env)
    drop(files, work / "inbox")
    again = nightly(env)
    temporary = tmp / f"work-{n}-temporary-api"
    nightly(env_for(temporary, reference, None))
    no_server = nightly(env_for(temporary, reference, None))
    variable = full.seconds - empty.seconds
    again_variable = again.seconds - quiet.seconds
    s = full.summary
    print(f"\nN = {n:,} distinct submissions (written in {t_write:.1f} s by templating bytes); "
          f"load average {os.getloadavg()[0]:.1f}")  # fmt: skip
    rows = [
        ("floor: calamine reading every sheet to lists", t_floor, f"{t_floor / n * 1000:6.3f} ms/file"),
        ("empty-inbox nightly, first (creates the warehouse)", first.seconds, _rss(first)),
        ("empty-inbox nightly, GX checking the plan", empty.seconds, _rss(empty)),
        ("empty-inbox nightly, nothing new (fixed cost)", quiet.seconds, _rss(quiet)),
        ("  the same with a temporary Prefect API (demo)", no_server.seconds, _rss(no_server)),
        ("full nightly", full.seconds, f"{_rss(full)}  accepted {s['accepted']}, "
         f"chunks {s['chunks']}, workers {s['workers']}"),
        ("same files again (all duplicates)", again.seconds,
         f"{_rss(again)}  duplicate {again.summary['duplicate']}"),
        ("variable time (full − empty with GX)", variable, f"{variable / n * 1000:6.3f} ms/file"),
    ]  # fmt: skip
    for label, seconds, note in rows:
        print(f"  {label:50} {seconds:8.2f} s  {note}")
    print(f"  {'variable / floor (goal ≤ 3x on 2 cores)':50} {variable / t_floor:8.2f} x")
    print(
        f"  {'duplicates night variable / full variable (≤ 10 %)':50} {again_variable / variable * 100:8.1f} %"
    )
    peak = max(full.peak_rss, again.peak_rss)
    print(f"  {'peak RSS, whole process tree (≤ 1024 MiB)':50} {peak / MB:8.0f} MiB")
    return {"n": n, "floor": t_floor, "first_empty": first.seconds, "empty_gx": empty.seconds,
            "fixed": quiet.seconds,
            "fixed_temporary_api": no_server.seconds, "full": full.seconds,
            "again": again.seconds, "variable_ratio": variable / t_floor,
            "duplicates_pct": again_variable / variable * 100, "peak_rss_mib": peak / MB,
            "workers": s["workers"], "chunks": s["chunks"]}  # fmt: skip


def _rss(night: Night) -> str:
    return f"peak RSS {night.peak_rss / MB:5.0f} MiB"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--n", type=int, nargs="*", default=[2000], help="night sizes (default 2000)"
    )
    parser.add_argument("--big", action="store_true", help="also N = 50,000")
    args = parser.parse_args()
    sizes = [*args.n, *([50_000] if args.big else [])]
    tmp = Path(tempfile.mkdtemp(prefix="guidefund-bench-scale-"))
    server = None
    try:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        home = tmp / "prefect-server"
        home.mkdir()
        server, t_server = start_server(home, port)
        print(f"Prefect server started in {t_server:.1f} s; {os.cpu_count()} cores; "
              f"load average {os.getloadavg()[0]:.1f}")  # fmt: skip
        results = [measure(n, tmp, f"http://127.0.0.1:{port}/api", tmp / "samples") for n in sizes]
        print("\n" + json.dumps(results, indent=1))
    finally:
        if server is not None:
            stop(server)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
