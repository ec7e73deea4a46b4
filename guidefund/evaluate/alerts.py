"""Alert rules over the warehouse: what should worry the department tonight.

`raise_alerts` evaluates every rule for one reporting period and records the result through
warehouse.alerts (deduplicated: an alert whose region, year, period, rule, subject and severity
are unchanged is not new again). Rules, thresholds from Settings:

* execution.progress: execution (实际支出 / 安排资金) below 序时进度 − execution_tolerance_pct,
  per project (allocation > 0, reported for the period), per direction and for the region.
  序时进度 is m/12 at month m, 100 % for the annual report. A direction's or the region's
  execution counts unreported projects as spending nothing, as the budget does;
* execution.year_end (annual report): execution below year_end_execution_min_pct. It needs a
  stated reason: critical when the unit gave none. A subject it flags is not flagged by
  execution.progress again (with the default settings both thresholds are 90 %);
* indicator.miss / indicator.overrun: the note-6 rule (explain_under_pct, explain_over_pct) on
  the current consolidation. In a monthly period the year-to-date sums are projected to the
  year (× 12/m) before comparing with the annual targets; rates and plan counts are not;
* submission.missing: after submission_deadline (default 31 January after the plan year), each
  plan project without an accepted annual submission;
* validation.<rule>: the stored warning-level findings of the current submissions.
"""

from __future__ import annotations

import hashlib
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine

from guidefund.evaluate.figures import breakdown, consolidate
from guidefund.numbers import HUNDRED, as_decimal, plain, rounded
from guidefund.records import (
    CRITICAL,
    TOTAL,
    WARNING,
    IndicatorResult,
    period_label,
    period_month,
)
from guidefund.reference import Reference
from guidefund.settings import Settings
from guidefund.warehouse.alerts import record_alerts
from guidefund.warehouse.queries import current_findings, projects_without, slow_projects


def expected_progress(period: str) -> Decimal:
    """序时进度 in percent: the share of the year elapsed at the end of the reporting period."""
    month = period_month(period)
    return HUNDRED if month is None else rounded(Decimal(month) * HUNDRED / 12, 2)


def deadline(settings: Settings, year: int) -> date:
    return settings.submission_deadline or date(year + 1, 1, 31)


def alert(
    ref: Reference, period: str, rule: str, key: str, subject: str, severity: str,
    message: str, value: Decimal | None = None, threshold: Decimal | None = None,
) -> dict[str, Any]:  # fmt: skip
    """An alert row; its dedup_key follows what identifies it, not the figures that move."""
    ident = "|".join((ref.region_code, str(ref.year), period, rule, key, severity))
    digest = hashlib.sha256(ident.encode()).hexdigest()[:32]
    return {
        "region_code": ref.region_code, "year": ref.year, "period": period,
        "subject": subject[:300], "rule": rule, "value": value, "threshold": threshold,
        "severity": severity, "message": message,
        "dedup_key": f"{ref.region_code}/{ref.year}/{period}/{rule}/{digest}",
    }  # fmt: skip


def execution_alerts(
    engine: Engine, ref: Reference, settings: Settings, period: str
) -> list[dict[str, Any]]:
    annual = period_month(period) is None
    progress = expected_progress(period)
    lag_floor = progress - settings.execution_tolerance_pct
    year_floor = settings.year_end_execution_min_pct
    out: list[dict[str, Any]] = []
    flagged: set[str] = set()
    checks = [("execution.year_end", year_floor)] if annual else []
    checks.append(("execution.progress", lag_floor))
    directions = breakdown(engine, ref, "类别", period)
    for rule, floor in checks:
        for r in slow_projects(engine, ref.region_code, ref.year, period, floor):
            spent = Decimal(r.funds_spent or 0)
            key = f"project:{r.no}"
            if spent * HUNDRED >= floor * r.allocation or key in flagged:
                continue
            rate = rounded(spent / r.allocation * HUNDRED, 2)
            reason = (r.deviation_reason or "").strip()
            subject = f"项目{r.no} {r.name}（{r.unit}）"
            if rule == "execution.year_end":
                said = f"单位说明：{reason}" if reason else "单位未说明原因，请督促补充"
                text = f"{ref.year} 年度资金执行率 {plain(rate)}%，低于 {plain(floor)}%。{said}"
                severity = WARNING if reason else CRITICAL
            else:
                text = (
                    f"截至 {period_label(period)} 资金执行率 {plain(rate)}%（支出 {plain(spent)} / 安排 "
                    f"{plain(r.allocation)} 万元），低于序时进度 {plain(progress)}% 减容差 "
                    f"{plain(settings.execution_tolerance_pct)} 个百分点（{plain(floor)}%），请督促加快支出。"
                )
                severity = WARNING
            flagged.add(key)
            out.append(alert(ref, period, rule, key, subject, severity, text, rate, floor))
        for g in directions:
            key = "region" if g.group == TOTAL else f"category:{g.group}"
            if (
                g.execution_pct is None
                or key in flagged
                or g.spent * HUNDRED >= floor * g.allocation
            ):
                continue
            subject = ref.region_name if key == "region" else f"类别 {g.group}"
            what = ref.region_whole if key == "region" else f"{g.group}（{g.projects} 个项目）"
            text = (
                f"{what}截至 {period_label(period)} 资金执行率 {plain(g.execution_pct)}%（支出 {plain(g.spent)} / 安排 "
                f"{plain(g.allocation)} 万元），低于{'年末要求' if rule == 'execution.year_end' else '序时进度减容差'} {plain(floor)}%。"
            )
            severity = CRITICAL if rule == "execution.year_end" else WARNING
            flagged.add(key)
            out.append(
                alert(ref, period, rule, key, subject, severity, text, g.execution_pct, floor)
            )
    return out


