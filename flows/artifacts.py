"""Prefect artifacts of a run: what a person opens in the Prefect UI instead of reading logs.

The `publish-*` tasks read what they show (the run's alerts from the warehouse) and publish it;
the helpers below them turn plain data (a run summary dict, alert dicts, indicator results, paths)
into one artifact each. Every artifact has a key, so the
UI's Artifacts page also shows the latest one of each kind with its history. An empty table is
still published (as a sentence), so the latest artifact of a key always describes the latest run.
Money and rates are shown as exact strings, never floats.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, is_dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

from prefect import task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from guidefund.notify import number
from guidefund.warehouse.alerts import alert_rows
from guidefund.warehouse.db import engine_for

FIRST_PROBLEMS = 3  # a rejected file's first problems shown; the rest are in its .errors.xlsx


def key_for(kind: str, scope: str | int | None = None) -> str:
    """Artifact keys may hold only lowercase letters, digits and dashes; `scope` is the region
    and year (`scope_of`), so regions do not overwrite each other's artifacts."""
    return f"{kind}-{scope}" if scope is not None else kind


def scope_of(region_code: str | None, year: int | None) -> str | None:
    """'650000-2024': the region and year an artifact is about."""
    if year is None:
        return None
    return f"{region_code}-{year}" if region_code else str(year)


def run_summary(summary: Mapping[str, Any]) -> UUID:
    """One-row table: files received / accepted / rejected / duplicate / superseded."""
    row = {
        "运行": summary.get("run_id", ""),
        "地区": summary.get("region_code", ""),
        "年度": summary.get("year", ""),
        "收到": summary.get("received", 0),
        "接收": summary.get("accepted", 0),
        "退回": summary.get("rejected", 0),
        "重复": summary.get("duplicate", 0),
        "被替代": summary.get("superseded", 0),
    }
    return create_table_artifact(
        [row],
        key=key_for("nightly-summary", scope_of(summary.get("region_code"), summary.get("year"))),
        description="汇总运行：收到、接收、退回、重复、被替代的文件数",
    )


def rejected_files(
    rejected: Mapping[str, Sequence[str]], scope: str | None = None, first: int = FIRST_PROBLEMS
) -> UUID:
    """The rejected files, each with its first problems (file, sheet!cell, rule, fix)."""
    key = key_for("rejected-files", scope)
    if not rejected:
        return create_markdown_artifact("本次没有退回的文件。", key=key, description="退回的文件")
    rows = [
        {"文件": name, "首要问题": "\n".join(lines[:first])} for name, lines in rejected.items()
    ]
    return create_table_artifact(rows, key=key, description="退回的文件及其首要问题")


def alert_table(alerts: Sequence[Mapping[str, Any]], scope: str | None = None) -> UUID:
    """The alerts: severity, subject, rule, value against threshold, period, message."""
    key = key_for("alerts", scope)
    if not alerts:
        return create_markdown_artifact("没有预警。", key=key, description="预警")
    rows = [
        {
            "级别": a.get("severity", ""),
            "对象": a.get("subject", ""),
            "规则": a.get("rule", ""),
            "值": number(a.get("value")),
            "阈值": number(a.get("threshold")),
            "期间": a.get("period") or "",
            "截至": str(a.get("as_of") or ""),
            "说明": a.get("message", ""),
        }
        for a in alerts
    ]
    return create_table_artifact(rows, key=key, description=f"预警 {len(rows)} 条")


def indicator_table(results: Sequence[Any], scope: str | None = None) -> UUID:
    """The indicator table: target, actual, completion and deviation, and whether to explain.

    `results` are flows.indicators.IndicatorResult objects or dicts with the same fields."""
    rows = []
    for r in results:
        d = asdict(r) if is_dataclass(r) and not isinstance(r, type) else dict(r)
        rows.append(
            {
                "序号": d.get("no", ""),
                "一级指标": d.get("level1", ""),
                "二级指标": d.get("level2", ""),
                "三级指标": d.get("indicator", ""),
                "指标值": f"{d.get('operator', '')}{d.get('target_text', '')}{d.get('unit', '')}",
                "实际完成值": d.get("actual_text") or number(d.get("actual")),
                "完成率%": number(d.get("completion_pct")),
                "偏差率%": number(d.get("deviation_pct")),
                "需说明": "是" if d.get("needs_explanation") else "",
            }
        )
    return create_table_artifact(
        rows, key=key_for("indicators", scope), description="区域绩效目标完成情况"
    )


def links(files: Sequence[Path], data_docs: Path | None = None, scope: str | None = None) -> UUID:
    """Links to the written reports and to the Data Docs of the run's validation."""
    lines = [f"- [{Path(f).name}]({Path(f).resolve().as_uri()})" for f in files]
    if data_docs is not None:
        lines.append(f"- [校验报告 Data Docs]({Path(data_docs).resolve().as_uri()})")
    text = "\n".join(lines) if lines else "本次没有写出报告。"
    return create_markdown_artifact(
        f"### 报告与校验\n\n{text}\n", key=key_for("reports", scope), description="报告与校验"
    )


def publish_nightly(
    summary: Mapping[str, Any],
    alerts: Sequence[Mapping[str, Any]] = (),
    data_docs: Path | None = None,
    reports: Sequence[Path] = (),
) -> list[UUID]:
    """All artifacts of a nightly consolidation, from NightlySummary.as_dict() and its alerts."""
    scope = scope_of(summary.get("region_code"), summary.get("year"))
    made = [
        run_summary(summary),
        rejected_files(summary.get("rejected_files") or {}, scope),
        alert_table(alerts, scope),
    ]
    if data_docs is not None or reports:
        made.append(links(reports, data_docs, scope))
    return made


def publish_year_end(
    year: int,
    results: Sequence[Any],
    files: Sequence[Path],
    alerts: Sequence[Mapping[str, Any]] = (),
    region_code: str | None = None,
) -> list[UUID]:
    """All artifacts of a year-end aggregation: the indicator table, its alerts, its files."""
    scope = scope_of(region_code, year)
    return [
        indicator_table(results, scope),
        alert_table(alerts, scope),
        links(files, None, scope),
    ]


@task(name="publish-nightly-artifacts", cache_policy=NO_CACHE, timeout_seconds=120)
def nightly_artifacts(
    url: str,
    run_id: int,
    summary: Mapping[str, Any],
    data_docs: Path | None = None,
    reports: Sequence[Path] = (),
) -> list[UUID]:
    """The nightly run's artifacts, with the alerts the run raised read from the warehouse."""
    alerts = alert_rows(
        engine_for(url),
        region_code=summary.get("region_code"),
        year=summary.get("year"),
        run_id=run_id,
    )
    return publish_nightly(summary, alerts, data_docs, reports)


@task(name="publish-year-end-artifacts", cache_policy=NO_CACHE, timeout_seconds=120)
def year_end_artifacts(
    url: str,
    run_id: int,
    year: int,
    results: Sequence[Any],
    files: Sequence[Path],
    region_code: str | None = None,
) -> list[UUID]:
    """The year-end run's artifacts, with the alerts the run raised read from the warehouse."""
    alerts = alert_rows(engine_for(url), region_code=region_code, year=year, run_id=run_id)
    return publish_year_end(year, results, files, alerts, region_code)


@task(name="publish-alerts", cache_policy=NO_CACHE, timeout_seconds=120)
def digest_artifacts(
    alerts: Sequence[Mapping[str, Any]], year: int | None = None, region_code: str | None = None
) -> UUID:
    """The open alerts of a region's year as the digest's artifact."""
    return alert_table(alerts, scope_of(region_code, year))
