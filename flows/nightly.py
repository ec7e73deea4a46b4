"""The nightly consolidation flow.

Primary work (a failure stops the run: exit 2): check the disk → finish what a killed run left →
check the plan → scan and hash the inbox (known bytes are duplicates, unparsed) → per chunk: read
(worker pool, or a Dask cluster) and validate (one GX run per suite) → decide versions → per chunk:
load (one transaction) and file away. Secondary work (a failure is one line saying what happens
next, and the run goes on: exit 1): the periods to judge as of the run's date (the reporting
calendar) → check their consolidation → alerts → 汇总表 → Data Docs → close
the run record → artifacts → notification of new alerts. A stop (SIGTERM, SIGINT) ends the run at
the next checkpoint between steps."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path

from prefect import flow

from guidefund.evaluate.calendar import no_calendar_note
from guidefund.expectations import DocsRun
from guidefund.faults import SecondarySteps, checkpoint, watch_stops
from guidefund.flows import artifacts, tasks
from guidefund.flows.scale import read_on_dask
from guidefund.intake.night import Night, NightLock, load_chunks
from guidefund.intake.readers import ReadLimits
from guidefund.intake.rules import rules_version

UNTOUCHED = "收件箱文件未动，下次运行时处理"


@dataclass
class NightlySummary:
    run_id: int
    year: int
    received: int
    accepted: int
    rejected: int
    duplicate: int
    superseded: int
    rejected_files: dict[str, list[str]] = field(default_factory=dict)  # every finding, as a line
    region_code: str = ""
    consolidated_findings: list[str] = field(default_factory=list)
    # What this run's plan.csv changed against the stored plan (a new plan version), as lines.
    plan_changes: list[str] = field(default_factory=list)
    warnings: int = 0
    data_docs: str = ""
    new_alerts: int = 0
    consolidated_xlsx: str = ""
    # The date the run judged as of (alerts, deadlines), the periods it checked, and the one
    # line a year without a reporting calendar gets.
    as_of: str = ""
    periods: list[str] = field(default_factory=list)
    calendar_note: str = ""
    # Every entry of the inbox this run saw → its one outcome: a receipt's state, or skipped,
    # refused or deferred (left in the inbox) with the reason in `notes`.
    outcomes: dict[str, str] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    skipped: int = 0
    refused: int = 0
    deferred: int = 0
    unfiled: dict[str, str] = field(default_factory=dict)  # receipts whose file could not move
    recovered: int = 0  # files a killed earlier run had receipted, filed by this one
    chunks: int = 0
    workers: int = 0
    # One line per secondary step that failed, saying what happens next.
    problems: list[str] = field(default_factory=list)
    unit_mail: list[str] = field(default_factory=list)  # units told, units without a contact

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


@flow(name="nightly-consolidation", log_prints=False)
def nightly_consolidation(
    year: int | None = None,
    workdir: str | None = None,
    period: str | None = None,
    as_of: date | None = None,
    region: str | None = None,
) -> NightlySummary:
    """Consolidate every workbook waiting in <workdir>/inbox into the warehouse.

    `as_of` (default: today in GUIDEFUND_TIMEZONE) is the date the run judges as of: which
    periods are due, which reports are late. The periods checked and alerted on are those
    holding accepted data and those past their due date (evaluate.calendar); `period` ('2024'
    annual, '2024-07' a month) checks that one alone."""
    watch_stops()
    settings = tasks.settings_for(workdir, region)
    day = tasks.as_of_for(settings, as_of)
    ref = tasks.reference_of(settings, year, day)
    url = settings.database_url
    limits = ReadLimits.of(settings, ref)
    tasks.check_disk(settings)
    with NightLock(settings.workdir) as lock:
        checkpoint("打开仓库", UNTOUCHED)
        run_id = tasks.open_warehouse(url, ref, "nightly-consolidation")
        lock.hold(run_id)
        night = Night(settings, ref, url, limits, rules_version(ref, limits))
        night.run_id = run_id
        docs = DocsRun(f"nightly-consolidation-{run_id}")
        try:
            tasks.recover_custody(night, lock.previous)
            checkpoint("核对计划", UNTOUCHED)
            tasks.check_plan(ref, docs, settings.workdir, night.rules)
            checkpoint("读取收件箱", UNTOUCHED)
            chunks = tasks.plan_night(night)
            night.history = tasks.read_history(url, ref) if chunks else []
            for index in range(chunks):
                checkpoint("读取与校验", UNTOUCHED)
                if settings.dask_address:
                    read_on_dask(night, index)
                else:
                    tasks.read_chunk(night, index)
                tasks.validate_chunk(night, index, docs)
            tasks.decide_versions(night)
            places = tasks.list_places(settings)
            for chunk in load_chunks(night.spill, chunks, night.versions, night.plan, places):
                # Each chunk is loaded and filed away whole: a stop waits for the chunk to end.
                checkpoint("入库", "已完成的批次已入库并归档，其余文件留在收件箱，下次运行时处理")
                tasks.load_chunk(night, chunk)
                tasks.file_chunk(night, chunk)
        except BaseException as exc:
            tasks.close_failed(url, run_id, exc)
            raise
        finally:
            night.close()
        summary = _summary(night)
        summary.as_of, summary.calendar_note = day.isoformat(), no_calendar_note(ref)
        summary.plan_changes = tasks.plan_changes(url, ref, run_id)
        later = SecondarySteps(
            f"文件已入库并归档（接收 {summary.accepted}，退回 {summary.rejected}），"
            "其余步骤下次运行时补做",
            on_stop=lambda stop: tasks.close_failed(url, run_id, stop),
        )
        periods = later.run(
            "确定报告期",
            lambda: tasks.alert_periods(url, ref, settings, day, period, run_id),
            None,
            "报告期未能确定（{}），汇总检查与预警下次运行时补做",
        )
        summary.periods = list(periods or [])
        current = _table_period(summary.periods, ref.year)
        problems = (
            later.run(
                "汇总检查",
                lambda: tasks.check_consolidated(
                    url, ref, summary.periods, docs, settings.workdir, night.rules
                ),
                [],
                "汇总检查未能完成（{}），下次运行时重新检查",
            )
            if periods is not None
            else []
        )
        summary.consolidated_findings = [f.message for f in problems]
        new_alerts = (
            later.run(
                "计算预警",
                lambda: tasks.raise_alerts(url, ref, settings, run_id, summary.periods, day),
                None,
                "预警未能计算（{}），下次运行时重新计算",
            )
            if periods is not None
            else None
        )
        summary.new_alerts = len(new_alerts or [])
        table = later.run(
            "汇总表",
            lambda: tasks.write_consolidated(
                url,
                ref,
                settings.reports / f"汇总表_{ref.stem(current)}.xlsx",
                current,
                settings.timezone,
                day,
            ),
            None,
            "汇总表未能写出（{}），下次运行时重写；现在也可运行 guidefund status --xlsx 文件名",
        )
        summary.consolidated_xlsx = str(table or "")
        summary.data_docs = later.run(
            "校验报告",
            lambda: tasks.build_docs(
                docs, settings.data_docs, settings.data_docs_keep_runs, settings.timezone
            ),
            "",
            "校验报告（Data Docs）未能生成（{}），下次运行时生成新的报告",
        )
        # A run whose alerts were not evaluated must not count as the latest alerting run: the
        # weekly digest would then see no open alert.
        status = "succeeded" if new_alerts is not None else "failed"
        later.run(
            "关闭运行记录",
            lambda: tasks.finish(url, run_id, status, "；".join(later.lines)[:500] or None),
            None,
            "运行记录未能关闭（{}），不影响已入库的数据",
        )
    summary.problems = later.lines
    later.run(
        "发布运行结果",
        lambda: artifacts.nightly_artifacts(
            url,
            run_id,
            summary.as_dict(),
            data_docs=Path(summary.data_docs) if summary.data_docs else None,
            reports=[table] if table else [],
        ),
        [],
        "Prefect 运行结果（artifacts）未能发布（{}），汇总本身不受影响",
    )
    later.run("发送预警", lambda: tasks.notify_new_alerts(settings, run_id), None, "{}")
    if settings.unit_mail_url:
        mailed = later.run(
            "单位邮件",
            lambda: tasks.mail_units(settings, ref, run_id),
            None,
            "单位邮件未能发送（{}），下次运行时补发",
        )
        summary.unit_mail = mailed.lines() if mailed is not None else []
        later.lines += [f"单位邮件：{line}" for line in (mailed.failed_lines() if mailed else [])]
    summary.problems = later.lines
    return summary


def _table_period(periods: list[str], year: int) -> str:
    """The period whose 汇总表 the run writes: the annual one once it is checked, else the
    latest month checked, else the annual one (a run before any period is due)."""
    annual = str(year)
    return annual if annual in periods or not periods else periods[-1]


def _summary(night: Night) -> NightlySummary:
    """The run's primary outcome as the CLI prints it and the artifacts show it; the secondary
    steps fill in the rest."""
    total = {k: sum(getattr(r, k) for r in night.results)
             for k in ("received", "accepted", "rejected", "duplicate", "superseded")}  # fmt: skip
    notes = {name: why for name, (_, why) in night.plan.notes.items()}
    outcomes = night.outcomes()
    kinds = list(outcomes.values())
    return NightlySummary(
        run_id=night.run_id,
        year=night.ref.year,
        region_code=night.ref.region_code,
        **total,
        rejected_files=night.rejected_files,
        warnings=night.warnings,
        outcomes=outcomes,
        notes=notes,
        skipped=kinds.count("skipped"),
        refused=kinds.count("refused"),
        deferred=kinds.count("deferred"),
        unfiled=dict(night.unfiled),
        recovered=night.recovered,
        chunks=night.chunks,
        workers=night.workers,
    )
