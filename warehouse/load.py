"""Load the reference data and each run's submissions into the warehouse.

A batch goes in one transaction with bulk inserts (COPY on PostgreSQL, executemany on SQLite):
either every file of the batch is recorded or none is. Every file received gets one receipt in
its run, in exactly one state. Submissions are identified by content (SHA-256 per region and
year):

* a file whose content is already stored, or appeared earlier in the same batch, is a
  *duplicate*: it adds a receipt pointing at the stored submission and nothing else, so loading
  the same inbox again adds receipts but no submissions, facts or findings;
* an accepted file for a project and period that already has a current version becomes
  version n+1 and the earlier one turns *superseded*; within a batch, later files win and the
  earlier ones are receipted as superseded;
* a rejected file is stored with its findings and no facts. Its bytes count as known only
  under the rules it was rejected by (`rules_version`): sent again after the reference data,
  the suites or the reading limits changed, it is validated again, and the stored submission
  takes the new outcome (accepted: versioned, with facts; rejected again: new findings);
* a file this run already receipted (a retried load task) is not received again: its recorded
  state is returned.

Files the caller already knows to be duplicates (their hash was looked up before parsing, see
known_bytes) are passed as `duplicates`: bare records that only get a receipt. Each receipt
carries where its file goes (`destinations`), so the receipt is the custody journal filing
away completes (mark_filed).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, bindparam, delete, insert, select, update

from guidefund import records
from guidefund.reference import Reference
from guidefund.warehouse import models as m
from guidefund.warehouse.db import bulk_insert, refresh_statistics
from guidefund.warehouse.dimensions import ensure_reference_data
from guidefund.warehouse.dimensions import load_reference_data as load_reference_data  # re-exported

if TYPE_CHECKING:
    from guidefund.records import IndicatorResult

FACTS: tuple[type[m.Base], ...] = (m.FundExecution, m.IndicatorContribution, m.SelfEvaluation)


@dataclass(frozen=True)
class LoadResult:
    """What one batch did: files received and how they ended. `accepted` counts the files
    stored with their facts (those a later file of the same batch superseded included), so
    received = accepted + rejected + duplicate; `superseded` counts the versions this call
    turned superseded (stored ones and in-batch ones); `duplicates` names the duplicate files."""

    received: int
    accepted: int
    rejected: int
    duplicate: int
    superseded: int
    duplicates: tuple[str, ...] = ()
    # Every file's state, by name (not compared: the counts and names above say the same).
    states: dict[str, str] = field(default_factory=dict, compare=False, repr=False)


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def start_run(
    engine: Engine | Connection,
    flow_name: str,
    region_code: str | None = None,
    year: int | None = None,
) -> int:
    """Record a run of a region and year as started (status 'running'); return its id. Given a
    connection, in its transaction."""
    stmt = insert(m.Run).values(
        flow_name=flow_name,
        region_code=region_code,
        year=year,
        started_at=_now(),
        status="running",
    )
    if isinstance(engine, Connection):
        return int(engine.execute(stmt.returning(m.Run.id)).scalar_one())
    with engine.begin() as conn:
        return int(conn.execute(stmt.returning(m.Run.id)).scalar_one())


def finish_run(
    engine: Engine, run_id: int, status: str = "succeeded", note: str | None = None
) -> None:
    """Record the run's end: 'succeeded' or 'failed', with an optional note."""
    with engine.begin() as conn:
        stmt = update(m.Run).where(m.Run.id == run_id)
        conn.execute(stmt.values(status=status, finished_at=_now(), note=note))


