"""The deployments as the settings define them, the CLI that lists them, and the run policy the
deployed flows follow: a timeout on every task, retries only for transient I/O (shown with a
really locked SQLite database). The served deployments themselves run in test_server.py."""

from __future__ import annotations

import importlib
import json
import queue
import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import select

from guidefund.cli import main
from guidefund.flows import deploy
from guidefund.settings import Settings
from guidefund.warehouse.db import make_engine, upgrade
from guidefund.warehouse.load import start_run
from guidefund.warehouse.models import Run

# Modules whose tasks the three deployments run.
TASK_MODULES = (
    "guidefund.flows.tasks",
    "guidefund.flows.year_end",
    "guidefund.flows.digest",
    "guidefund.notify",
)


@pytest.fixture(autouse=True)
def prefect_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The CLI points PREFECT_HOME at the working directory unless set: keep it in tmp_path."""
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path / "prefect-home"))


def test_the_three_deployments_are_built_from_the_settings(tmp_path: Path) -> None:
    from prefect.client.schemas.objects import ConcurrencyLimitStrategy

    settings = Settings(
        workdir=tmp_path / "work",
        nightly_cron="30 1 * * *",
        alerts_cron="0 9 * * 5",
        year_end_cron="0 4 30 12 *",
        timezone="Asia/Urumqi",
        region="650000",
    )

    built = {d.name: d for d in deploy.build_deployments(settings)}

    def shape(name: str) -> tuple[Any, ...]:
        d = built[name]
        (schedule,) = d.schedules
        return (
            d.entrypoint,
            schedule.schedule.cron,
            schedule.schedule.timezone,
            schedule.active,
            d.concurrency_limit,
            d.concurrency_options.collision_strategy,
            d.parameters,
        )

    # as_of None: each run is judged as of its own day in GUIDEFUND_TIMEZONE.
    workdir = {
        "workdir": str((tmp_path / "work").resolve()),
        "region": "650000",
        "as_of": None,
    }
    assert shape("nightly-consolidation") == (
        "guidefund.flows.nightly.nightly_consolidation",
        "30 1 * * *",
        "Asia/Urumqi",
        True,
        1,
        ConcurrencyLimitStrategy.CANCEL_NEW,
        workdir,
    )
    assert shape("execution-alerts") == (
        "guidefund.flows.digest.execution_alerts",
        "0 9 * * 5",
        "Asia/Urumqi",
        True,
        1,
        ConcurrencyLimitStrategy.CANCEL_NEW,
        workdir,
    )
    assert shape("year-end-aggregation") == (
        "guidefund.flows.year_end.year_end_aggregation",
        "0 4 30 12 *",
        "Asia/Urumqi",
        True,
        1,
        ConcurrencyLimitStrategy.ENQUEUE,
        workdir,
    )


def test_by_default_nightly_at_2_weekly_on_monday_at_8_and_year_end_on_31_december_at_3_shanghai(
    tmp_path: Path,
) -> None:
    start = datetime(2024, 12, 30, 12, 0, tzinfo=UTC)  # Monday 30 Dec, 20:00 in Shanghai

    runs = {
        p.name: [t.isoformat() for t in deploy.next_runs(p, 2, start)]
        for p in deploy.plans(Settings(workdir=tmp_path))
    }

    assert runs == {
        "nightly-consolidation": ["2024-12-31T02:00:00+08:00", "2025-01-01T02:00:00+08:00"],
        "execution-alerts": ["2025-01-06T08:00:00+08:00", "2025-01-13T08:00:00+08:00"],
        "year-end-aggregation": ["2024-12-31T03:00:00+08:00", "2025-12-31T03:00:00+08:00"],
    }


def test_guidefund_deployments_json_lists_names_schedules_and_next_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["deployments", "--json", "--next", "2", "--workdir", str(tmp_path)])

    listed = json.loads(capsys.readouterr().out)
    assert code == 0
    assert [(d["deployment"], d["cron"], d["timezone"], d["overlap"]) for d in listed] == [
        ("nightly-consolidation/nightly-consolidation", "0 2 * * *", "Asia/Shanghai", "cancel-new"),
        ("execution-alerts/execution-alerts", "0 8 * * 1", "Asia/Shanghai", "cancel-new"),
        ("year-end-aggregation/year-end-aggregation", "0 3 31 12 *", "Asia/Shanghai", "enqueue"),
    ]
    assert [len(d["next_runs"]) for d in listed] == [2, 2, 2]


def test_guidefund_deployments_in_words_names_the_setting_behind_each_schedule(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["deployments", "--workdir", str(tmp_path)])

    out = capsys.readouterr().out
    assert code == 0
    assert (
        "  计划 0 2 * * *（Asia/Shanghai，设置 GUIDEFUND_NIGHTLY_CRON）；运行中再触发：取消新运行"
        in out
    )
    assert (
        "  计划 0 3 31 12 *（Asia/Shanghai，设置 GUIDEFUND_YEAR_END_CRON）；运行中再触发：排队等候"
        in out
    )


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        (
            "GUIDEFUND_NIGHTLY_CRON",
            "0 25 * *",
            "GUIDEFUND_NIGHTLY_CRON 不是有效的 cron 表达式：'0 25 * *'",
        ),
        ("GUIDEFUND_TIMEZONE", "Beijing", "GUIDEFUND_TIMEZONE 不是有效的时区：'Beijing'"),
    ],
)
def test_a_bad_schedule_setting_exits_2_naming_the_setting(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    variable: str,
    value: str,
    named: str,
) -> None:
    monkeypatch.setenv(variable, value)

    code = main(["deployments", "--workdir", str(tmp_path)])

    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith(f"guidefund: 设置有误：{named}")
    assert "Traceback" not in err


def test_serve_without_a_prefect_server_exits_2_and_says_what_to_start(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings(updates={PREFECT_API_URL: "http://127.0.0.1:1/api"}):
        code = main(["serve", "--workdir", str(tmp_path)])

    assert code == 2
    assert capsys.readouterr().err == (
        "guidefund: 无法连接 Prefect 服务器 http://127.0.0.1:1/api（ConnectError）："
        "请确认 `prefect server start` 正在运行\n"
    )
    assert deploy.server_problem("").startswith("未设置 PREFECT_API_URL")


def test_every_task_the_deployments_run_has_a_timeout_and_retries_only_transient_errors() -> None:
    from prefect.tasks import Task

    from guidefund.flows.tasks import retry_transient

    found = {
        t.name: t
        for module in TASK_MODULES
        for t in vars(importlib.import_module(module)).values()
        if isinstance(t, Task)
    }

    assert "load-chunk" in found and "notify-alerts" in found and "send-digest" in found
    assert {n for n, t in found.items() if not t.timeout_seconds} == set()
    assert {
        n for n, t in found.items() if t.retries and t.retry_condition_fn is not retry_transient
    } == set()
    assert found["validate-chunk"].retries == found["read-chunk"].retries == 0


# ---------------------------------------------------------------- retries against a real lock
def _task_runs(flow_run_id: UUID) -> list[Any]:
    from prefect import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    with get_client(sync_client=True) as client:
        return client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
        )


def _final_task_run(flow_run_id: UUID, limit: float = 60) -> Any:
    """The flow's one task run once the server has recorded its final state."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        runs = _task_runs(flow_run_id)
        if runs and runs[0].state and runs[0].state.is_final():
            return runs[0]
        time.sleep(0.2)
    raise AssertionError(f"task run of flow run {flow_run_id} not final after {limit} s")


