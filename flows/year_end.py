"""The year-end aggregation flow: the region's figures from the warehouse, its documents, and the
year-end alerts.

open the warehouse → figures (grouped SQL) → store the indicator table → write the 自评表 (.xlsx,
.csv, indicators.json), the report draft (.docx), the HTML page and figures.csv/.json → raise the
alerts for the annual period → finish the run → artifacts and notification of new alerts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from guidefund.evaluate.figures import Figures, collect_figures
from guidefund.evaluate.scores import Scores
from guidefund.flows import artifacts, tasks
from guidefund.records import BudgetRow, IndicatorResult
from guidefund.reference import Reference, load_reference
from guidefund.reports.data_files import write_csv, write_figures, write_json
from guidefund.reports.report_docx import write_docx
from guidefund.reports.report_html import write_html
from guidefund.reports.selfeval_xlsx import write_xlsx
from guidefund.settings import Settings
from guidefund.warehouse.db import engine_for
from guidefund.warehouse.load import store_indicator_results


@dataclass
class YearEnd:
    year: int
    results: list[IndicatorResult]
    budget: list[BudgetRow]
    files: list[Path]
    scores: Scores | None = None
    figures: Figures | None = None
    new_alerts: list[dict[str, Any]] = field(default_factory=list)


def write_reports(out: Path, fig: Figures) -> list[Path]:
    """Every year-end document for `fig`, in `out`; returns the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    year = fig.ref.year
    return [
        write_xlsx(out / f"自评表_{year}.xlsx", fig),
        write_csv(out / f"自评表_{year}.csv", fig),
        write_json(out / "indicators.json", fig),
        write_docx(out / f"绩效自评报告_{year}_草稿.docx", fig),
        write_html(out / f"绩效自评_{year}.html", fig),
        *write_figures(out, fig),
    ]


IO = dict(
    cache_policy=NO_CACHE,
    retries=2,
    retry_delay_seconds=[2, 10],
    retry_condition_fn=tasks.retry_transient,
)


@task(name="year-end-figures", timeout_seconds=600, **IO)
def figures_task(url: str, ref: Reference, settings: Settings, period: str) -> Figures:
    return collect_figures(engine_for(url), ref, settings, period)


@task(name="write-reports", timeout_seconds=300, **IO)
def write_reports_task(out: Path, fig: Figures) -> list[Path]:
    return write_reports(out, fig)


@task(name="store-results", timeout_seconds=300, **IO)
def store_results(url: str, ref: Reference, run_id: int, results: list[IndicatorResult]) -> None:
    store_indicator_results(engine_for(url), ref, run_id, results)


@flow(name="year-end-aggregation", log_prints=False)
def year_end_aggregation(
    year: int | None = None,
    workdir: str | None = None,
    out: str | None = None,
    today: date | None = None,
) -> YearEnd:
    """Compute the year's self-evaluation from the warehouse and write its documents.

    `today` (default: the run's date) decides whether the submission deadline has passed."""
    settings = tasks.settings_for(workdir)
    ref = load_reference(settings.reference_dir, year or settings.year)
    url, period = settings.database_url, str(ref.year)
    run_id = tasks.open_warehouse(url, ref, "year-end-aggregation")
    try:
        fig = figures_task(url, ref, settings, period)
        store_results(url, ref, run_id, fig.results)
        files = write_reports_task(Path(out) if out else settings.reports, fig)
        new = tasks.raise_alerts(url, ref, settings, run_id, period, today or date.today())
    except BaseException as exc:
        tasks.finish(url, run_id, "failed", f"{type(exc).__name__}: {exc}"[:500])
        raise
    tasks.finish(url, run_id, "succeeded")
    # After the warehouse run is closed: a notifier outage fails the Prefect run (visible in the UI)
    # without marking the stored results failed.
    artifacts.year_end_artifacts(url, run_id, ref.year, fig.results, files)
    tasks.notify_new_alerts(settings, run_id)
    return YearEnd(ref.year, fig.results, fig.budget, files, fig.scores, fig, new)
