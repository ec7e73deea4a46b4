"""The production path on one machine: a real `prefect server start` process on 127.0.0.1 (its own
PREFECT_HOME and SQLite database), `guidefund serve` in a second process (warehouse on SQLite,
then on PostgreSQL), runs triggered through the API as the scheduler or a person would, and the
warehouse checked afterwards.

Every wait is bounded; both processes are stopped with SIGTERM (killed only if they hang)."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import create_engine, func, select

from guidefund.warehouse.models import Run, Submission
from tests.pg import warehouse_url

pytestmark = pytest.mark.prefect

BIN = Path(sys.executable).parent
DEPLOYMENTS = (
    "nightly-consolidation/nightly-consolidation",
    "execution-alerts/execution-alerts",
    "year-end-aggregation/year-end-aggregation",
)
NIGHTLY = DEPLOYMENTS[0]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without any Prefect or guidefund setting, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "GUIDEFUND_"))}
    env.update(DO_NOT_TRACK="1", PREFECT_SERVER_ANALYTICS_ENABLED="false")
    env.update(GX_ANALYTICS_ENABLED="false", PREFECT_UI_ENABLED="false", **extra)
    return env


def wait_until(check: Callable[[], Any], limit: float, what: str, log: Path | None = None) -> Any:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(0.25)
    tail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
    raise AssertionError(f"{what}: not within {limit} s\n{tail}")


def stop(process: subprocess.Popen[bytes], limit: float = 30) -> int:
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=limit)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait(timeout=limit)


@dataclass
class Served:
    api: str
    workdir: Path
    log: Path
    process: subprocess.Popen[bytes]
    start: Callable[[], subprocess.Popen[bytes]]
    warehouse: str


@contextmanager
def api(url: str) -> Iterator[Any]:
    """A Prefect client of the test's server (the session's test harness stays untouched)."""
    from prefect import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings(updates={PREFECT_API_URL: url}):
        with get_client(sync_client=True) as client:
            yield client


@pytest.fixture(scope="module")
def prefect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    home = tmp_path_factory.mktemp("prefect-server")
    port = free_port()
    log = home / "server.log"
    env = clean_env(
        PREFECT_HOME=str(home),
        PREFECT_API_DATABASE_CONNECTION_URL=f"sqlite+aiosqlite:///{home / 'prefect.db'}",
        PREFECT_SERVER_LOGGING_LEVEL="WARNING",
    )
    command = [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)]
    with log.open("wb") as out:
        process = subprocess.Popen([*command, "--no-ui"], env=env, stdout=out, stderr=out)
    url = f"http://127.0.0.1:{port}/api"

    def healthy() -> bool:
        assert process.poll() is None, f"prefect server exited: {log.read_text()[-3000:]}"
        try:
            return httpx.get(f"{url}/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_until(healthy, 180, "prefect server healthy", log)
        yield url
    finally:
        stop(process)


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, prefect_server: str
) -> Iterator[Served]:
    root = tmp_path_factory.mktemp(f"served-{request.param}")
    workdir, log = root / "work", root / "serve.log"
    with warehouse_url(request.param, workdir) as url:
        yield from _serve(prefect_server, root, workdir, log, url)


def _serve(prefect_server: str, root: Path, workdir: Path, log: Path, url: str) -> Iterator[Served]:
    env = clean_env(
        PREFECT_API_URL=prefect_server,
        PREFECT_HOME=str(root / "prefect-home"),
        # Poll for triggered runs every second instead of every ten: the test waits less.
        PREFECT_RUNNER_POLL_FREQUENCY="1",
        GUIDEFUND_WAREHOUSE_URL=url,
    )

    def start() -> subprocess.Popen[bytes]:
        with log.open("ab") as out:
            return subprocess.Popen(
                [str(BIN / "guidefund"), "serve", "--workdir", str(workdir)],
                env=env,
                stdout=out,
                stderr=out,
            )

    state = Served(prefect_server, workdir, log, start(), start, url)

    def registered() -> bool:
        assert state.process.poll() is None, f"guidefund serve exited: {log.read_text()[-3000:]}"
        from prefect.exceptions import ObjectNotFound

        # The parameters name this serve's working directory once it has applied the deployments.
        with api(prefect_server) as client:
            try:
                found = [client.read_deployment_by_name(n) for n in DEPLOYMENTS]
            except ObjectNotFound:
                return False
        return all(d.parameters.get("workdir") == str(workdir.resolve()) for d in found)

    try:
        wait_until(registered, 120, "deployments registered by guidefund serve", log)
        yield state
    finally:
        if state.process.poll() is None:
            stop(state.process)


def trigger(served: Served, name: str, count: int = 1, **parameters: Any) -> list[Any]:
    """Start `count` runs of a deployment through the API at once; their final flow runs."""
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings(updates={PREFECT_API_URL: served.api}):
        ids = [run_deployment(name, parameters=parameters, timeout=0).id for _ in range(count)]

    def final() -> list[Any] | None:
        with api(served.api) as client:
            runs = [client.read_flow_run(i) for i in ids]
        return runs if all(r.state and r.state.is_final() for r in runs) else None

    return wait_until(final, 300, f"{count} run(s) of {name} final", served.log)


def warehouse_counts(served: Served) -> dict[str, Any]:
    engine = create_engine(served.warehouse)
    with engine.connect() as conn:
        states = dict(
            conn.execute(select(Submission.state, func.count()).group_by(Submission.state)).all()
        )
        runs = conn.execute(select(Run.flow_name, Run.status).order_by(Run.id)).all()
    engine.dispose()
    return {"submissions": states, "runs": [tuple(r) for r in runs]}


def put_in_inbox(served: Served, sample_dir: Path, numbers: range) -> None:
    inbox = served.workdir / "inbox"
    inbox.mkdir(parents=True, exist_ok=True)
    for n in numbers:
        (sample,) = sample_dir.glob(f"{n:03d}_*.xlsx")
        shutil.copy(sample, inbox / sample.name)


def test_a_nightly_run_triggered_through_the_api_consolidates_the_inbox(
    served: Served, sample_dir: Path
) -> None:
    put_in_inbox(served, sample_dir, range(1, 4))

    (run,) = trigger(served, NIGHTLY)

    counts = warehouse_counts(served)
    assert run.state.type.value == "COMPLETED", served.log.read_text()[-3000:]
    assert counts["submissions"] == {"accepted": 3}
    assert counts["runs"] == [("nightly-consolidation", "succeeded")]
    assert not any((served.workdir / "inbox").iterdir())
    assert len(list((served.workdir / "archive").glob("*.xlsx"))) == 3


def test_two_nightly_runs_started_together_one_runs_and_the_other_is_cancelled(
    served: Served, sample_dir: Path
) -> None:
    put_in_inbox(served, sample_dir, range(4, 6))
    before = warehouse_counts(served)["runs"]

    runs = trigger(served, NIGHTLY, count=2)

    after = warehouse_counts(served)
    assert sorted(r.state.type.value for r in runs) == ["CANCELLED", "COMPLETED"]
    assert after["runs"][len(before) :] == [("nightly-consolidation", "succeeded")]
    assert after["submissions"] == {"accepted": 5}


def test_year_end_runs_by_hand_for_a_chosen_year(served: Served) -> None:
    (run,) = trigger(served, DEPLOYMENTS[2], year=2024)

    assert run.state.type.value == "COMPLETED", served.log.read_text()[-3000:]
    assert run.parameters["year"] == 2024
    assert warehouse_counts(served)["runs"][-1] == ("year-end-aggregation", "succeeded")


def test_the_weekly_digest_runs_on_the_server_and_without_a_notifier_lands_in_the_alerts_log(
    served: Served,
) -> None:
    from guidefund.notify import alert_line
    from guidefund.warehouse.alerts import open_alerts

    (run,) = trigger(served, DEPLOYMENTS[1])

    engine = create_engine(served.warehouse)
    still_open = open_alerts(
        engine, "650000", 2024
    )  # e.g. raised by the year-end run before this test
    engine.dispose()
    log = (served.workdir / "alerts.log").read_text(encoding="utf-8")
    n = len(still_open)
    assert run.state.type.value == "COMPLETED", served.log.read_text()[-3000:]
    # Dated as of the run's day in Asia/Shanghai (the deployment's as_of left empty).
    title = (
        rf"guidefund 每周预警摘要（新疆维吾尔自治区 650000 2024，截至 \d{{4}}-\d{{2}}-\d{{2}}）："
        rf"未关闭 {n} 条，本周新增 {n} 条"
    )
    assert re.search(title, log)
    assert [alert_line(a) in log for a in still_open] == [True] * n


def test_stopping_serve_keeps_the_schedules_and_a_restart_adds_no_second_schedule(
    served: Served,
) -> None:
    from prefect.client.schemas.filters import (
        DeploymentFilter,
        DeploymentFilterName,
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateName,
    )

    def schedules() -> dict[str, tuple[bool, list[tuple[bool, str]]]]:
        with api(served.api) as client:
            found = {}
            for name in DEPLOYMENTS:
                d = client.read_deployment_by_name(name)
                found[name] = (d.paused, [(s.active, s.schedule.cron) for s in d.schedules])
            return found

    expected = {
        DEPLOYMENTS[0]: (False, [(True, "0 2 * * *")]),
        DEPLOYMENTS[1]: (False, [(True, "0 8 * * 1")]),
        DEPLOYMENTS[2]: (False, [(True, "0 3 31 12 *")]),
    }
    code = stop(served.process)
    stopped_at = datetime.now().astimezone()
    after_stop = schedules()
    with api(served.api) as client:
        upcoming = client.read_flow_runs(
            deployment_filter=DeploymentFilter(
                name=DeploymentFilterName(any_=["nightly-consolidation"])
            ),
            flow_run_filter=FlowRunFilter(
                state=FlowRunFilterState(name=FlowRunFilterStateName(any_=["Scheduled"]))
            ),
        )

    served.process = served.start()

    def reapplied() -> bool:
        with api(served.api) as client:
            return all(client.read_deployment_by_name(n).updated > stopped_at for n in DEPLOYMENTS)

    wait_until(reapplied, 120, "deployments re-applied by the restarted serve", served.log)
    assert code == 0
    assert "已停止服务（计划保持启用）。" in served.log.read_text(encoding="utf-8")
    assert after_stop == expected
    assert schedules() == expected
    shanghai = {
        r.expected_start_time.astimezone(ZoneInfo("Asia/Shanghai")).time() for r in upcoming
    }
    assert {t.isoformat() for t in shanghai} == {"02:00:00"}
