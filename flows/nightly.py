"""The nightly consolidation flow: finish what a killed run left → check the plan → scan and hash
the inbox (known bytes are duplicates, unparsed) → per chunk: read (worker pool, or a Dask
cluster) and validate (one GX run per suite) → decide versions → per chunk: load (one
transaction) and file away → check the consolidation → alerts → 汇总表 → Data Docs → artifacts
and notification of new alerts."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path

from prefect import flow

from guidefund.expectations import DocsRun
from guidefund.flows import artifacts, tasks
from guidefund.flows.scale import read_on_dask
from guidefund.intake.night import Night, NightLock, load_chunks
from guidefund.intake.readers import ReadLimits
from guidefund.intake.rules import rules_version
from guidefund.reference import load_reference


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
    limits = ReadLimits.of(settings, ref)
    with NightLock(settings.workdir) as lock:
        run_id = tasks.open_warehouse(url, ref, "nightly-consolidation")
        lock.hold(run_id)
        night = Night(settings, ref, url, limits, rules_version(ref, limits))
        night.run_id = run_id
        docs = DocsRun(f"nightly-consolidation-{run_id}")
        try:
            tasks.recover_custody(night, lock.previous)
            tasks.check_plan(ref, docs, settings.workdir, night.rules)
            chunks = tasks.plan_night(night)
            night.history = tasks.read_history(url, ref) if chunks else []
            for index in range(chunks):
                if settings.dask_address:
                    read_on_dask(night, index)
                else:
                    tasks.read_chunk(night, index)
                tasks.validate_chunk(night, index, docs)
            tasks.decide_versions(night)
            places = tasks.list_places(settings)
            for chunk in load_chunks(night.spill, chunks, night.versions, night.plan, places):
                tasks.load_chunk(night, chunk)
                tasks.file_chunk(night, chunk)
            problems = tasks.check_consolidated(
                url, ref, current, docs, settings.workdir, night.rules
            )
            new_alerts = tasks.raise_alerts(
                url, ref, settings, run_id, current, today or date.today()
            )
            table = tasks.write_consolidated(
                url, ref, settings.reports / f"汇总表_{current}.xlsx", current, settings.timezone
            )
            index_html = tasks.build_docs(
                docs, settings.data_docs, settings.data_docs_keep_runs, settings.timezone
            )
        except BaseException as exc:
            tasks.finish(url, run_id, "failed", f"{type(exc).__name__}: {exc}"[:500])
            raise
        finally:
            night.close()
        summary = _summary(night, problems, index_html, new_alerts, table)
        tasks.finish(url, run_id, "succeeded")
    # After the warehouse run is closed: a notifier outage fails the Prefect run (visible in the UI)
    # without marking the stored consolidation failed.
    artifacts.nightly_artifacts(
        url,
        run_id,
        summary.as_dict(),
        data_docs=Path(index_html) if index_html else None,
        reports=[table],
    )
    tasks.notify_new_alerts(settings, run_id)
    return summary


def _summary(night: Night, problems, index_html: str, new_alerts, table) -> NightlySummary:  # type: ignore[no-untyped-def]
    """The run as the CLI prints it and the artifacts show it."""
    total = {k: sum(getattr(r, k) for r in night.results)
             for k in ("received", "accepted", "rejected", "duplicate", "superseded")}  # fmt: skip
    notes = {name: why for name, (_, why) in night.plan.notes.items()}
    outcomes = night.outcomes()
    kinds = list(outcomes.values())
    return NightlySummary(
        run_id=night.run_id,
        year=night.ref.year,
        **total,
        rejected_files=night.rejected_files,
        consolidated_findings=[f.message for f in problems],
        warnings=night.warnings,
        data_docs=index_html,
        new_alerts=len(new_alerts),
        consolidated_xlsx=str(table),
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
