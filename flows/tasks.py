"""Prefect tasks: coarse wrappers (a batch of files, one GX run, one transaction) over plain functions.

Only I/O is retried, and only for errors that can go away by themselves; validation is never
retried. Every warehouse step runs under `warehouse_step` (guidefund.warehouse.db): transient
database errors are waited out with backoff within GUIDEFUND_WAREHOUSE_RETRY_SECONDS, each step
being whole transactions so a retry never doubles a row; its time limit is its work plus that
budget. File tasks are retried by Prefect on transient file-share errors only.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from guidefund.expectations import DocsRun
from guidefund.faults import Fault, explain, is_transient_io
from guidefund.intake.batch import batch_findings, split, warnings_of
from guidefund.intake.custody import Places
from guidefund.intake.night import Checked, LoadChunk, Night
from guidefund.intake.space import space_problem
from guidefund.notify import Delivery, deliver_alerts
from guidefund.records import Finding
from guidefund.reference import Reference, closed_year, load_reference, plan_year
from guidefund.settings import Settings, get_settings
from guidefund.warehouse.db import describe_error, engine_for, retrying, warehouse_step

log = logging.getLogger("guidefund.flows")


def settings_for(workdir: str | None, region: str | None = None) -> Settings:
    """A flow's settings: the environment's, with the flow's `workdir` and `region` parameters
    when given."""
    given = {k: v for k, v in (("workdir", workdir), ("region", region)) if v}
    return Settings(**given)


def reference_of(
    settings: Settings, year: int | None, today: date | None = None, closed: bool = False
) -> Reference:
    """The reference data a flow works on: its region (settings.region) and year. Without a
    year: GUIDEFUND_YEAR, else by the calendar, the current plan year, or for the year-end
    (`closed`) the year that has just closed."""
    when = today or date.today()
    if not year:
        if settings.year:
            year = settings.year
        elif closed:
            year = closed_year(settings.reference_dir, settings.region, when)
        else:
            year = plan_year(
                settings.reference_dir, settings.region, when, settings.submission_deadline
            )
    return load_reference(settings.reference_dir, year, settings.region)


def as_of_for(settings: Settings, as_of: date | None) -> date:
    """A run's as-of date: the `as_of` parameter, else today in GUIDEFUND_TIMEZONE (a run at
    01:00 Beijing time on the 1st belongs to the 1st, whatever the server's clock says)."""
    from guidefund.settings import local_today

    return as_of or local_today(settings.timezone)


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
    """Bring the schema to head (an empty database gets every table), start a run and store
    the reference in one transaction (a plan that changed is recorded as this run's new
    plan version)."""
    from guidefund.warehouse.db import upgrade
    from guidefund.warehouse.load import load_reference_data, start_run

    engine = engine_for(url)
    upgrade(engine)
    with engine.begin() as conn:
        run_id = start_run(conn, flow_name, ref.region_code, ref.year)
        load_reference_data(conn, ref, run_id)
    return run_id


@task(name="plan-changes", timeout_seconds=within(120), **WAREHOUSE)
@warehouse_step("读取计划版本")
def plan_changes(url: str, ref: Reference, run_id: int) -> list[str]:
    """What the plan versions this run recorded changed, in words (empty: the plan is as
    stored)."""
    from guidefund.warehouse.dimensions import changes_recorded_by

    changes = changes_recorded_by(engine_for(url), ref.region_code, ref.year, run_id)
    return [line for change in changes for line in change.lines()]


class PlanInvalid(ValueError):
    """plan.critical failed: the reference data contradicts itself, so nothing is loaded."""


@task(name="check-plan", cache_policy=NO_CACHE, timeout_seconds=300)
def check_plan(ref: Reference, docs: DocsRun, workdir: Path | None = None, rules: str = "") -> None:
    """plan.critical over the year's reference data: one GX run, unless these very rules passed
    it before (intake.memo); stop the run if it fails."""
    from guidefund.intake.memo import Memo

    memo = Memo(workdir) if workdir is not None and rules else None
    if memo is not None and memo.get("plan.critical", rules) == []:
        return
    from guidefund.intake.validate import validate_plan

    problems = validate_plan(ref, docs)
    if problems:
        raise PlanInvalid("；".join(f.message for f in problems))
    if memo is not None:
        memo.put("plan.critical", rules, [])


@task(name="recover-custody", timeout_seconds=900, **IO)
def recover_custody(night: Night, previous: int | None) -> int:
    """Before anything else: a run killed earlier is marked failed, and the files it had
    receipted but not filed away are filed now (its receipts are the journal). Returns how
    many were filed."""
    from guidefund.intake.custody import replay
    from guidefund.warehouse.custody import mark_runs_interrupted

    def write_feedback(path: Path, findings: Sequence[Finding]) -> Path:
        # imported only when a rejected file is filed (openpyxl costs ~0.5 s to import)
        from guidefund.reports.feedback_xlsx import write_feedback as write

        return write(path, findings)

    engine = engine_for(night.url)
    if previous is not None and previous != night.run_id:
        retrying(night.url, "标记中断的运行", lambda: mark_runs_interrupted(
            engine, [previous], "中断：运行被终止，由下一次运行完成归档"
        ))  # fmt: skip
    settings = night.settings
    filed = retrying(night.url, "补做归档", lambda: replay(
        engine, settings.workdir, settings.inbox, night.ref.region_code, write_feedback
    ))  # fmt: skip
    night.recovered = len(filed.done)
    night.unfiled.update(filed.failed)
    return night.recovered


