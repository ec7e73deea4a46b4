"""The `execution-alerts` flow: a weekly digest of the open alerts, delivered like alerts are.

An alert is open while the flow that raised it keeps raising it: every nightly consolidation and
year-end aggregation re-evaluates every rule and marks each alert it raises again with its run id
(`alert.last_seen_run_id`), so the open alerts are those last seen by the latest successful run of
either flow. "New" means first seen in the last `days` days. The digest is sent every time, even with nothing open, so its arrival
also says the schedule is alive; unlike single alerts it is not deduplicated.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE

from guidefund.flows import artifacts
from guidefund.flows.tasks import as_of_for, reference_of, retry_transient, settings_for, within
from guidefund.notify import digest_message, jsonable, send_message
from guidefund.settings import Settings
from guidefund.warehouse.alerts import latest_runs, open_alerts
from guidefund.warehouse.db import engine_for, warehouse_step

IO: dict[str, Any] = dict(
    cache_policy=NO_CACHE,
    retries=2,
    retry_delay_seconds=[5, 30],
    retry_condition_fn=retry_transient,
)


@dataclass
class Digest:
    region_code: str
    year: int
    open: list[dict[str, Any]]
    new: list[dict[str, Any]]
    title: str
    text: str
    channel: str = ""
    by_severity: dict[str, int] = field(default_factory=dict)
    as_of: date | None = None


@task(name="read-open-alerts", timeout_seconds=within(120), cache_policy=NO_CACHE)
@warehouse_step("读取预警")
def read_open_alerts(url: str, region_code: str, year: int) -> tuple[list[dict[str, Any]], bool]:
    engine = engine_for(url)
    return open_alerts(engine, region_code, year), bool(latest_runs(engine, region_code, year))


@task(name="send-digest", timeout_seconds=120, **IO)
def send_digest(settings: Settings, title: str, text: str, payload: dict[str, Any]) -> str:
    return send_message(settings, title, text, payload)


@flow(name="execution-alerts", log_prints=False)
def execution_alerts(
    year: int | None = None,
    workdir: str | None = None,
    days: int = 7,
    region: str | None = None,
    as_of: date | None = None,
) -> Digest:
    """Send one region's weekly digest of its open alerts (slow spending, missed targets, late
    submissions) for the year (default: the current plan year).

    `as_of` (default: today in GUIDEFUND_TIMEZONE) is the date the digest is dated; each alert
    states the date its last run judged it as of."""
    settings = settings_for(workdir, region)
    day = as_of_for(settings, as_of)
    ref = reference_of(settings, year, day)
    year, code = ref.year, ref.region_code
    alerts, ran = read_open_alerts(settings.database_url, code, year)
    since = datetime.now(UTC).replace(tzinfo=None) - timedelta(days=days)
    title, text, new = digest_message(year, alerts, since, ran, f"{ref.region_name} {code}", day)
    artifacts.digest_artifacts(alerts, year, code)
    payload = {
        "kind": "digest",
        "region_code": code,
        "year": year,
        "as_of": day.isoformat(),
        "open": len(alerts),
        "new": len(new),
        "alerts": [jsonable(a) for a in alerts],
    }
    channel = send_digest(settings, title, text, payload)
    severities = dict(Counter(str(a.get("severity", "")) for a in alerts))
    return Digest(code, year, alerts, new, title, text, channel, severities, day)