def _shown(r: IndicatorResult, value: str) -> str:
    return f"{value}{r.unit}" if r.unit == "%" else f"{value} {r.unit}".rstrip()


def indicator_alerts(
    engine: Engine, ref: Reference, settings: Settings, period: str
) -> list[dict[str, Any]]:
    month = period_month(period)
    scale = None if month is None else Decimal(12) / Decimal(month)
    under, over = settings.explain_under_pct, settings.explain_over_pct
    results, _, _ = consolidate(engine, ref, period, under, over, scale)
    bands = {b.wording: b.lower for b in ref.bands}
    out = []
    for r in results:
        if not r.needs_explanation or r.completion_pct is None:
            continue
        missed = r.met is False
        rule = "indicator.miss" if missed else "indicator.overrun"
        threshold = bands.get(r.target_text, under) if r.rule == "qualitative" else under
        threshold = threshold if missed else over
        basis = "" if scale is None else f"按截至 {period} 的累计数推算全年，"
        target = r.target_text if r.target is None else f"{r.operator}{_shown(r, plain(r.target))}"
        actual = r.actual_text if r.rule == "qualitative" else _shown(r, plain(r.actual))
        text = (
            f"{basis}{r.indicator}实际完成值 {actual}，指标值 {target}，完成率 {plain(r.completion_pct)}%，"
            f"{'未完成绩效目标' if missed else f'超过指标值 {plain(over - HUNDRED)}% 及以上'}，需分析原因并提出改进措施（自评表注6）。"
        )
        out.append(
            alert(
                ref, period, rule, f"indicator:{r.no}", f"指标 {r.indicator}",
                CRITICAL if missed else WARNING, text, r.completion_pct, threshold,
            )
        )  # fmt: skip
    return out


def missing_alerts(
    engine: Engine, ref: Reference, settings: Settings, today: date
) -> list[dict[str, Any]]:
    due = deadline(settings, ref.year)
    if today <= due:
        return []
    annual = str(ref.year)
    rows = projects_without(engine, ref.region_code, ref.year, annual)
    out = []
    for r in rows:
        why = "，已提交的文件均被退回，请按退回说明修改后重新提交" if r.has_rejected else ""
        text = f"截至 {today.isoformat()} 仍无已接收的 {annual} 年度填报（截止日期 {due.isoformat()}）{why}。"
        subject = f"项目{r.no} {r.name}（{r.unit}）"
        out.append(
            alert(ref, annual, "submission.missing", f"project:{r.no}", subject, CRITICAL, text)
        )
    return out


def warning_alerts(engine: Engine, ref: Reference) -> list[dict[str, Any]]:
    """The stored warning findings of current submissions (a superseded file's are stale)."""
    rows = current_findings(engine, ref.region_code, ref.year, WARNING)
    out = []
    for r in rows:
        where = f"{r.sheet}!{r.cell}" if r.sheet else "(文件)"
        key = f"finding:{r.sha256}:{where}:{r.rule}"
        subject = f"项目{r.project_no} {r.file} {where}"
        out.append(
            alert(ref, r.period, f"validation.{r.rule}", key, subject, WARNING,
                  f"{r.label}：{r.message}", as_decimal(r.value))
        )  # fmt: skip
    return out


def evaluate_alerts(
    engine: Engine, ref: Reference, settings: Settings, period: str, today: date
) -> list[dict[str, Any]]:
    """Every alert the rules raise now, before deduplication."""
    return [
        *execution_alerts(engine, ref, settings, period),
        *indicator_alerts(engine, ref, settings, period),
        *missing_alerts(engine, ref, settings, today),
        *warning_alerts(engine, ref),
    ]


def raise_alerts(
    engine: Engine, ref: Reference, settings: Settings, run_id: int, period: str, today: date
) -> list[dict[str, Any]]:
    """Evaluate every rule for `period` as of `today`, record the alerts against `run_id`, and
    return the new ones (the ones to notify)."""
    return record_alerts(engine, run_id, evaluate_alerts(engine, ref, settings, period, today))
