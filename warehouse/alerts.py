"""Write alert rows, deduplicated by their stable key.

An alert is identified by `dedup_key` (built by flows.alerts from region, year, period, rule,
subject and severity, so it does not change while the condition does not). Recording a set of
alerts in a run:

* a key not stored yet is a *new* alert: inserted with first_run_id = last_seen_run_id = run;
* a stored key is seen again: its last_seen_run_id moves to the run and its value, threshold
  and message are refreshed (the figure may have moved while the alert stands); it is not new.

The alerts a run raised are those with last_seen_run_id = run; the new ones are returned.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Engine, bindparam, insert, select, update

from warehouse import models as m

COLUMNS = (
    "region_code", "year", "period", "subject", "rule", "value", "threshold", "severity",
    "message", "dedup_key",
)  # fmt: skip
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
                ),
                [
                    {
                        "key": a["dedup_key"],
                        "new_value": a.get("value"),
                        "new_threshold": a.get("threshold"),
                        "new_message": a["message"],
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


def alerts_seen(engine: Engine, run_id: int) -> list[dict[str, Any]]:
    """Every alert the run raised (new or seen again), ordered by severity, rule and id."""
    A = m.Alert
    stmt = (
        select(*A.__table__.columns)
        .where(A.last_seen_run_id == run_id)
        .order_by(A.severity, A.rule, A.id)
    )
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(stmt)]