@task(name="plan-night", timeout_seconds=900, **IO)
def plan_night(night: Night) -> int:
    """Scan the inbox, hash every file, set known bytes aside (no parsing), cut the rest into
    chunks. Returns the number of chunks to read."""
    from guidefund.intake.inbox import scan_inbox
    from guidefund.intake.night import Spill
    from guidefund.intake.night import plan_night as plan
    from guidefund.warehouse.custody import known_bytes

    settings, ref = night.settings, night.ref
    known = retrying(
        night.url,
        "查找已收文件",
        lambda: known_bytes(engine_for(night.url), ref.region_code, ref.year, night.rules),
    )
    night.plan = plan(scan_inbox(settings.inbox), known, settings.chunk_files,
                      night.limits.guard.file_bytes)  # fmt: skip
    spill = settings.workdir / ".spill"
    Spill.clear(spill)
    night.spill = Spill(spill, on_disk=night.chunks > 1)
    return night.chunks


@task(name="read-chunk", cache_policy=NO_CACHE, timeout_seconds=3600)
def read_chunk(night: Night, index: int) -> int:
    """Read one chunk in the worker pool (a crash or a hang costs one file, as a finding; so
    this task is not retried). Returns the number of files read."""
    night.read[index] = night.read_chunk(index)
    return len(night.read[index])


@task(name="read-history", timeout_seconds=within(300), **WAREHOUSE)
@warehouse_step("读取历史数据")
def read_history(url: str, ref: Reference) -> list[dict[str, object]]:
    """The current accepted figures of every project (read-only): the outlier rule's history."""
    from guidefund.warehouse.queries import current_submissions

    return current_submissions(engine_for(url), ref.region_code, ref.year)


@task(name="validate-chunk", cache_policy=NO_CACHE, timeout_seconds=900)
def validate_chunk(night: Night, index: int, docs: DocsRun) -> int:
    """One GX run per suite over the chunk: accepted, rejected (with every finding) and the
    accepted files' warnings, kept for the load. Returns the number of files rejected."""
    from guidefund.intake.night import accepted_keys
    from guidefund.intake.outliers import Thresholds

    subs = night.read.pop(index)
    found = batch_findings(subs, night.ref, Thresholds.of(night.settings), night.history, docs)
    accepted, rejected = split(subs, found)
    checked = Checked(accepted, rejected, warnings_of(subs, found))
    night.keys.append(accepted_keys(checked))
    night.spill.put(index, checked)
    return len(rejected)


@task(name="list-archive", timeout_seconds=300, **IO)
def list_places(settings: Settings) -> Places:
    """What archive/ and quarantine/ hold: one listing each, so filing decides every
    destination without a stat or a hash per file."""
    return Places.list(settings.workdir)


@task(name="decide-versions", cache_policy=NO_CACHE, timeout_seconds=300)
def decide_versions(night: Night) -> int:
    """Of two versions of one project and period tonight, the later 填报日期 wins, then the
    later modification time; an exact tie is a conflict for both. Returns the conflicts."""
    from guidefund.intake.night import decide_versions as decide

    night.versions = decide(night.keys)
    return len(night.versions.conflicts)


@task(name="load-chunk", timeout_seconds=within(900), **WAREHOUSE)
def load_chunk(night: Night, chunk: LoadChunk) -> int:
    """One transaction: the chunk's submissions, facts, findings and receipts (each with the
    destination of its file). Returns the number of files receipted."""
    from guidefund.reports.findings import finding_line
    from guidefund.warehouse.load import load_batch

    result = retrying(night.url, "入库", lambda: load_batch(
        engine_for(night.url), night.ref, night.run_id, chunk.accepted, chunk.rejected,
        findings=chunk.warnings, duplicates=chunk.duplicates, rules_version=night.rules,
        destinations=chunk.destinations,
    ))  # fmt: skip
    night.results.append(result)
    night.states.update(result.states)
    duplicates = set(result.duplicates)
    for sub, findings in chunk.rejected:
        if sub.file_name not in duplicates:
            night.rejected_files[sub.file_name] = [finding_line(f) for f in findings]
    night.warnings += sum(f.file not in duplicates for f in chunk.warnings)
    return result.received


