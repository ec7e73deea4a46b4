"""How fast the units' web page answers an upload (issue 15): a warm `guidefund portal` (the
real command, one uvicorn process, its reading workers started) on this machine, the 2024 sample
submissions uploaded through their own units' links.

* warm single file: `--sequential` uploads one after another, median and max seconds;
* concurrent: `--concurrent` uploads at once (one thread each), every latency, median and p95;
* custody: every file sent has exactly one custody record, and every accepted one exactly one
  file in the inbox with its bytes (none lost, none doubled).

Run: `.venv/bin/python benchmarks/portal_load.py [--sequential 20] [--concurrent 50]`.
Prints figures; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def prepare(workdir: Path) -> tuple[dict[str, str], list[tuple[str, Path]]]:
    """A warehouse with the 2024 plan, a link per unit, and (unit, sample file) per project."""
    from guidefund.intake.samples import write_samples
    from guidefund.portal.links import issue_unit_links
    from guidefund.reference import load_reference
    from guidefund.settings import Settings
    from guidefund.warehouse.db import make_engine, upgrade
    from guidefund.warehouse.dimensions import load_reference_data

    settings = Settings(workdir=workdir)
    ref = load_reference(settings.reference_dir, 2024)
    engine = make_engine(settings.database_url)
    upgrade(engine)
    with engine.begin() as conn:
        load_reference_data(conn, ref)
    links = issue_unit_links(engine, ref, "http://x").links
    engine.dispose()
    tokens = {unit: url.rsplit("/", 1)[1] for unit, url in links.items()}
    samples = sorted(write_samples(ref, workdir.parent / "samples"))
    by_no = {int(p.name[:3]): p for p in samples}
    return tokens, [(ref.project(no).unit, path) for no, path in sorted(by_no.items())]


def start(workdir: Path, port: int) -> subprocess.Popen:
    proc = subprocess.Popen(
        [str(BIN / "guidefund"), "portal", "--workdir", str(workdir), "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env={**os.environ, "GUIDEFUND_DEBUG": "0"},
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/static/portal.css", timeout=1)
            return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit(f"guidefund portal did not start: {proc.stderr.read().decode()[-500:]}")


def upload(base: str, token: str, path: Path) -> tuple[float, dict]:
    t = time.perf_counter()
    r = httpx.post(
        f"{base}/u/{token}", files=[("files", (path.name, path.read_bytes()))],
        headers={"accept": "application/json"}, timeout=120,
    )  # fmt: skip
    elapsed = time.perf_counter() - t
    r.raise_for_status()
    return elapsed, r.json()[0]


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its children (the reading workers)."""
    import psutil

    root = psutil.Process(pid)
    total = 0.0
    for proc in [root, *root.children(recursive=True)]:
        try:
            t = proc.cpu_times()
            total += t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return total


LOAD_BEFORE = os.getloadavg()[0]


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[18]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sequential", type=int, default=20)
    parser.add_argument("--concurrent", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="portal-load-") as tmp:
        workdir = Path(tmp) / "work"
        tokens, files = prepare(workdir)
        assert len(files) >= args.sequential + args.concurrent, "not enough sample projects"
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        proc = start(workdir, port)
        try:
            upload(base, tokens[files[-1][0]], files[-1][1])  # the first request warms the imports
            sent = [files[-1]]
            seq = []
            for unit, path in files[: args.sequential]:
                seq.append(upload(base, tokens[unit], path)[0])
                sent.append((unit, path))
            batch = files[args.sequential : args.sequential + args.concurrent]
            cpu_before = cpu_seconds(proc.pid)
            t = time.perf_counter()
            with ThreadPoolExecutor(max_workers=len(batch)) as pool:
                results = list(pool.map(lambda f: upload(base, tokens[f[0]], f[1]), batch))
            wall = time.perf_counter() - t
            cpu = cpu_seconds(proc.pid) - cpu_before
            sent += batch
        finally:
            proc.terminate()
            proc.wait(30)
        inbox = {}
        for p in (workdir / "inbox").rglob("*"):
            if p.is_file():
                inbox.setdefault(hashlib.sha256(p.read_bytes()).hexdigest(), []).append(p)
        from sqlalchemy import create_engine, text

        engine = create_engine(f"sqlite:///{workdir / 'warehouse.sqlite'}")
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT sha256, verdict FROM portal_upload")).all()
        engine.dispose()
        accepted = {sha for sha, verdict in rows if verdict == "accepted"}
        sent_shas = [hashlib.sha256(p.read_bytes()).hexdigest() for _, p in sent]
        records = sorted(sha for sha, _ in rows)
        lat = [r[0] for r in results]
        print(f"machine: {os.cpu_count()} cores; server: guidefund portal (one process, "
              f"{os.cpu_count()} reading workers, {os.cpu_count()} validating processes), SQLite warehouse")  # fmt: skip
        print(f"warm single file, {len(seq)} uploads one after another: "
              f"median {statistics.median(seq):.3f} s, max {max(seq):.3f} s")  # fmt: skip
        print(f"{len(batch)} concurrent uploads: all answered in {wall:.2f} s; "
              f"median {statistics.median(lat):.2f} s, p95 {p95(lat):.2f} s, max {max(lat):.2f} s")  # fmt: skip
        print(f"  server CPU (process and reading workers): {cpu / len(batch) * 1000:.0f} ms per upload; "
              f"load average before the run {LOAD_BEFORE:.1f} on {os.cpu_count()} cores")  # fmt: skip
        verdicts = [r[1]["verdict"] for r in results]
        print(f"  verdicts: {', '.join(f'{v} {verdicts.count(v)}' for v in sorted(set(verdicts)))}")
        lost = [s for s in sent_shas if s not in records]
        doubled = [s for s in set(sent_shas) if records.count(s) != sent_shas.count(s)]
        in_inbox_twice = [s for s, ps in inbox.items() if len(ps) != 1]
        missing_in_inbox = [s for s in accepted if s not in inbox]
        print(f"custody: {len(sent_shas)} files sent, {len(records)} custody records, "
              f"{len(accepted)} accepted, {sum(len(v) for v in inbox.values())} files in the inbox; "
              f"lost {len(lost)}, doubled {len(doubled) + len(in_inbox_twice)}, "
              f"accepted but not in the inbox {len(missing_in_inbox)}")  # fmt: skip


if __name__ == "__main__":
    main()
