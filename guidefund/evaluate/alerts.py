"""Alert rules over the warehouse: what should worry the department tonight.

`raise_alerts` evaluates every rule for the periods a run judges (evaluate.calendar: those it
loaded, the current month, the annual period once it has data or is past due), and the missing
reports of every obligatory period past due, as of one date, and records the result through
warehouse.alerts (deduplicated: an alert whose region, year, period, rule, subject and severity
are unchanged is not new again). Every alert carries the as-of date, its level (project,
direction, region, indicator, submission) and its project's 序号. Rules, thresholds from
Settings:

* execution.progress: execution (实际支出 / 安排资金) below 序时进度 − execution_tolerance_pct,
  per project (allocation > 0, reported for the period), per direction and for the region.
  序时进度 is m/12 at month m, 100 % for the annual report. In a monthly period a direction's
  or the region's execution is that of the projects that reported for it (a missing report is
  its own alert); in the annual period unreported projects count as spending nothing, as the
  budget does;
* execution.year_end (annual period only): execution below year_end_execution_min_pct. It needs
  a stated reason: critical when the unit gave none. A subject it flags is not flagged by
  execution.progress again (with the default settings both thresholds are 90 %);
* indicator.miss / indicator.overrun: the note-6 rule (explain_under_pct, explain_over_pct) on
  the annual consolidation; a miss is critical;
* indicator.projection / indicator.overrun in a monthly period: the year-to-date sums are
  projected to the year (× 12/m; rates and plan counts are not) before comparing with the
  annual targets; a projection that falls short is a warning, 预计难以完成, never a miss;
* submission.missing: after a period's due date, each plan project that must report it (the
  calendar's 全部项目须报送, always for the annual report) and has no accepted report for it:
  critical for the annual report, a warning for the others;
* validation.<rule>: the stored warning-level findings of the current submissions.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine

from guidefund.evaluate.calendar import due_of, obligatory_past_due, periods_to_check
from guidefund.evaluate.figures import breakdown, consolidate, execution
from guidefund.numbers import HUNDRED, as_decimal, plain, rounded
from guidefund.records import (
    CRITICAL,
    TOTAL,
    WARNING,
    GroupRow,
    IndicatorResult,
    period_label,
    period_month,
)
from guidefund.reference import Reference
from guidefund.settings import Settings
from guidefund.warehouse.alerts import record_alerts
from guidefund.warehouse.queries import (
    current_findings,
    period_execution,
    projects_without,
    reported_periods,
    slow_projects,
)

PROJECT, DIRECTION, REGION, INDICATOR, SUBMISSION = (
    "project", "direction", "region", "indicator", "submission",
)  # fmt: skip


def expected_progress(period: str) -> Decimal:
    """序时进度 in percent: the share of the year elapsed at the end of the reporting period."""
    month = period_month(period)
    return HUNDRED if month is None else rounded(Decimal(month) * HUNDRED / 12, 2)


def deadline(settings: Settings, year: int, ref: Reference | None = None) -> date:
    """The annual report's due date: the setting, else the calendar's 年报 row, else 31 January."""
    if settings.submission_deadline is not None or ref is None:
        return settings.submission_deadline or date(year + 1, 1, 31)
    due = due_of(ref, settings, str(year))
    return due.due if due is not None else date(year + 1, 1, 31)


def alert(
    ref: Reference, period: str, rule: str, key: str, subject: str, severity: str,
    message: str, value: Decimal | None = None, threshold: Decimal | None = None,
    level: str = PROJECT, project_no: int | None = None,
) -> dict[str, Any]:  # fmt: skip
    """An alert row; its dedup_key follows what identifies it, not the figures that move."""
    ident = "|".join((ref.region_code, str(ref.year), period, rule, key, severity))
    digest = hashlib.sha256(ident.encode()).hexdigest()[:32]
    return {
        "region_code": ref.region_code, "year": ref.year, "period": period,
        "subject": subject[:300], "rule": rule, "value": value, "threshold": threshold,
        "severity": severity, "message": message, "level": level, "project_no": project_no,
        "dedup_key": f"{ref.region_code}/{ref.year}/{period}/{rule}/{digest}",
    }  # fmt: skip


def reported_groups(engine: Engine, ref: Reference, period: str) -> list[GroupRow]:
    """Per direction, then the 合计 row: the projects that reported for `period`, their plan
    allocation and what they received and spent (a monthly period's execution)."""
    rows = period_execution(engine, ref.region_code, ref.year, period)
    groups: dict[str, list[Any]] = defaultdict(list)
    for r in rows:
        groups[r.category].append(r)
        groups[TOTAL].append(r)
    order = [*dict.fromkeys(p.category for p in ref.plan), TOTAL]
    out = []
    for name in order:
        members = groups.get(name, [])
        alloc = sum((Decimal(r.allocation) for r in members), Decimal(0))
        spent = sum((Decimal(r.funds_spent or 0) for r in members), Decimal(0))
        received = sum((Decimal(r.funds_received or 0) for r in members), Decimal(0))
        projects = sum(p.category == name or name == TOTAL for p in ref.plan)
        out.append(
            GroupRow(name, projects, len(members), alloc, received, spent, execution(spent, alloc))
        )
    return out


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
    directions = (
        breakdown(engine, ref, "类别", period) if annual else reported_groups(engine, ref, period)
    )
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
            out.append(alert(ref, period, rule, key, subject, severity, text, rate, floor,
                             PROJECT, r.no))  # fmt: skip
        for g in directions:
            key = "region" if g.group == TOTAL else f"category:{g.group}"
            if (
                g.execution_pct is None
                or key in flagged
                or g.spent * HUNDRED >= floor * g.allocation
            ):
                continue
            subject = ref.region_name if key == "region" else f"类别 {g.group}"
            what = ref.region_whole if key == "region" else f"{g.group}"
            counted = (
                f"（{g.projects} 个项目）"
                if annual
                else f"（已报送 {g.submitted} / {g.projects} 个项目）"
            )
            text = (
                f"{what}{counted}截至 {period_label(period)} 资金执行率 {plain(g.execution_pct)}%（支出 "
                f"{plain(g.spent)} / 安排 {plain(g.allocation)} 万元），低于"
                f"{'年末要求' if rule == 'execution.year_end' else '序时进度减容差'} {plain(floor)}%。"
            )
            severity = CRITICAL if rule == "execution.year_end" else WARNING
            flagged.add(key)
            level = REGION if key == "region" else DIRECTION
            out.append(
                alert(ref, period, rule, key, subject, severity, text, g.execution_pct, floor,
                      level)
            )  # fmt: skip
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
        threshold = bands.get(r.target_text, under) if r.rule == "qualitative" else under
        threshold = threshold if missed else over
        target = r.target_text if r.target is None else f"{r.operator}{_shown(r, plain(r.target))}"
        actual = r.actual_text if r.rule == "qualitative" else _shown(r, plain(r.actual))
        if scale is None:
            rule = "indicator.miss" if missed else "indicator.overrun"
            severity = CRITICAL if missed else WARNING
            text = (
                f"{r.indicator}实际完成值 {actual}，指标值 {target}，完成率 {plain(r.completion_pct)}%，"
                f"{'未完成绩效目标' if missed else f'超过指标值 {plain(over - HUNDRED)}% 及以上'}，需分析原因并提出改进措施（自评表注6）。"
            )
        else:
            projected = r.rule == "sum"
            basis = (
                f"按截至 {period} 的累计数推算全年（× 12/{month}）" if projected
                else f"按截至 {period} 的填报值（比率、均值与按计划统计的指标不按月推算）"
            )  # fmt: skip
            rule = "indicator.projection" if missed else "indicator.overrun"
            severity = WARNING
            verdict = (
                "预计难以完成，请督促加快实施"
                if missed
                else f"预计超过指标值 {plain(over - HUNDRED)}% 及以上，请核实指标值是否偏保守"
            )
            text = (
                f"{basis}，{r.indicator}{'预计' if projected else ''}完成值 {actual}，指标值 {target}，"
                f"预计完成率 {plain(r.completion_pct)}%，{verdict}。"
            )
        out.append(
            alert(
                ref, period, rule, f"indicator:{r.no}", f"指标 {r.indicator}", severity, text,
                r.completion_pct, threshold, INDICATOR,
            )
        )  # fmt: skip
    return out


def missing_alerts(
    engine: Engine, ref: Reference, settings: Settings, period: str, as_of: date
) -> list[dict[str, Any]]:
    """After `period`'s due date, one alert per plan project that must report and has not."""
    annual = str(ref.year)
    if period == annual:
        due, every = deadline(settings, ref.year, ref), True
    else:
        entry = due_of(ref, settings, period)
        if entry is None:
            return []
        due, every = entry.due, entry.every_project
    if not every or as_of <= due:
        return []
    what = f"{annual} 年度" if period == annual else f"{period_label(period)} 报告期"
    out = []
    for r in projects_without(engine, ref.region_code, ref.year, period):
        why = "，已提交的文件均被退回，请按退回说明修改后重新提交" if r.has_rejected else ""
        text = (
            f"截至 {as_of.isoformat()} 仍无已接收的 {what}填报（截止日期 {due.isoformat()}）{why}。"
        )
        subject = f"项目{r.no} {r.name}（{r.unit}）"
        severity = CRITICAL if period == annual else WARNING
        out.append(
            alert(ref, period, "submission.missing", f"project:{r.no}", subject, severity, text,
                  level=PROJECT, project_no=r.no)
        )  # fmt: skip
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
                  f"{r.label}：{r.message}", as_decimal(r.value), level=SUBMISSION,
                  project_no=r.project_no)
        )  # fmt: skip
    return out