def load_batch(
    engine: Engine,
    ref: Reference,
    run_id: int,
    accepted: Sequence[records.Submission],
    rejected: Sequence[tuple[records.Submission, Sequence[records.Finding]]],
    findings: Sequence[records.Finding] = (),
    duplicates: Sequence[records.Submission] = (),
    rules_version: str | None = None,
    destinations: Mapping[str, str] | None = None,
) -> LoadResult:
    """Store one run's files, their receipts, facts and findings in one transaction; add the
    outcome to the run's counts. Findings are matched to submissions by file name; those of
    duplicate files are already stored and are skipped. Later files of `accepted` win over
    earlier ones of the same project and period."""
    for sub in accepted:
        if sub.project_no is None or sub.period is None:
            raise ValueError(f"{sub.file_name}: an accepted submission needs project_no and period")
    received = [(s, m.ACCEPTED) for s in accepted] + [(s, m.REJECTED) for s, _ in rejected]
    received += [(s, m.DUPLICATE) for s in duplicates]
    names = [s.file_name for s, _ in received]
    if len(set(names)) < len(names):
        twice = sorted({n for n in names if names.count(n) > 1})
        raise ValueError(f"一个批次中文件名重复：{', '.join(twice)}")
    where_to = destinations or {}
    with engine.begin() as conn:
        ensure_reference_data(conn, ref)
        before = _receipted(conn, run_id)
        S = m.Submission
        in_year = (S.region_code == ref.region_code, S.year == ref.year)
        stored = {
            sha: (i, state, rules)
            for sha, i, state, rules in conn.execute(
                select(S.sha256, S.id, S.state, S.rules_version).where(*in_year)
            )
        }
        ids: dict[str, int | None] = {sha: i for sha, (i, _, _) in stored.items()}
        fresh: list[tuple[records.Submission, str]] = []
        again: set[str] = set()  # rejected before under other rules: validated again now
        new: list[records.Submission] = []
        for sub, state in received:
            if sub.file_name in before:
                if before[sub.file_name][0] != sub.sha256:
                    raise ValueError(f"{sub.file_name}: 本次运行已收到同名但内容不同的文件")
                continue
            new.append(sub)
            if state == m.DUPLICATE:
                continue
            known = stored.get(sub.sha256)
            if known is None:
                stored[sub.sha256] = (None, state, rules_version)
                fresh.append((sub, state))
            elif known[1] == m.REJECTED and known[2] != rules_version and sub.sha256 not in again:
                again.add(sub.sha256)
                fresh.append((sub, state))

        rows, superseded = _versioned_rows(conn, ref, run_id, fresh)
        for row in rows:
            row["rules_version"] = rules_version
        bulk_insert(conn, m.Submission, [r for r in rows if r["sha256"] not in again])
        _update_again(conn, ref, [r for r in rows if r["sha256"] in again])
        # Keys back by content: SHA-256 is unique per region and year.
        ids.update(conn.execute(select(S.sha256, S.id).where(*in_year, S.run_id == run_id)).all())
        by_file = {s.file_name: ids[s.sha256] for s, _ in fresh}
        state_of = {s.file_name: row["state"] for (s, _), row in zip(fresh, rows, strict=True)}
        _insert_facts(conn, ref, [(s, by_file[s.file_name]) for s, st in fresh if st == m.ACCEPTED])
        problems = [f for _, fs in rejected for f in fs] + list(findings)
        skip = {s.file_name for s, _ in received} - set(by_file)
        _insert_findings(conn, ref, run_id, _unique(problems), by_file, skip)
        now = _now()
        receipts = [
            {"run_id": run_id, "region_code": ref.region_code, "year": ref.year,
             "file_name": sub.file_name, "sha256": sub.sha256, "received_at": now,
             "state": state_of.get(sub.file_name, m.DUPLICATE),
             "submission_id": ids.get(sub.sha256), "modified_at": _utc(sub.modified),
             "destination": where_to.get(sub.file_name), "filed_at": None}
            for sub in new
        ]  # fmt: skip
        missing = [r["file_name"] for r in receipts if r["submission_id"] is None]
        if missing:
            raise ValueError(f"duplicates of bytes never stored: {', '.join(missing[:5])}")
        bulk_insert(conn, m.Receipt, receipts)

        n_facts = sum(1 for _, st in fresh if st == m.ACCEPTED)
        added = LoadResult(
            received=len(new),
            accepted=n_facts,
            rejected=len(fresh) - n_facts,
            duplicate=len(new) - len(fresh),
            superseded=superseded,
        )
        R = m.Run
        conn.execute(
            update(R)
            .where(R.id == run_id)
            .values(
                received=R.received + added.received,
                accepted=R.accepted + added.accepted,
                rejected=R.rejected + added.rejected,
                duplicate=R.duplicate + added.duplicate,
                superseded=R.superseded + added.superseded,
            )
        )
    refresh_statistics(
        engine,
        [
            m.Submission.__table__,
            m.FieldValue.__table__,
            *(t.__table__ for t in FACTS),
            m.Receipt.__table__,
        ],  # fmt: skip
    )
    return _outcome(received, before, {r["file_name"]: r["state"] for r in receipts}, superseded)


def _utc(timestamp: float | None) -> datetime | None:
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, UTC).replace(tzinfo=None)


