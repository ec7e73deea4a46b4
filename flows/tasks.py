"""Prefect tasks: coarse wrappers (a batch of files, one GX run, one transaction) over plain functions.

Only I/O is retried, and only for errors that can go away by themselves; validation is never
retried. Every warehouse step runs under `warehouse_step` (guidefund.warehouse.db): transient
database errors are waited out with backoff within GUIDEFUND_WAREHOUSE_RETRY_SECONDS, each step
being whole transactions so a retry never doubles a row; its time limit is its work plus that
budget. File tasks are retried by Prefect on transient file-share errors only.
"""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from guidefund.expectations import DocsRun
from guidefund.faults import Fault, explain, is_transient_io
from guidefund.intake.batch import batch_findings, read_batch, split, warnings_of
from guidefund.intake.custody import file_away, list_inbox
from guidefund.intake.space import space_problem
from guidefund.notify import Delivery, deliver_alerts
from guidefund.records import Finding, Submission
from guidefund.reference import Reference
from guidefund.settings import Settings, get_settings
from guidefund.warehouse.db import describe_error, engine_for, retrying, warehouse_step

log = logging.getLogger("guidefund.flows")


def settings_for(workdir: str | None) -> Settings:
    """A flow's settings: the environment's, with the flow's `workdir` parameter when given."""
    return Settings(workdir=workdir) if workdir else Settings()


def is_transient(exc: BaseException | None) -> bool:
    """An error of the file share that may pass (busy, timed out, stale); not a full disk."""
    return exc is not None and is_transient_io(exc)


def retry_transient(task, task_run, state) -> bool:  # type: ignore[no-untyped-def]
    """Prefect retry condition: retry a task only when it failed on transient file I/O."""
    try:
        state.result()
    except Exception as exc:  # noqa: BLE001 - we classify, then Prefect re-raises
        return is_transient(exc)
    return False


IO = dict(
    cache_policy=NO_CACHE,
    retries=2,
    retry_delay_seconds=[2, 10],
    retry_condition_fn=retry_transient,
)


def within(work_seconds: int) -> int:
    """A warehouse step's time limit: its own work plus the whole wait budget (read once, when
    the flows are imported: a scheduled run imports them afresh)."""
    return work_seconds + get_settings().warehouse_retry_seconds


WAREHOUSE = dict(cache_policy=NO_CACHE)


@task(name="check-disk-space", cache_policy=NO_CACHE, timeout_seconds=120)
def check_disk(settings: Settings) -> None:
    """Before anything is touched: enough free space for the inbox and the margin, or stop."""
    problem = space_problem(settings.workdir, settings.inbox, settings.disk_margin_mb)
    if problem:
        raise Fault(problem)


@task(name="open-warehouse", timeout_seconds=within(300), **WAREHOUSE)
@warehouse_step("打开仓库")
def open_warehouse(url: str, ref: Reference, flow_name: str) -> int:
    """Bring the schema to head (an empty database gets every table), store the reference, start a run."""
    from guidefund.warehouse.db import upgrade
    from guidefund.warehouse.load import load_reference_data, start_run

    engine = engine_for(url)
    upgrade(engine)
    with engine.begin() as conn:
        load_reference_data(conn, ref)
    return start_run(engine, flow_name)


class PlanInvalid(ValueError):
    """plan.critical failed: the reference data contradicts itself, so nothing is loaded."""


@task(name="check-plan", cache_policy=NO_CACHE, timeout_seconds=300)
def check_plan(ref: Reference, docs: DocsRun) -> None:
    """plan.critical over the year's reference data: one GX run; stop the run if it fails."""
    from guidefund.intake.validate import validate_plan

    problems = validate_plan(ref, docs)
    if problems:
        raise PlanInvalid("；".join(f.message for f in problems))


@task(name="read-inbox", timeout_seconds=900, **IO)
def read_inbox(inbox: Path, ref: Reference) -> list[Submission]:
    return read_batch(list_inbox(inbox), ref)


@task(name="read-history", timeout_seconds=within(300), **WAREHOUSE)
@warehouse_step("读取历史数据")
def read_history(url: str, ref: Reference) -> list[dict[str, object]]:
    """The current accepted figures of every project (read-only): the outlier rule's history."""
    from guidefund.warehouse.queries import current_submissions

    return current_submissions(engine_for(url), ref.region_code, ref.year)


@task(name="validate-batch", cache_policy=NO_CACHE, timeout_seconds=900)
def validate_batch(
    subs: list[Submission],
    ref: Reference,
    settings: Settings,
    history: list[dict[str, object]],
    docs: DocsRun,
) -> tuple[list[Submission], list[tuple[Submission, list[Finding]]], list[Finding]]:
    """One GX run per suite over the whole batch: accepted, rejected (with every finding) and
    the accepted files' warnings."""
    from guidefund.intake.outliers import Thresholds

    found = batch_findings(subs, ref, Thresholds.of(settings), history, docs)
    accepted, rejected = split(subs, found)
    return accepted, rejected, warnings_of(subs, found)


