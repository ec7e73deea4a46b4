"""Running `guidefund` as a person does, in a child process, against the session's Prefect
server: its exit code, what it printed, and the peak memory of its whole process tree (the
reading workers included), sampled every 20 ms."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class Ran:
    code: int
    out: str
    err: str
    peak_rss: int  # bytes, the largest sum over the process and its descendants


def prefect_api() -> str:
    """The URL of the session's Prefect test server (inside the prefect_harness fixture)."""
    from prefect.settings import PREFECT_API_URL

    url = PREFECT_API_URL.value()
    assert url, "run inside the prefect_harness fixture"
    return str(url)


def cli_env(workdir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "GUIDEFUND_"))}
    env.update(
        GUIDEFUND_WORKDIR=str(workdir),
        PREFECT_API_URL=prefect_api(),
        DO_NOT_TRACK="1",
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        GX_ANALYTICS_ENABLED="false",
        PREFECT_HOME=str(workdir / ".prefect"),
    )
    if url := os.environ.get("GUIDEFUND_WAREHOUSE_URL"):
        env["GUIDEFUND_WAREHOUSE_URL"] = url
    env.update(extra)
    return env


def _tree_rss(root: psutil.Process) -> int:
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


def run_cli(args: list[str], env: dict[str, str], timeout: float = 900) -> Ran:
    """Run `guidefund *args`; sample the memory of its process tree while it runs."""
    proc = subprocess.Popen(
        [str(BIN / "guidefund"), *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        root = psutil.Process(proc.pid)
        while not done.is_set():
            peak = max(peak, _tree_rss(root))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        out, err = proc.communicate(timeout=timeout)
    finally:
        done.set()
        sampler.join()
    return Ran(
        proc.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace"), peak
    )
