"""Write alert rows, deduplicated by their stable key.

An alert is identified by `dedup_key` (built by flows.alerts from region, year, period, rule,
subject and severity, so it does not change while the condition does not). Recording a set of
alerts in a run:

* a key not stored yet is a *new* alert: inserted with first_run_id = last_seen_run_id = run;
* a stored key is seen again: its last_seen_run_id moves to the run and its value, threshold,
  message and as-of date are refreshed (the figure may have moved while the alert stands); it is not new.

The alerts a run raised are those with last_seen_run_id = run; the new ones are returned.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Engine, bindparam, func, insert, inspect, select, update

from guidefund.numbers import natural_key
from guidefund.warehouse import models as m

COLUMNS = (
    "region_code", "year", "period", "subject", "rule", "value", "threshold", "severity",
    "message", "dedup_key", "as_of", "level", "project_no",
)  # fmt: skip
ALERT_COLUMNS = (
    "id", "region_code", "year", "period", "subject", "rule", "value", "threshold",
    "severity", "message", "dedup_key", "first_run_id", "last_seen_run_id", "as_of", "level",
    "project_no",
)  # fmt: skip
# Both re-evaluate every rule, so an alert they no longer raise is closed.
ALERTING_FLOWS = ("nightly-consolidation", "year-end-aggregation")
CHUNK = 500  # keys per IN (...) list; well under SQLite's and PostgreSQL's parameter limits


def record_alerts(
    engine: Engine, run_id: int, alerts: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """Store `alerts` for `run_id` in one transaction; return the new ones as stored (with id,
    first_run_id and last_seen_run_id). A key repeated within `alerts` counts once."""
    unique = list({a["dedup_key"]: a for a in reversed(alerts)}.values())[::-1]
    A = m.Alert
    with engine.begin() as conn:
        keys = [a["dedup_key"] for a in unique]
        stored: set[str] = set()
        for i in range(0, len(keys), CHUNK):
            part = keys[i : i + CHUNK]
            stored.update(conn.execute(select(A.dedup_key).where(A.dedup_key.in_(part))).scalars())
        seen = [a for a in unique if a["dedup_key"] in stored]
        new = [a for a in unique if a["dedup_key"] not in stored]
        if seen:
            conn.execute(
                update(A)
                .where(A.dedup_key == bindparam("key"))
                .values(
                    last_seen_run_id=run_id,
                    value=bindparam("new_value"),
                    threshold=bindparam("new_threshold"),
                    message=bindparam("new_message"),
                    as_of=bindparam("new_as_of"),
                    level=bindparam("new_level"),
                    project_no=bindparam("new_project_no"),
                ),
                [
                    {
                        "key": a["dedup_key"],
                        "new_value": a.get("value"),
                        "new_threshold": a.get("threshold"),
                        "new_message": a["message"],
                        "new_as_of": a.get("as_of"),
                        "new_level": a.get("level"),
                        "new_project_no": a.get("project_no"),
                    }
                    for a in seen
                ],  # fmt: skip
            )
        if not new:
            return []
        rows = [
            {**{c: a.get(c) for c in COLUMNS}, "first_run_id": run_id, "last_seen_run_id": run_id}
            for a in new
        ]
        ids = (
            conn.execute(insert(A).returning(A.id, sort_by_parameter_order=True), rows)
            .scalars()
            .all()
        )
    return [{"id": int(i), **row} for i, row in zip(ids, rows, strict=True)]


def alert_rows(
    engine: Engine,
    *,
    region_code: str | None = None,
    year: int | None = None,
    run_id: int | None = None,
    run_ids: Sequence[int] | None = None,
) -> list[dict]:
    """Alerts as plain dicts (table `alert`) with when each was first seen; optionally of one
    year, and last seen in run `run_id` or in any of `run_ids`."""
    first_seen = m.Run.started_at.label("first_seen")
    stmt = select(*(getattr(m.Alert, c) for c in ALERT_COLUMNS), first_seen).join(
        m.Run, m.Run.id == m.Alert.first_run_id
    )
    if region_code is not None:
        stmt = stmt.where(m.Alert.region_code == region_code)
    if year is not None:
        stmt = stmt.where(m.Alert.year == year)
    if run_id is not None:
        stmt = stmt.where(m.Alert.last_seen_run_id == run_id)
    if run_ids is not None:
        stmt = stmt.where(m.Alert.last_seen_run_id.in_(list(run_ids)))
    with engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(stmt).mappings()]
    # Subjects hold project numbers (项目2, 项目10): SQL would order them as text.
    rows.sort(key=lambda r: (r["severity"], r["rule"], natural_key(r["subject"]), r["id"]))
    return rows


def latest_runs(engine: Engine, region_code: str, year: int) -> list[int]:
    """The latest successful run of each alerting flow for the region and year; empty before
    the first."""
    R = m.Run
    if not inspect(engine).has_table(R.__tablename__):
        return []
    stmt = (
        select(func.max(R.id))
        .where(
            R.flow_name.in_(ALERTING_FLOWS),
            R.status == "succeeded",
            R.region_code == region_code,
            R.year == year,
        )
        .group_by(R.flow_name)
    )
    with engine.connect() as conn:
        return sorted(conn.execute(stmt).scalars())


def open_alerts(
    engine: Engine, region_code: str, year: int, period: str | None = None
) -> list[dict[str, Any]]:
    """The region's open alerts of the year (of one period when given): those its latest
    successful alerting runs raised (again)."""
    runs = latest_runs(engine, region_code, year)
    if not runs:
        return []
    rows = alert_rows(engine, region_code=region_code, year=year, run_ids=runs)
    return [r for r in rows if period is None or r["period"] == period]