def short_name(name: str, limit: int = 255) -> str:
    """`name` when it fits a column of `limit` characters, else its start and end around a
    hash of the whole (the full name stays on the receipt)."""
    if len(name) <= limit:
        return name
    digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    keep = limit - len(digest) - 2
    return f"{name[: keep // 2]}…{digest}…{name[len(name) - (keep - keep // 2) :]}"[:limit]


def _update_again(conn: Connection, ref: Reference, rows: Sequence[dict[str, Any]]) -> None:
    """A stored rejected submission validated again under new rules takes its new outcome."""
    if not rows:
        return
    S = m.Submission
    keys = ("project_no", "period", "version", "template_version", "state", "run_id",
            "rules_version", "received_at")  # fmt: skip
    stmt = (
        update(S)
        .where(S.region_code == ref.region_code, S.year == ref.year, S.sha256 == bindparam("sha"))
        .values({k: bindparam(f"v_{k}") for k in keys})
    )
    params = [{"sha": r["sha256"], **{f"v_{k}": r[k] for k in keys}} for r in rows]
    conn.execute(stmt, params)


def mark_filed(engine: Engine, run_id: int, names: Sequence[str]) -> None:
    """Record that these receipts' files are where their `destination` says."""
    if not names:
        return
    R = m.Receipt
    stmt = (
        update(R)
        .where(R.run_id == run_id, R.file_name == bindparam("name"))
        .values(filed_at=bindparam("at"))
    )
    now = _now()
    with engine.begin() as conn:
        conn.execute(stmt, [{"name": n, "at": now} for n in names])


def _receipted(conn: Connection, run_id: int) -> dict[str, tuple[str, str]]:
    """file name → (sha256, state) of the files this run has already receipted."""
    R = m.Receipt
    rows = conn.execute(select(R.file_name, R.sha256, R.state).where(R.run_id == run_id))
    return {name: (sha, state) for name, sha, state in rows}


def _outcome(
    received: Sequence[tuple[records.Submission, str]],
    before: dict[str, tuple[str, str]],
    now: dict[str, str],
    superseded: int,
) -> LoadResult:
    """The batch as the caller sees it: every file's state, whether receipted now or by an
    earlier attempt of this run. `accepted` counts stored accepted files, superseded in-batch
    ones included, as the run log does."""
    states = [now.get(s.file_name) or before[s.file_name][1] for s, _ in received]
    count = {st: states.count(st) for st in set(states)}
    return LoadResult(
        received=len(received),
        accepted=count.get(m.ACCEPTED, 0) + count.get(m.SUPERSEDED, 0),
        rejected=count.get(m.REJECTED, 0),
        duplicate=count.get(m.DUPLICATE, 0),
        superseded=superseded,
        duplicates=tuple(
            s.file_name for (s, _), st in zip(received, states, strict=True) if st == m.DUPLICATE
        ),
        states={s.file_name: st for (s, _), st in zip(received, states, strict=True)},
    )


def store_indicator_results(
    engine: Engine,
    ref: Reference,
    run_id: int,
    results: Sequence[IndicatorResult],
    period: str | None = None,
) -> int:
    """Store the run's indicator table for `period` (default: the annual report), replacing
    what the run stored before; return the number of rows."""
    IR = m.IndicatorResult
    rows = [
        {"run_id": run_id, "region_code": ref.region_code, "year": ref.year,
         "indicator_no": r.no, "indicator_name": r.indicator, "period": period or str(ref.year),
         "target": r.target, "actual": r.actual, "actual_text": r.actual_text or None,
         "completion_pct": r.completion_pct, "deviation_pct": r.deviation_pct,
         "needs_explanation": r.needs_explanation}
        for r in results
    ]  # fmt: skip
    with engine.begin() as conn:
        ensure_reference_data(conn, ref)
        conn.execute(delete(IR).where(IR.run_id == run_id))
        if rows:
            conn.execute(insert(IR), rows)
    return len(rows)


