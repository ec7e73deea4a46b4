"""The year-end aggregation flow: the region's figures from the warehouse, its documents, and the
year-end alerts.

Primary work (a failure stops the run: exit 2): open the warehouse → figures (grouped SQL) →
store the indicator table. Secondary work (a failure is one line saying what happens next:
exit 1): write the 自评表 (.xlsx, .csv, indicators.json), the report draft (.docx), the HTML page
and figures.csv/.json → raise the alerts for the annual period → close the run record →
artifacts → notification of new alerts.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

from prefect import flow, task

from guidefund.evaluate.figures import Figures, collect_figures
from guidefund.evaluate.scores import Scores
from guidefund.faults import SecondarySteps, checkpoint, watch_stops
from guidefund.flows import artifacts, tasks
from guidefund.records import BudgetRow, IndicatorResult
from guidefund.reference import Reference
from guidefund.reports.data_files import write_csv, write_figures, write_json
from guidefund.reports.report_docx import write_docx
from guidefund.reports.report_html import write_html
from guidefund.reports.selfeval_xlsx import write_xlsx
from guidefund.settings import Settings
from guidefund.warehouse.db import engine_for, warehouse_step
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
    as_of: date | None = None
    # What this run's plan.csv changed against the stored plan (a new plan version), as lines.
    plan_changes: list[str] = field(default_factory=list)
    # One line per secondary step that failed, saying what happens next.
    problems: list[str] = field(default_factory=list)


def write_reports(out: Path, fig: Figures) -> list[Path]:
    """Every year-end document for `fig`, in `out`; returns the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    stem = fig.ref.stem()  # the region and year: 新疆_2024
    return [
        write_xlsx(out / f"自评表_{stem}.xlsx", fig),
        write_csv(out / f"自评表_{stem}.csv", fig),
        write_json(out / "indicators.json", fig),
        write_docx(out / f"绩效自评报告_{stem}_草稿.docx", fig),
        write_html(out / f"绩效自评_{stem}.html", fig),
        *write_figures(out, fig),
    ]


@task(name="year-end-figures", timeout_seconds=tasks.within(600), **tasks.WAREHOUSE)
@warehouse_step("计算年度指标")
def figures_task(url: str, ref: Reference, settings: Settings, period: str) -> Figures:
    return collect_figures(engine_for(url), ref, settings, period)


@task(name="write-reports", timeout_seconds=300, **tasks.IO)
def write_reports_task(out: Path, fig: Figures) -> list[Path]:
    return write_reports(out, fig)


@task(name="store-results", timeout_seconds=tasks.within(300), **tasks.WAREHOUSE)
@warehouse_step("保存指标结果")
def store_results(url: str, ref: Reference, run_id: int, results: list[IndicatorResult]) -> None:
    store_indicator_results(engine_for(url), ref, run_id, results)


@flow(name="year-end-aggregation", log_prints=False)
def year_end_aggregation(
    year: int | None = None,
    workdir: str | None = None,
    out: str | None = None,
    as_of: date | None = None,
    region: str | None = None,
) -> YearEnd:
    """Compute the year's self-evaluation from the warehouse and write its documents.

    Without `year` (the schedule): the plan year that has just closed (31 December has come by
    `as_of`), so the same deployment computes each year in turn.

    `as_of` (default: today in GUIDEFUND_TIMEZONE) is the date the alerts are judged as of:
    annual alerts only once annual reports arrived or the 年报 is past due, and every other
    period checked as the nightly run checks it (evaluate.calendar)."""
    watch_stops()
    settings = tasks.settings_for(workdir, region)
    day = tasks.as_of_for(settings, as_of)
    ref = tasks.reference_of(settings, year, day, closed=True)
    url, period = settings.database_url, str(ref.year)
    run_id = tasks.open_warehouse(url, ref, "year-end-aggregation")
    try:
        changed = tasks.plan_changes(url, ref, run_id)
        checkpoint("计算年度指标")
        fig = replace(figures_task(url, ref, settings, period), as_of=day)
        checkpoint("保存指标结果")
        store_results(url, ref, run_id, fig.results)
    except BaseException as exc:
        tasks.close_failed(url, run_id, exc)
        raise
    later = SecondarySteps(
        "年度指标已计算并保存，报告与预警未完成：请重新运行 guidefund year-end",
        on_stop=lambda stop: tasks.close_failed(url, run_id, stop),
    )
    target = Path(out) if out else settings.reports
    files = later.run(
        "写出报告",
        lambda: write_reports_task(target, fig),
        [],
        "年度报告未能写出（{}）：指标已保存，处理后重新运行 guidefund year-end 即可写出",
    )
    new = later.run(
        "计算预警",
        lambda: tasks.raise_alerts(
            url, ref, settings, run_id, tasks.alert_periods(url, ref, settings, day), day
        ),
        None,
        "预警未能计算（{}），下次运行时重新计算",
    )
    status = "succeeded" if new is not None else "failed"
    later.run(
        "关闭运行记录",
        lambda: tasks.finish(url, run_id, status, "；".join(later.lines)[:500] or None),
        None,
        "运行记录未能关闭（{}），不影响已保存的结果",
    )
    later.run(
        "发布运行结果",
        lambda: artifacts.year_end_artifacts(
            url, run_id, ref.year, fig.results, files, ref.region_code
        ),
        [],
        "Prefect 运行结果（artifacts）未能发布（{}），年度结果本身不受影响",
    )
    later.run("发送预警", lambda: tasks.notify_new_alerts(settings, run_id), None, "{}")
    return YearEnd(
        ref.year, fig.results, fig.budget, files, fig.scores, fig, new or [], day, changed,
        later.lines,
    )  # fmt: skip