def _finish_in_flow(url: str, run_id: int, status: str, started: queue.Queue[UUID]) -> Any:
    """tasks.finish (transient database errors waited out) inside a flow; the flow's final state."""
    from prefect import flow
    from prefect.runtime import flow_run

    from guidefund.flows import tasks

    @flow(name="retry-probe")
    def probe() -> None:
        started.put(UUID(str(flow_run.id)))
        tasks.finish(url, run_id, status)

    return probe(return_state=True)


@pytest.mark.prefect
def test_a_locked_database_is_waited_for_and_the_run_is_recorded_once_the_lock_is_gone(
    prefect_harness: None, tmp_path: Path
) -> None:
    """The warehouse step waits inside its one task run (warehouse.db.retrying), one log line
    per wait, and succeeds once the other writer lets go."""
    import logging

    db = tmp_path / "warehouse.sqlite"
    url = f"sqlite:///{db}"
    engine = make_engine(url)
    upgrade(engine)
    run_id = start_run(engine, "nightly-consolidation")
    lock = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
    lock.execute("BEGIN EXCLUSIVE")  # another writer holds the database: SQLITE_BUSY after 5 s
    waits: list[str] = []

    class ReleaseOnFirstWait(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            waits.append(record.getMessage())
            if len(waits) == 1:
                lock.execute("ROLLBACK")

    watcher = ReleaseOnFirstWait(logging.WARNING)
    logging.getLogger("guidefund.faults").addHandler(watcher)
    try:
        state = _finish_in_flow(url, run_id, "succeeded", queue.Queue())
    finally:
        logging.getLogger("guidefund.faults").removeHandler(watcher)

    task_run = _final_task_run(state.state_details.flow_run_id)
    with engine.connect() as conn:
        status = conn.execute(select(Run.status).where(Run.id == run_id)).scalar_one()
    assert len(waits) == 1
    assert waits[0].startswith(
        "数据库暂时无法使用（关闭运行记录）：数据库文件被其他程序占用（sqlite:///"
    )
    assert (state.type.value, task_run.state.type.value, task_run.run_count) == (
        "COMPLETED",
        "COMPLETED",
        1,
    )
    assert status == "succeeded"


@pytest.mark.prefect
def test_a_constraint_violation_is_not_retried(prefect_harness: None, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'warehouse.sqlite'}"
    engine = make_engine(url)
    upgrade(engine)
    run_id = start_run(engine, "nightly-consolidation")

    state = _finish_in_flow(url, run_id, "no-such-status", queue.Queue())

    task_run = _final_task_run(state.state_details.flow_run_id)
    assert (state.type.value, task_run.state.type.value, task_run.run_count) == (
        "FAILED",
        "FAILED",
        1,
    )