def alert_periods(
    engine: Engine,
    ref: Reference,
    settings: Settings,
    as_of: date,
    period: str | None = None,
    run_id: int | None = None,
) -> list[str]:
    """The periods run `run_id` evaluates as of `as_of`: `period` alone when given, else as
    evaluate.calendar decides from the periods with accepted data (and those this run loaded)."""
    if period:
        return [period]
    reported = reported_periods(engine, ref.region_code, ref.year)
    tonight = reported_periods(engine, ref.region_code, ref.year, run_id) if run_id else []
    return periods_to_check(ref, settings, as_of, reported, tonight)


def evaluate_alerts(
    engine: Engine, ref: Reference, settings: Settings, periods: str | Sequence[str], as_of: date
) -> list[dict[str, Any]]:
    """Every alert the rules raise as of `as_of` for `periods`, before deduplication."""
    out: list[dict[str, Any]] = []
    judged = [periods] if isinstance(periods, str) else list(periods)
    with_data = set(reported_periods(engine, ref.region_code, ref.year))
    for period in judged:
        # A month nobody reported says nothing about spending or projections: its missing
        # reports are what there is to say.
        if period in with_data or period_month(period) is None:
            out += execution_alerts(engine, ref, settings, period)
            out += indicator_alerts(engine, ref, settings, period)
    late = dict.fromkeys([*judged, *obligatory_past_due(ref, settings, as_of)])
    for period in late:
        out += missing_alerts(engine, ref, settings, period, as_of)
    out += warning_alerts(engine, ref)
    return [{**a, "as_of": as_of} for a in out]


