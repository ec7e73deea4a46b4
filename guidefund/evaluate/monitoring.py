"""The 运行监控表 of one reporting period (issue 16): what the units reported for it, against the
序时进度 and the annual targets, as of a date.

Per plan project, per direction and for the region: the allocation, funds received and spent
(year to date), execution (spent / allocation), 序时进度 (m/12; 100 % for the annual report) and
the gap (execution − 序时进度, in percentage points); a direction's and the region's figures are
those of the projects that reported (as the in-year alerts judge them). Per indicator: the
year-to-date value, its projection to the year (sums × 12/m; rates, means and plan counts as
reported) and whether that projection reaches the target. Then the plan projects with no
accepted report for the period, and whether the period's due date has passed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import Engine

from guidefund.evaluate.alerts import expected_progress, reported_groups
from guidefund.evaluate.calendar import due_of
from guidefund.evaluate.figures import consolidate, execution
from guidefund.numbers import HUNDRED
from guidefund.records import TOTAL, IndicatorResult, period_month
from guidefund.reference import Due, Reference
from guidefund.settings import Settings
from guidefund.warehouse.queries import period_execution, projects_without


@dataclass(frozen=True)
class Line:
    """One project, direction or the region: money in 万元, rates in percent."""

    label: str
    unit: str
    category: str
    allocation: Decimal
    received: Decimal | None
    spent: Decimal | None
    execution_pct: Decimal | None
    progress_pct: Decimal
    reported: bool
    projects: int = 1
    submitted: int = 1

    @property
    def gap(self) -> Decimal | None:
        """Execution minus 序时进度, in percentage points (negative: behind)."""
        return None if self.execution_pct is None else self.execution_pct - self.progress_pct


@dataclass(frozen=True)
class IndicatorLine:
    result: IndicatorResult  # the projection (completion against the annual target)
    to_date: Decimal | None  # the year-to-date value as reported
    projected: bool  # True when the value was scaled to the year (× 12/m)

    @property
    def on_track(self) -> bool | None:
        """Whether the projection reaches the target; None when there is nothing to judge."""
        r = self.result
        if r.completion_pct is None:
            return None
        return not (r.needs_explanation and r.completion_pct < HUNDRED)


@dataclass(frozen=True)
class Monitoring:
    ref: Reference
    period: str
    as_of: date
    due: Due | None
    progress_pct: Decimal
    projects: list[Line]
    groups: list[Line]  # the directions in plan order, then the region (合计)
    indicators: list[IndicatorLine]
    not_reported: list[tuple[int, str, str]]  # 序号, 项目名称, 申报单位

    @property
    def overdue(self) -> bool:
        return self.due is not None and self.as_of > self.due.due

    @property
    def basis(self) -> str:
        month = period_month(self.period)
        if month is None:
            return "年度报告：按全年实际值，不推算"
        return f"累计数 × 12/{month} 推算全年；比率、均值与按计划统计的指标按填报值，不推算"


def monitoring(
    engine: Engine, ref: Reference, settings: Settings, period: str, as_of: date
) -> Monitoring:
    """The period's 运行监控表 as of `as_of`, from the warehouse's current accepted reports."""
    progress = expected_progress(period)
    reported = {r.no: r for r in period_execution(engine, ref.region_code, ref.year, period)}
    projects = []
    for p in ref.plan:
        r = reported.get(p.no)
        spent = None if r is None else Decimal(r.funds_spent or 0)
        received = None if r is None else Decimal(r.funds_received or 0)
        rate = None if spent is None else execution(spent, p.allocation)
        projects.append(
            Line(f"{p.no} {p.name}", p.unit, p.category, p.allocation, received, spent, rate,
                 progress, r is not None)
        )  # fmt: skip
    groups = [
        Line(g.group if g.group != TOTAL else f"{TOTAL}（{ref.region_name}）", "", g.group,
             g.allocation, g.received, g.spent, g.execution_pct, progress, g.submitted > 0,
             g.projects, g.submitted)
        for g in reported_groups(engine, ref, period)
    ]  # fmt: skip
    month = period_month(period)
    scale = None if month is None else Decimal(12) / Decimal(month)
    under, over = settings.explain_under_pct, settings.explain_over_pct
    to_date, _, _ = consolidate(engine, ref, period, under, over)
    projected, _, _ = consolidate(engine, ref, period, under, over, scale)
    indicators = [
        IndicatorLine(p, t.actual, scale is not None and p.rule == "sum")
        for p, t in zip(projected, to_date, strict=True)
    ]
    missing = [(r.no, r.name, r.unit)
               for r in projects_without(engine, ref.region_code, ref.year, period)]  # fmt: skip
    return Monitoring(ref, period, as_of, due_of(ref, settings, period), progress, projects,
                      groups, indicators, missing)  # fmt: skip
