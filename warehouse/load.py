"""Load the reference data and each run's submissions into the warehouse.

A batch goes in one transaction with executemany inserts: either every file of the batch is
recorded or none is. Submissions are identified by content (SHA-256 per region and year):

* a file whose content is already stored, or appeared earlier in the same batch, is a
  *duplicate*: it adds no row (the stored row is that file) and is counted in its run, so
  loading the same inbox again changes nothing;
* an accepted file for a project and period that already has a current version becomes
  version n+1 and the earlier one turns *superseded*; within a batch, later files win;
* a rejected file is stored with its findings and no facts.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, delete, insert, select, update
from sqlalchemy.orm import Session

from flows import records
from flows.reference import Reference
from warehouse import models as m
from warehouse.db import upsert

if TYPE_CHECKING:
    from flows.indicators import IndicatorResult

FACTS: tuple[type[m.Base], ...] = (m.FundExecution, m.IndicatorContribution, m.SelfEvaluation)


@dataclass(frozen=True)
class LoadResult:
    """What one batch did: files received, and how many ended in each state."""

    received: int
    accepted: int
    rejected: int
    duplicate: int
    superseded: int
    duplicates: tuple[str, ...] = ()


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def load_reference_data(conn: Connection | Session, ref: Reference) -> None:
    """Upsert the year's region, directions, units, plan projects and indicators from `ref`.

    Idempotent; a corrected reference file overwrites the stored values."""
    c = conn.connection() if isinstance(conn, Session) else conn
    key = {"region_code": ref.region_code, "year": ref.year}
    upsert(c, m.Region, [{"code": ref.region_code, "name": ref.region_name}], ["code"])
    year_row = {
        **key,
        "fund_name": ref.fund_name,
        "annual_amount": ref.annual_amount,
        "central_amount": ref.central_amount,
        "local_amount": ref.local_amount,
    }
    upsert(c, m.PlanYear, [year_row], ["region_code", "year"])
    directions = [
        {**key, "name": b.category, "budget_total": b.total, "budget_carried": b.carried,
         "budget_new": b.new}
        for b in ref.budget.values()
    ]  # fmt: skip
    upsert(c, m.Direction, directions, ["region_code", "year", "name"])
    units = {p.unit: p.unit_type for p in ref.plan}
    upsert(c, m.Unit, [{"name": n, "unit_type": t} for n, t in units.items()], ["name"])
    projects = [
        {**key, "no": p.no, "name": p.name, "unit": p.unit, "category": p.category,
         "project_type": p.project_type, "support_mode": p.support_mode,
         "allocation": p.allocation}
        for p in ref.plan
    ]  # fmt: skip
    upsert(c, m.Project, projects, ["region_code", "year", "no"])
    indicators = [
        {**key, "no": t.no, "name": t.name, "level1": t.level1, "level2": t.level2,
         "operator": t.operator, "target": t.target, "target_text": t.target_text,
         "unit": t.unit, "rule": t.rule, "field": t.field, "denominator": t.denominator,
         "condition": t.condition}
        for t in ref.targets
    ]  # fmt: skip
    upsert(c, m.Indicator, indicators, ["region_code", "year", "no"])


def start_run(engine: Engine, flow_name: str) -> int:
    """Record a run as started (status 'running'); return its id."""
    with engine.begin() as conn:
        stmt = insert(m.Run).values(flow_name=flow_name, started_at=_now(), status="running")
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
) -> LoadResult:
    """Store one run's files, their facts and findings in one transaction; add the outcome to
    the run's counts. Findings are matched to submissions by file name; those of duplicate
    files are already stored and are skipped."""
    for sub in accepted:
        if sub.project_no is None or sub.period is None:
            raise ValueError(f"{sub.file_name}: an accepted submission needs project_no and period")
    received = [(s, m.ACCEPTED) for s in accepted] + [(s, m.REJECTED) for s, _ in rejected]
    with engine.begin() as conn:
        load_reference_data(conn, ref)
        S = m.Submission
        in_year = (S.region_code == ref.region_code, S.year == ref.year)
        stored = set(conn.execute(select(S.sha256).where(*in_year)).scalars())
        fresh: list[tuple[records.Submission, str]] = []
        duplicates: list[str] = []
        for sub, state in received:
            if sub.sha256 in stored:
                duplicates.append(sub.file_name)
            else:
                stored.add(sub.sha256)
                fresh.append((sub, state))

        rows, superseded = _versioned_rows(conn, ref, run_id, fresh)
        ids = _insert_submissions(conn, rows)
        by_file = {sub.file_name: i for (sub, _), i in zip(fresh, ids, strict=True)}
        facts = [(sub, by_file[sub.file_name]) for sub, st in fresh if st == m.ACCEPTED]
        _insert_facts(conn, facts)
        problems = [f for _, fs in rejected for f in fs] + list(findings)
        _insert_findings(conn, run_id, _unique(problems), by_file, set(duplicates) - set(by_file))

        result = LoadResult(
            received=len(received),
            accepted=len(facts),
            rejected=len(fresh) - len(facts),
            duplicate=len(duplicates),
            superseded=superseded,
            duplicates=tuple(duplicates),
        )
        R = m.Run
        conn.execute(
            update(R)
            .where(R.id == run_id)
            .values(
                received=R.received + result.received,
                accepted=R.accepted + result.accepted,
                rejected=R.rejected + result.rejected,
                duplicate=R.duplicate + result.duplicate,
                superseded=R.superseded + result.superseded,
            )
        )
    return result


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
        load_reference_data(conn, ref)
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
                "file_name": sub.file_name,
                "sha256": sub.sha256,
                "received_at": now,
                "state": state,
                "run_id": run_id,
            }
        )
    in_batch = len(keys) - len(last_index)
    return rows, len(replaced) + in_batch


def _insert_submissions(conn: Connection, rows: list[dict[str, Any]]) -> list[int]:
    if not rows:
        return []
    stmt = insert(m.Submission).returning(m.Submission.id, sort_by_parameter_order=True)
    return [int(i) for i in conn.execute(stmt, rows).scalars()]


def _insert_facts(conn: Connection, subs: Sequence[tuple[records.Submission, int]]) -> None:
    if not subs:
        return
    for model in FACTS:
        fields = [c.name for c in model.__table__.columns if c.name != "submission_id"]
        rows = [{"submission_id": i, **{f: sub.values.get(f) for f in fields}} for sub, i in subs]
        conn.execute(insert(model), rows)


def _insert_findings(
    conn: Connection,
    run_id: int,
    findings: Iterable[records.Finding],
    by_file: dict[str, int],
    duplicate_files: set[str],
) -> None:
    rows = [
        {
            "run_id": run_id,
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
        if f.file not in duplicate_files
    ]
    if rows:
        conn.execute(insert(m.Finding), rows)


def _unique(findings: Iterable[records.Finding]) -> list[records.Finding]:
    """Each finding once, in order: a rejected file's findings may be in the run's list too."""
    return list(dict.fromkeys(findings))