@task(name="load-batch", timeout_seconds=within(600), **WAREHOUSE)
@warehouse_step("入库")
def load_submissions(
    url: str,
    ref: Reference,
    run_id: int,
    accepted: list[Submission],
    rejected: list[tuple[Submission, list[Finding]]],
    warnings: list[Finding] | None = None,
):  # type: ignore[no-untyped-def]
    from guidefund.warehouse.load import load_batch

    return load_batch(engine_for(url), ref, run_id, accepted, rejected, findings=warnings or ())


@task(name="check-consolidated", timeout_seconds=within(300), **WAREHOUSE)
@warehouse_step("汇总检查")
def check_consolidated(
    url: str, ref: Reference, period: str, docs: DocsRun | None = None
) -> list[Finding]:
    """consolidated.critical over the current accepted versions: one GX run."""
    from guidefund.intake.validate import validate_consolidated
    from guidefund.warehouse.queries import current_submissions

    rows = []
    for r in current_submissions(engine_for(url), ref.region_code, ref.year):
        project = ref.project(r["project_no"])
        if r["period"] == period:
            rows.append({**r, "category": project.category if project else ""})
    return validate_consolidated(rows, ref, docs)


@task(name="file-away", timeout_seconds=600, **IO)
def file_inbox(
    settings: Settings,
    accepted: list[Submission],
    rejected: list[tuple[Submission, list[Finding]]],
    duplicates: tuple[str, ...],
) -> None:
    from guidefund.reports.feedback_xlsx import write_feedback

    file_away(settings.archive, settings.quarantine, accepted, rejected, duplicates, write_feedback)


@task(name="build-data-docs", timeout_seconds=300, **IO)
def build_docs(docs: DocsRun, directory: Path, keep: int, timezone: str) -> str:
    """The run's Great Expectations Data Docs in <workdir>/data_docs (the newest `keep` runs
    kept); the path of the run's Chinese summary page."""
    from guidefund.expectations.runner import build_data_docs

    return str(build_data_docs(docs, directory, keep, timezone).summary)


@task(name="finish-run", timeout_seconds=within(120), **WAREHOUSE)
@warehouse_step("关闭运行记录")
def finish(url: str, run_id: int, status: str, note: str | None = None) -> None:
    from guidefund.warehouse.load import finish_run

    finish_run(engine_for(url), run_id, status, note)


def close_failed(url: str, run_id: int, exc: BaseException) -> None:
    """Record the run as failed, once and without waiting: the warehouse may be what failed,
    and a run left 'running' says no less than a failed one."""
    from guidefund.warehouse.load import finish_run

    try:
        finish_run(engine_for(url), run_id, "failed", explain(exc)[:500])
    except Exception as again:  # noqa: BLE001 - best effort; the first failure is what counts
        # The log file only: the console has the first failure's line, which says what to do.
        log.info("运行记录 %s 未能标记为失败：%s", run_id, describe_error(again, url))


@task(name="raise-alerts", timeout_seconds=within(300), **WAREHOUSE)
@warehouse_step("计算预警")
def raise_alerts(
    url: str, ref: Reference, settings: Settings, run_id: int, period: str, today: date
) -> list[dict[str, Any]]:
    """Alert rows for the current consolidation; returns only the new ones (deduplicated)."""
    from guidefund.evaluate.alerts import raise_alerts as raise_alert_rows

    return raise_alert_rows(engine_for(url), ref, settings, run_id, period, today)


@task(name="write-consolidated", timeout_seconds=within(300), **WAREHOUSE)
@warehouse_step("写汇总表")
def write_consolidated(
    url: str, ref: Reference, path: Path, period: str, timezone: str = "Asia/Shanghai"
) -> Path:
    """The 汇总表 workbook: one row per plan project with its submission state."""
    from guidefund.reports.consolidated_xlsx import write_consolidated_xlsx

    return write_consolidated_xlsx(engine_for(url), ref, path, period, timezone)


@task(
    name="notify-alerts",
    cache_policy=NO_CACHE,
    timeout_seconds=within(120) + get_settings().notify_retry_seconds,
)
def notify_new_alerts(settings: Settings, run_id: int) -> Delivery:
    """Deliver the alerts that run `run_id` raised or saw again; only the new ones go out.
    Delivery is retried within GUIDEFUND_NOTIFY_RETRY_SECONDS; then the alerts are held for
    the next run (notify.NotDelivered says how many)."""
    from guidefund.warehouse.alerts import alert_rows

    url = settings.database_url
    alerts = retrying(url, "读取预警", lambda: alert_rows(engine_for(url), run_id=run_id))
    return deliver_alerts(settings, alerts)