def _versioned_rows(
    conn: Connection, ref: Reference, run_id: int, fresh: Sequence[tuple[records.Submission, str]]
) -> tuple[list[dict[str, Any]], int]:
    """Submission rows for the new files, with versions; supersedes the stored current versions
    they replace. Returns the rows and how many versions this batch superseded."""
    S = m.Submission
    history = conn.execute(
        select(S.id, S.project_no, S.period, S.version, S.state).where(
            S.region_code == ref.region_code,
            S.year == ref.year,
            S.state.in_([m.ACCEPTED, m.SUPERSEDED]),
        )
    ).all()
    latest: dict[tuple[int | None, str | None], int] = {}
    current: dict[tuple[int | None, str | None], int] = {}
    for row in history:
        key = (row.project_no, row.period)
        latest[key] = max(latest.get(key, 0), row.version or 0)
        if row.state == m.ACCEPTED:
            current[key] = row.id
    keys = [(sub.project_no, sub.period) for sub, st in fresh if st == m.ACCEPTED]
    last_index = {key: i for i, key in enumerate(keys)}
    replaced = [current[k] for k in set(keys) if k in current]
    if replaced:
        conn.execute(update(S).where(S.id.in_(replaced)).values(state=m.SUPERSEDED))

    now = _now()
    rows: list[dict[str, Any]] = []
    n_accepted = 0
    for sub, state in fresh:
        version = None
        if state == m.ACCEPTED:
            key = (sub.project_no, sub.period)
            version = latest[key] = latest.get(key, 0) + 1
            if last_index[key] != n_accepted:
                state = m.SUPERSEDED
            n_accepted += 1
        template = sub.values.get("template_version")
        rows.append(
            {
                "region_code": ref.region_code,
                "year": ref.year,
                "project_no": sub.project_no,
                "period": sub.period,
                "version": version,
                "template_version": None if template is None else str(template),
                "file_name": short_name(sub.file_name),
                "sha256": sub.sha256,
                "received_at": now,
                "state": state,
                "run_id": run_id,
            }
        )
    in_batch = len(keys) - len(last_index)
    return rows, len(replaced) + in_batch


def _insert_facts(
    conn: Connection, ref: Reference, subs: Sequence[tuple[records.Submission, int | None]]
) -> None:
    if not subs:
        return
    where = {"region_code": ref.region_code, "year": ref.year}
    bulk_insert(conn, m.FieldValue, field_value_rows(ref, subs))
    for model in FACTS:
        fields = [c.name for c in model.__table__.columns if c.name not in m.FACT_KEYS]
        rows = [
            {"submission_id": i, **where, **{f: sub.values.get(f) for f in fields}}
            for sub, i in subs
        ]
        bulk_insert(conn, model, rows)


def field_value_rows(
    ref: Reference, subs: Sequence[tuple[records.Submission, int | None]]
) -> list[dict[str, Any]]:
    """One field_value row per submission per field of the year's template (template_fields.csv)
    other than the submission's own keys: the value in its kind's column, its unit and cell.
    A field the file left blank is stored empty, so every field of the year is present."""
    fields = [f for f in ref.fields if f.key not in m.ON_SUBMISSION]
    rows = []
    for sub, i in subs:
        for f in fields:
            row: dict[str, Any] = dict.fromkeys(_VALUE_COLUMNS)
            value = sub.values.get(f.key)
            if value is not None:
                row[m.VALUE_COLUMNS[f.kind]] = _typed(f.kind, value)
            row |= {"submission_id": i, "region_code": ref.region_code, "year": ref.year,
                    "field_key": f.key, "kind": f.kind, "unit": f.unit or None,
                    "cell": sub.cells.get(f.key) or f"{f.sheet}!{f.cell}"}  # fmt: skip
            rows.append(row)
    return rows


_VALUE_COLUMNS = tuple(dict.fromkeys(m.VALUE_COLUMNS.values()))


def _typed(kind: str, value: records.Value) -> records.Value:
    if kind in ("int", "yesno"):
        return int(value)  # type: ignore[arg-type]  # 是 counts 1, 否 0
    if kind in ("text", "grade", "period"):
        return str(value)
    return value


def _insert_findings(
    conn: Connection,
    ref: Reference,
    run_id: int,
    findings: Iterable[records.Finding],
    by_file: dict[str, int | None],
    skip: set[str],
) -> None:
    rows = [
        {
            "run_id": run_id,
            "region_code": ref.region_code,
            "year": ref.year,
            "submission_id": by_file.get(f.file),
            "file": f.file,
            "sheet": f.sheet,
            "cell": f.cell,
            "field": f.field,
            "label": f.label,
            "value": f.value,
            "rule": f.rule,
            "severity": f.severity,
            "message": f.message,
        }
        for f in findings
        if f.file not in skip
    ]
    bulk_insert(conn, m.Finding, rows)


def _unique(findings: Iterable[records.Finding]) -> list[records.Finding]:
    """Each finding once, in order: a rejected file's findings may be in the run's list too."""
    return list(dict.fromkeys(findings))
