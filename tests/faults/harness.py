"""Running `guidefund` as the operator does (a separate process, the real command) and checking
what a fault must leave behind: the exit code, a console without tracebacks, every file in
exactly one place, the warehouse's content, and no process of the run still alive."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import psutil
from sqlalchemy import create_engine, select

from guidefund.warehouse import models as m

BIN = Path(sys.executable).parent
# Per run: what is not content (keys, run ids, times) is left out when warehouses are compared.
NOT_CONTENT = {"id", "run_id", "first_run_id", "last_seen_run_id"}
PER_RUN_TABLES = {"run", "receipt", "indicator_result", "alembic_version"}


@dataclass
class Result:
    code: int
    out: str
    err: str
    processes: set[int] = field(default_factory=set)

    @property
    def console(self) -> list[str]:
        return [line for line in (self.out + self.err).splitlines() if line.strip()]

    @property
    def err_lines(self) -> list[str]:
        return [line for line in self.err.splitlines() if line.strip()]


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without Prefect's or guidefund's settings, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "GUIDEFUND_"))}
    env.update(DO_NOT_TRACK="1", PREFECT_SERVER_ANALYTICS_ENABLED="false")
    env.update(extra)
    return env


class Run:
    """`guidefund ARGS` started in the background; its processes sampled while it runs."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [str(BIN / "guidefund"), *args],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self.seen: set[int] = set()
        self._done = threading.Event()
        self._sampler = threading.Thread(target=self._sample, daemon=True)
        self._sampler.start()

    def _sample(self) -> None:
        try:
            me = psutil.Process(self.process.pid)
            while not self._done.is_set():
                self.seen.update(p.pid for p in me.children(recursive=True))
                time.sleep(0.2)
        except psutil.NoSuchProcess:
            pass

    def children(self) -> set[int]:
        try:
            return {p.pid for p in psutil.Process(self.process.pid).children(recursive=True)}
        except psutil.NoSuchProcess:
            return set()

    def signal(self, signum: int) -> None:
        self.process.send_signal(signum)

    def wait(self, limit: float = 600) -> Result:
        out, err = self.process.communicate(timeout=limit)
        self._done.set()
        self._sampler.join()
        return Result(self.process.returncode, out.decode(), err.decode(), self.seen)


def guidefund(args: list[str], env: dict[str, str], limit: float = 600) -> Result:
    return Run(args, env).wait(limit)


def survivors(pids: set[int], grace: float = 15) -> list[str]:
    """The processes among `pids` still alive after `grace` seconds (zombies count as gone)."""
    deadline = time.monotonic() + grace
    while True:
        alive = []
        for pid in pids:
            try:
                p = psutil.Process(pid)
                if p.status() != psutil.STATUS_ZOMBIE:
                    alive.append(f"{pid} {' '.join(p.cmdline())[:120]}")
            except psutil.NoSuchProcess:
                continue
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.25)


def wait_until(check: Callable[[], Any], limit: float, what: str) -> Any:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if found := check():
            return found
        time.sleep(0.1)
    raise AssertionError(f"{what}: not within {limit} s")


def kill_all(pids: set[int]) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


# ------------------------------------------------------------------ files and the warehouse


def files(folder: Path) -> dict[str, bytes]:
    """relative path → bytes of every file under `folder` (empty when it does not exist)."""
    if not folder.exists():
        return {}
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def custody(workdir: Path, inputs: dict[str, bytes]) -> dict[str, str]:
    """Where each input file is now: 'inbox', 'archive' or 'quarantine'. Fails when one is in
    two places, or nowhere."""
    import hashlib

    by_digest = {hashlib.sha256(b).hexdigest(): name for name, b in inputs.items()}
    places: dict[str, list[str]] = {name: [] for name in inputs}
    for place in ("inbox", "archive", "quarantine"):
        for rel, content in files(workdir / place).items():
            if rel.endswith(".errors.xlsx"):
                continue
            name = by_digest.get(hashlib.sha256(content).hexdigest())
            if name is not None:
                places[name].append(place)
    wrong = {n: p for n, p in places.items() if len(p) != 1}
    assert wrong == {}, f"files not in exactly one place: {wrong}"
    return {n: p[0] for n, p in places.items()}


def warehouse(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """The warehouse's content, table by table, without keys, run ids and times; a submission's
    rows carry its SHA-256 instead of its id."""
    engine = create_engine(url)
    out: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as conn:
        sha = dict(conn.execute(select(m.Submission.id, m.Submission.sha256)).all())
        for table in m.Base.metadata.sorted_tables:
            if table.name in PER_RUN_TABLES:
                continue
            columns = [
                c for c in table.columns if c.name not in NOT_CONTENT and not c.name.endswith("_at")
            ]
            rows = []
            for row in conn.execute(select(*columns)):
                values = dict(zip([c.name for c in columns], row, strict=True))
                if "submission_id" in values:
                    values["submission_id"] = sha.get(values["submission_id"])
                rows.append(tuple(_plain(values[c.name]) for c in columns))
            out[table.name] = sorted(rows, key=repr)
    engine.dispose()
    return out


def _plain(value: Any) -> Any:
    return value.normalize() if isinstance(value, Decimal) else value


def no_traceback(result: Result) -> None:
    text = result.out + result.err
    assert "Traceback" not in text and 'File "' not in text, text[-3000:]
