"""The nightly consolidation flow.

Primary work (a failure stops the run: exit 2): check the disk and the plan → read the inbox →
validate (one GX run per suite) → load → file away. Secondary work (a failure is one line saying
what happens next, and the run goes on: exit 1): check the consolidation → alerts → 汇总表 →
Data Docs → close the run record → artifacts → notification of new alerts. A stop (SIGTERM,
SIGINT) ends the run at the next checkpoint between steps."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path

from prefect import flow

from guidefund.expectations import DocsRun
from guidefund.faults import SecondarySteps, checkpoint, watch_stops
from guidefund.flows import artifacts, tasks
from guidefund.reference import load_reference
from guidefund.reports.findings import finding_line

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
    consolidated_findings: list[str] = field(default_factory=list)
    warnings: int = 0
    data_docs: str = ""
    new_alerts: int = 0
    consolidated_xlsx: str = ""
    # One line per secondary step that failed, saying what happens next.
    problems: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


@flow(name="nightly-consolidation", log_prints=False)
def nightly_consolidation(
    year: int | None = None,
    workdir: str | None = None,
    period: str | None = None,
    today: date | None = None,
) -> NightlySummary:
    """Consolidate every workbook waiting in <workdir>/inbox into the warehouse.

    `period` is the consolidation checked and alerted on ('2024' annual, '2024-07' a month);
    `today` (default: the run's date) decides whether the submission deadline has passed."""
    watch_stops()
    settings = tasks.settings_for(workdir)
    ref = load_reference(settings.reference_dir, year or settings.year)
    url, current = settings.database_url, period or str(ref.year)
    tasks.check_disk(settings)
    checkpoint("打开仓库", UNTOUCHED)
    run_id = tasks.open_warehouse(url, ref, "nightly-consolidation")
    docs = DocsRun(f"nightly-consolidation-{run_id}")
    try:
        checkpoint("核对计划", UNTOUCHED)
        tasks.check_plan(ref, docs)
        checkpoint("读取收件箱", UNTOUCHED)
        subs = tasks.read_inbox(settings.inbox, ref)
        history = tasks.read_history(url, ref)
        checkpoint("校验", UNTOUCHED)
        accepted, rejected, warnings = tasks.validate_batch(subs, ref, settings, history, docs)
        checkpoint("入库", UNTOUCHED)
        loaded = tasks.load_submissions(url, ref, run_id, accepted, rejected, warnings)
        # At once: a file the warehouse has recorded should not wait in the inbox for another run.
        tasks.file_inbox(settings, accepted, rejected, loaded.duplicates)
    except BaseException as exc:
        tasks.close_failed(url, run_id, exc)
        raise
    summary = NightlySummary(
        run_id=run_id,
        year=ref.year,
        received=loaded.received,
        accepted=loaded.accepted,
        rejected=loaded.rejected,
        duplicate=loaded.duplicate,
        superseded=loaded.superseded,
        rejected_files={
            s.file_name: [finding_line(f) for f in fs]
            for s, fs in rejected
            if s.file_name not in loaded.duplicates
        },
        warnings=sum(f.file not in loaded.duplicates for f in warnings),
    )
    later = SecondarySteps(
        f"文件已入库并归档（接收 {loaded.accepted}，退回 {loaded.rejected}），其余步骤下次运行时补做",
        on_stop=lambda stop: tasks.close_failed(url, run_id, stop),
    )
    problems = later.run(
        "汇总检查",
        lambda: tasks.check_consolidated(url, ref, current, docs),
        [],
        "汇总检查未能完成（{}），下次运行时重新检查",
    )
    summary.consolidated_findings = [f.message for f in problems]
    new_alerts = later.run(
        "计算预警",
        lambda: tasks.raise_alerts(url, ref, settings, run_id, current, today or date.today()),
        None,
        "预警未能计算（{}），下次运行时重新计算",
    )
    summary.new_alerts = len(new_alerts or [])
    table = later.run(
        "汇总表",
        lambda: tasks.write_consolidated(
            url, ref, settings.reports / f"汇总表_{current}.xlsx", current, settings.timezone
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
    summary.problems = later.lines
    return summary