@task(name="file-chunk", timeout_seconds=900, **IO)
def file_chunk(night: Night, chunk: LoadChunk) -> int:
    """Move the chunk's files to their receipts' destinations (renames), write each rejected
    file's feedback workbook, then mark the receipts filed. Returns the files filed."""
    from guidefund.intake.custody import file_away
    from guidefund.reports.feedback_xlsx import write_feedback
    from guidefund.warehouse.load import mark_filed

    settings = night.settings
    filed = file_away(settings.workdir, settings.inbox, chunk.to_file, write_feedback)
    retrying(
        night.url, "记录归档", lambda: mark_filed(engine_for(night.url), night.run_id, filed.done)
    )
    night.unfiled.update(filed.failed)
    return len(filed.done)


@task(name="check-consolidated", timeout_seconds=within(300), **WAREHOUSE)
@warehouse_step("汇总检查")
def check_consolidated(
    url: str,
    ref: Reference,
    periods: str | Sequence[str],
    docs: DocsRun | None = None,
    workdir: Path | None = None,
    rules: str = "",
) -> list[Finding]:
    """consolidated.critical over the current accepted versions of `periods`: one GX run,
    unless the same rows were judged under the same rules before (their findings are kept,
    intake.memo). A year with a reporting calendar checks only periods that hold data (a
    period nobody reported is its missing-report alerts, not a total of 0)."""
    from guidefund.intake.memo import Memo, key_of
    from guidefund.warehouse.queries import current_submissions

    wanted = {periods} if isinstance(periods, str) else set(periods)
    period = "+".join(sorted(wanted))
    rows = []
    for r in current_submissions(engine_for(url), ref.region_code, ref.year):
        project = ref.project(r["project_no"])
        if r["period"] in wanted:
            rows.append({**r, "category": project.category if project else ""})
    if not rows and ref.calendar:
        return []
    memo = Memo(workdir) if workdir is not None and rules else None
    key = key_of(rules, period, sorted((r["period"], r["project_no"], r["category"],
                                        str(r["allocation"])) for r in rows))  # fmt: skip
    if memo is not None and (known := memo.get("consolidated.critical", key)) is not None:
        return known
    from guidefund.intake.validate import validate_consolidated

    found = validate_consolidated(rows, ref, docs)
    if memo is not None:
        memo.put("consolidated.critical", key, found)
    return found


@task(name="build-data-docs", timeout_seconds=300, **IO)
def build_docs(docs: DocsRun, directory: Path, keep: int, timezone: str) -> str:
    """The run's Great Expectations Data Docs in <workdir>/data_docs (the newest `keep` runs
    kept); the path of the run's Chinese summary page. A run that validated nothing (no new
    file, plan and consolidated set judged before) gets its summary page saying so, without
    importing GX."""
    if not docs.results:
        from guidefund.expectations.summary import save_quiet_run

        return str(save_quiet_run(directory, docs.name, timezone))
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
    url: str,
    ref: Reference,
    settings: Settings,
    run_id: int,
    periods: Sequence[str],
    as_of: date,
) -> list[dict[str, Any]]:
    """Alert rows for `periods` as of `as_of`; returns only the new ones (deduplicated)."""
    from guidefund.evaluate.alerts import raise_alerts as raise_alert_rows

    return raise_alert_rows(engine_for(url), ref, settings, run_id, periods, as_of)


@task(name="alert-periods", timeout_seconds=within(120), **WAREHOUSE)
@warehouse_step("确定报告期")
def alert_periods(
    url: str,
    ref: Reference,
    settings: Settings,
    as_of: date,
    period: str | None = None,
    run_id: int | None = None,
) -> list[str]:
    """The periods run `run_id` checks as of `as_of`: `period` when given, else as
    evaluate.calendar decides (the annual one alone for a year without a reporting calendar)."""
    from guidefund.evaluate.alerts import alert_periods as periods_of

    return periods_of(engine_for(url), ref, settings, as_of, period, run_id)


@task(name="write-consolidated", timeout_seconds=within(300), **WAREHOUSE)
@warehouse_step("写汇总表")
def write_consolidated(
    url: str,
    ref: Reference,
    path: Path,
    period: str,
    timezone: str = "Asia/Shanghai",
    as_of: date | None = None,
) -> Path:
    """The 汇总表 workbook: one row per plan project with its submission state, as of `as_of`."""
    from guidefund.reports.consolidated_xlsx import write_consolidated_xlsx

    return write_consolidated_xlsx(engine_for(url), ref, path, period, timezone, as_of)


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


@task(name="mail-units", cache_policy=NO_CACHE, timeout_seconds=within(600))
def mail_units(settings: Settings, ref: Reference, run_id: int) -> Any:
    """Each unit whose files run `run_id` processed gets one message with their verdicts
    (GUIDEFUND_UNIT_MAIL_URL to <workdir>/contacts.csv); what was sent is recorded, so a rerun
    sends nothing twice."""
    from guidefund.reports.unit_mail import mail_after_nightly

    return mail_after_nightly(settings, ref, engine_for(settings.database_url), run_id)
