"""The year-end aggregation flow: the region's indicator table from the warehouse, and its files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from flows import tasks
from flows.indicators import BudgetRow, IndicatorResult
from flows.nightly import settings_for
from flows.reference import Reference, load_reference
from flows.report import write_csv, write_json, write_xlsx


@dataclass
class YearEnd:
    year: int
    results: list[IndicatorResult]
    budget: list[BudgetRow]
    files: list[Path]


def write_reports(
    out: Path, ref: Reference, results: list[IndicatorResult], budget: list[BudgetRow]
) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    return [
        write_xlsx(out / f"自评表_{ref.year}.xlsx", ref, results, budget),
        write_csv(out / f"自评表_{ref.year}.csv", results, budget),
        write_json(out / "indicators.json", results),
    ]


@task(
    name="write-reports",
    cache_policy=NO_CACHE,
    timeout_seconds=300,
    retries=2,
    retry_delay_seconds=[2, 10],
    retry_condition_fn=tasks.retry_transient,
)
def write_reports_task(
    out: Path, ref: Reference, results: list[IndicatorResult], budget: list[BudgetRow]
) -> list[Path]:
    return write_reports(out, ref, results, budget)


@task(
    name="store-results",
    cache_policy=NO_CACHE,
    timeout_seconds=300,
    retries=2,
    retry_delay_seconds=[2, 10],
    retry_condition_fn=tasks.retry_transient,
)
def store_results(url: str, ref: Reference, run_id: int, results: list[IndicatorResult]) -> None:
    from warehouse.load import store_indicator_results

    store_indicator_results(tasks.engine_for(url), ref, run_id, results)


@flow(name="year-end-aggregation", log_prints=False)
def year_end_aggregation(
    year: int | None = None, workdir: str | None = None, out: str | None = None
) -> YearEnd:
    """Compute the 区域绩效目标自评表 for `year` from the warehouse and write it as .xlsx/.csv/.json."""
    settings = settings_for(workdir)
    ref = load_reference(settings.reference_dir, year or settings.year)
    url = settings.database_url
    run_id = tasks.open_warehouse(url, ref, "year-end-aggregation")
    try:
        results, budget = tasks.aggregate_task(url, ref, settings, str(ref.year))
        store_results(url, ref, run_id, results)
        files = write_reports_task(Path(out) if out else settings.reports, ref, results, budget)
    except BaseException as exc:
        tasks.finish(url, run_id, "failed", f"{type(exc).__name__}: {exc}"[:500])
        raise
    tasks.finish(url, run_id, "succeeded")
    return YearEnd(ref.year, results, budget, files)
