"""The nightly consolidation flow: check the plan → read the inbox → validate (one GX run per
suite) → load → check the consolidation → alerts → 汇总表 → file away → Data Docs → artifacts and
notification of new alerts."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path

from prefect import flow

from guidefund.expectations import DocsRun
from guidefund.flows import artifacts, tasks
from guidefund.reference import load_reference
from guidefund.reports.findings import finding_line


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
    settings = tasks.settings_for(workdir)
    ref = load_reference(settings.reference_dir, year or settings.year)
    url, current = settings.database_url, period or str(ref.year)
    run_id = tasks.open_warehouse(url, ref, "nightly-consolidation")
    docs = DocsRun(f"nightly-consolidation-{run_id}")
    try:
        tasks.check_plan(ref, docs)
        subs = tasks.read_inbox(settings.inbox, ref)
        history = tasks.read_history(url, ref)
        accepted, rejected, warnings = tasks.validate_batch(subs, ref, settings, history, docs)
        loaded = tasks.load_submissions(url, ref, run_id, accepted, rejected, warnings)
        problems = tasks.check_consolidated(url, ref, current, docs)
        new_alerts = tasks.raise_alerts(url, ref, settings, run_id, current, today or date.today())
        table = tasks.write_consolidated(
            url, ref, settings.reports / f"汇总表_{current}.xlsx", current, settings.timezone
        )
        tasks.file_inbox(settings, accepted, rejected, loaded.duplicates)
        index = tasks.build_docs(
            docs, settings.data_docs, settings.data_docs_keep_runs, settings.timezone
        )
    except BaseException as exc:
        tasks.finish(url, run_id, "failed", f"{type(exc).__name__}: {exc}"[:500])
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
        consolidated_findings=[f.message for f in problems],
        warnings=sum(f.file not in loaded.duplicates for f in warnings),
        data_docs=index,
        new_alerts=len(new_alerts),
        consolidated_xlsx=str(table),
    )
    tasks.finish(url, run_id, "succeeded")
    # After the warehouse run is closed: a notifier outage fails the Prefect run (visible in the UI)
    # without marking the stored consolidation failed.
    artifacts.nightly_artifacts(
        url, run_id, summary.as_dict(), data_docs=Path(index) if index else None, reports=[table]
    )
    tasks.notify_new_alerts(settings, run_id)
    return summary
