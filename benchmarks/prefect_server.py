"""What the production path costs: a real `prefect server start` and `guidefund serve`.

Measures the server's start (new database, then the same database again), the time until
`guidefund serve` has registered the deployments, and served-run latency: trigger through the
API → flow run completed, split into start-up (the runner's poll interval, then a new Python
process that imports Prefect and the flow) and the run itself, for the light weekly digest and for a nightly consolidation of a few sample files. The
same digest flow is also called in-process against the same server, for the serving overhead.

Run: `.venv/bin/python benchmarks/prefect_server.py [--repeat 3] [--poll 10] [--files 10]`.
Prints figures and ratios; asserts nothing about time. Everything lives in a temporary folder.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent


def env_for(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "GUIDEFUND_"))}
    env.update(DO_NOT_TRACK="1", PREFECT_SERVER_ANALYTICS_ENABLED="false")
    env.update(PREFECT_UI_ENABLED="false", GX_ANALYTICS_ENABLED="false")
    env.update(PREFECT_LOGGING_LEVEL="WARNING", **extra)
    return env


def wait_until(check: Callable[[], Any], limit: float) -> float:
    start = time.perf_counter()
    while time.perf_counter() - start < limit:
        if check():
            return time.perf_counter() - start
        time.sleep(0.05)
    raise SystemExit(f"gave up after {limit} s")


def start_server(home: Path, port: int) -> tuple[subprocess.Popen[bytes], float]:
    url = f"http://127.0.0.1:{port}/api"
    env = env_for(PREFECT_HOME=str(home), PREFECT_SERVER_LOGGING_LEVEL="WARNING")
    command = [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)]
    with (home / "server.log").open("ab") as log:
        proc = subprocess.Popen([*command, "--no-ui"], env=env, stdout=log, stderr=log)

    def healthy() -> bool:
        try:
            return httpx.get(f"{url}/health", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    return proc, wait_until(healthy, 300)


def stop(proc: subprocess.Popen[bytes]) -> float:
    t = time.perf_counter()
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    return time.perf_counter() - t


def served_run(name: str, parameters: dict[str, Any] | None = None) -> dict[str, float]:
    """Trigger one run of a served deployment; seconds to pick-up, of the run, and in total."""
    from prefect import get_client
    from prefect.deployments import run_deployment

    t0 = time.perf_counter()
    run_id = run_deployment(name, parameters=parameters or {}, timeout=0).id
    with get_client(sync_client=True) as client:
        run: Any = None

        def final() -> bool:
            nonlocal run
            run = client.read_flow_run(run_id)
            return bool(run.state and run.state.is_final())

        wait_until(final, 600)
    total = time.perf_counter() - t0
    if run.state.type.value != "COMPLETED":
        raise SystemExit(f"{name} ended {run.state.name}: {run.state.message}")
    ran = (run.end_time - run.start_time).total_seconds()
    return {"total": total, "run": ran, "pickup": total - ran}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3, help="runs per measured kind (median)")
    parser.add_argument(
        "--poll", type=int, default=10, help="PREFECT_RUNNER_POLL_FREQUENCY of serve (default 10)"
    )
    parser.add_argument("--files", type=int, default=10, help="sample files per nightly run")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="guidefund-bench-server-"))
    procs: list[subprocess.Popen[bytes]] = []
    try:
        measure(tmp, args, procs)
    finally:
        try:
            if "prefect" in sys.modules:  # send buffered run logs while the server is still up
                from prefect.logging.handlers import APILogWorker

                APILogWorker.drain_all(timeout=5)
        finally:
            for p in procs:
                if p.poll() is None:
                    stop(p)
            shutil.rmtree(tmp, ignore_errors=True)


def measure(tmp: Path, args: argparse.Namespace, procs: list[subprocess.Popen[bytes]]) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    home, work = tmp / "server-home", tmp / "work"
    home.mkdir()
    api = f"http://127.0.0.1:{port}/api"

    server, t_cold = start_server(home, port)
    t_stop = stop(server)
    server, t_warm = start_server(home, port)
    procs.append(server)

    os.environ.update(env_for(PREFECT_API_URL=api, PREFECT_HOME=str(tmp / "client-home")))
    serve_env = env_for(
        PREFECT_API_URL=api,
        PREFECT_HOME=str(tmp / "serve-home"),
        PREFECT_RUNNER_POLL_FREQUENCY=str(args.poll),
    )
    t0 = time.perf_counter()
    with (tmp / "serve.log").open("wb") as log:
        serve = subprocess.Popen(
            [str(BIN / "guidefund"), "serve", "--workdir", str(work)],
            env=serve_env,
            stdout=log,
            stderr=log,
        )
    procs.append(serve)
    from prefect import get_client
    from prefect.exceptions import ObjectNotFound

    def registered() -> bool:
        with get_client(sync_client=True) as client:
            try:
                return all(
                    client.read_deployment_by_name(n)
                    for n in (
                        "nightly-consolidation/nightly-consolidation",
                        "execution-alerts/execution-alerts",
                    )
                )
            except ObjectNotFound:
                return False

    wait_until(registered, 300)
    t_registered = time.perf_counter() - t0

    from guidefund.intake.samples import write_samples
    from guidefund.reference import load_reference
    from guidefund.settings import Settings

    ref = load_reference(Settings().reference_dir, 2024)
    samples = tmp / "samples"
    write_samples(ref, samples)
    pool = sorted(samples.glob("*.xlsx"))

    digests = [served_run("execution-alerts/execution-alerts") for _ in range(args.repeat)]
    nightlies = []
    for i in range(args.repeat):
        inbox = work / "inbox"
        inbox.mkdir(parents=True, exist_ok=True)
        for p in pool[i * args.files : (i + 1) * args.files]:
            shutil.copy(p, inbox / p.name)
        nightlies.append(served_run("nightly-consolidation/nightly-consolidation"))

    from guidefund.flows.digest import execution_alerts

    direct = []
    for _ in range(args.repeat):
        t = time.perf_counter()
        execution_alerts(workdir=str(work))
        direct.append(time.perf_counter() - t)

    def med(runs: list[dict[str, float]], key: str) -> float:
        return statistics.median(r[key] for r in runs)

    print(f"Prefect server on 127.0.0.1 (SQLite), guidefund serve with poll {args.poll} s;")
    print(f"median of {args.repeat} runs where repeated")
    print(f"  server start, new database            {t_cold:7.2f} s")
    print(
        f"  server start, existing database       {t_warm:7.2f} s   ({t_cold / t_warm:.1f}x faster)"
    )
    print(f"  server stop (SIGTERM)                 {t_stop:7.2f} s")
    print(f"  guidefund serve → deployments ready   {t_registered:7.2f} s")
    for label, runs in (
        ("execution-alerts (digest)", digests),
        (f"nightly-consolidation, {args.files} files", nightlies),
    ):
        print(f"  served {label}:")
        print(f"    trigger → completed                 {med(runs, 'total'):7.2f} s")
        print(f"    of which poll + new run process     {med(runs, 'pickup'):7.2f} s")
        print(f"    of which the run itself             {med(runs, 'run'):7.2f} s")
    d_direct = statistics.median(direct)
    print(f"  digest called in-process, same server {d_direct:7.2f} s")
    print(f"  served / in-process (digest)          {med(digests, 'total') / d_direct:7.1f}x")


if __name__ == "__main__":
    main()