def raise_alerts(
    engine: Engine,
    ref: Reference,
    settings: Settings,
    run_id: int,
    periods: str | Sequence[str],
    as_of: date,
) -> list[dict[str, Any]]:
    """Evaluate every rule for `periods` as of `as_of`, record the alerts against `run_id`, and
    return the new ones (the ones to notify)."""
    return record_alerts(engine, run_id, evaluate_alerts(engine, ref, settings, periods, as_of))


def _level_of(a: dict[str, Any], ref: Reference) -> str:
    """An alert's level; alerts stored before levels were recorded get it from their rule."""
    if a.get("level"):
        return str(a["level"])
    rule, subject = str(a.get("rule", "")), str(a.get("subject", ""))
    if rule.startswith("validation."):
        return SUBMISSION
    if rule.startswith("indicator."):
        return INDICATOR
    if subject == ref.region_name:
        return REGION
    return DIRECTION if subject.startswith("类别 ") else PROJECT


def listed(alerts: Sequence[dict[str, Any]], ref: Reference) -> list[dict[str, Any]]:
    """Alerts as `guidefund alerts` lists them: period, rule, severity, level, project (the
    plan 序号 or None), subject, value, threshold, message, as_of, first_seen; in period, then
    severity (critical first), rule and project order."""
    out = []
    for a in alerts:
        level = _level_of(a, ref)
        project = a.get("project_no")
        if project is None and level in (PROJECT, SUBMISSION):
            head = str(a.get("subject", "")).split(" ")[0]
            project = int(head[2:]) if head.startswith("项目") and head[2:].isdigit() else None
        out.append({
            "period": a.get("period"), "rule": a.get("rule"), "severity": a.get("severity"),
            "level": level, "project": project, "subject": a.get("subject"),
            "value": a.get("value"), "threshold": a.get("threshold"),
            "message": a.get("message"), "as_of": a.get("as_of"),
            "first_seen": a.get("first_seen"),
        })  # fmt: skip
    severity = {CRITICAL: 0, WARNING: 1}
    out.sort(key=lambda a: (
        (len(str(a["period"])) == 4, str(a["period"])), severity.get(str(a["severity"]), 2),
        str(a["rule"]), a["project"] if a["project"] is not None else -1, str(a["subject"]),
    ))  # fmt: skip
    return out
