"""The `execution-alerts` flow: a weekly digest of the open alerts, delivered like alerts are.

An alert is open while the flow that raised it keeps raising it: every nightly consolidation and
year-end aggregation re-evaluates every rule and marks each alert it raises again with its run id
(`alert.last_seen_run_id`), so the open alerts are those last seen by the latest successful run of
either flow. "New" means first seen in the last `days` days. The digest is sent every time, even with nothing open, so its arrival
also says the schedule is alive; unlike single alerts it is not deduplicated.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from sqlalchemy import Engine, func, inspect, select

from flows import artifacts
from flows.notify import alert_line, alert_rows, jsonable, send_message
from flows.settings import Settings
from flows.tasks import engine_for, retry_transient

ALERTING_FLOWS = ("nightly-consolidation", "year-end-aggregation")  # both re-evaluate every rule
IO: dict[str, Any] = dict(
    cache_policy=NO_CACHE,
    retries=2,
    retry_delay_seconds=[5, 30],
    retry_condition_fn=retry_transient,
)


@dataclass
class Digest:
    year: int
    open: list[dict[str, Any]]
    new: list[dict[str, Any]]
    title: str
    text: str
    channel: str = ""
    by_severity: dict[str, int] = field(default_factory=dict)


def latest_runs(engine: Engine) -> list[int]:
    """The latest successful run of each alerting flow; empty before the first."""
    from warehouse.models import Run

    if not inspect(engine).has_table(Run.__tablename__):
        return []
    stmt = (
        select(func.max(Run.id))
        .where(Run.flow_name.in_(ALERTING_FLOWS), Run.status == "succeeded")
        .group_by(Run.flow_name)
    )
    with engine.connect() as conn:
        return sorted(conn.execute(stmt).scalars())


def open_alerts(engine: Engine, year: int) -> list[dict[str, Any]]:
    """The year's alerts that the latest successful alerting runs raised (again)."""
    runs = latest_runs(engine)
    return alert_rows(engine, year=year, run_ids=runs) if runs else []


def render(
    year: int, alerts: Sequence[Mapping[str, Any]], since: datetime, ran: bool = True
) -> tuple[str, str, list[dict[str, Any]]]:
    """(title, text, new alerts) of the digest; `since` is naive UTC like the warehouse's times."""
    new = [dict(a) for a in alerts if a.get("first_seen") and a["first_seen"] >= since]
    title = f"guidefund 每周预警摘要（{year}）：未关闭 {len(alerts)} 条，本周新增 {len(new)} 条"
    if not ran:
        return title, "尚无成功的汇总运行，没有可报告的预警。", new
    if not alerts:
        return title, "没有未关闭的预警。", new
    counts = Counter(str(a.get("severity", "")) for a in alerts)
    lines = ["按级别：" + "，".join(f"{k} {v} 条" for k, v in sorted(counts.items()))]
    new_ids = {a.get("id") for a in new}
    lines += [("（新）" if a.get("id") in new_ids else "") + alert_line(a) for a in alerts]
    return title, "\n".join(lines), new


@task(name="read-open-alerts", timeout_seconds=120, **IO)
def read_open_alerts(url: str, year: int) -> tuple[list[dict[str, Any]], bool]:
    engine = engine_for(url)
    return open_alerts(engine, year), bool(latest_runs(engine))


@task(name="send-digest", timeout_seconds=120, **IO)
def send_digest(settings: Settings, title: str, text: str, payload: dict[str, Any]) -> str:
    return send_message(settings, title, text, payload)


@flow(name="execution-alerts", log_prints=False)
def execution_alerts(year: int | None = None, workdir: str | None = None, days: int = 7) -> Digest:
    """Send the weekly digest of open alerts (slow spending, missed targets, late submissions)."""
    settings = Settings(workdir=workdir) if workdir else Settings()
    year = year or settings.year
    alerts, ran = read_open_alerts(settings.database_url, year)
    since = datetime.now(UTC).replace(tzinfo=None) - timedelta(days=days)
    title, text, new = render(year, alerts, since, ran)
    artifacts.alert_table(alerts, year)
    payload = {
        "kind": "digest",
        "year": year,
        "open": len(alerts),
        "new": len(new),
        "alerts": [jsonable(a) for a in alerts],
    }
    channel = send_digest(settings, title, text, payload)
    severities = dict(Counter(str(a.get("severity", "")) for a in alerts))
    return Digest(year, alerts, new, title, text, channel, severities)
