"""What the warehouse knows about files and where they went: the bytes already known before a
file is parsed, the receipts not yet filed away (the custody journal), and what `guidefund
custody` reconciles the disk against."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, and_, func, or_, select, update

from guidefund import records
from guidefund.warehouse import models as m

S, R, F = m.Submission, m.Receipt, m.Finding


@dataclass(frozen=True)
class Known:
    """Bytes the warehouse holds: its submission, its state, and where a copy is kept (the
    destination of the receipt that first filed it; None for receipts older than custody)."""

    submission_id: int
    state: str
    kept_at: str | None


def known_bytes(
    engine: Engine, region: str, year: int, rules_version: str | None
) -> dict[str, Known]:
    """SHA-256 → Known for the bytes a file may be a duplicate of without being parsed: those
    stored as accepted or superseded, and those rejected under the same rules."""
    same_rules = (
        S.rules_version.is_(None) if rules_version is None else S.rules_version == rules_version
    )
    kept = (
        select(R.sha256, func.max(R.destination).label("kept_at"))
        .where(R.region_code == region, R.year == year, R.state != m.DUPLICATE)
        .group_by(R.sha256)
        .subquery()
    )
    stmt = (
        select(S.sha256, S.id, S.state, kept.c.kept_at)
        .outerjoin(kept, kept.c.sha256 == S.sha256)
        .where(
            S.region_code == region,
            S.year == year,
            or_(S.state != m.REJECTED, and_(S.state == m.REJECTED, same_rules)),
        )
    )
    with engine.connect() as conn:
        return {sha: Known(i, state, at) for sha, i, state, at in conn.execute(stmt)}


@dataclass(frozen=True)
class Unfiled:
    """A receipt whose file has not reached its destination yet."""

    run_id: int
    year: int
    file_name: str
    sha256: str
    state: str
    destination: str | None
    submission_id: int | None


def unfiled(engine: Engine, region: str) -> list[Unfiled]:
    """Receipts of `region` not filed away (a run killed between loading and filing)."""
    stmt = (
        select(R.run_id, R.year, R.file_name, R.sha256, R.state, R.destination, R.submission_id)
        .where(R.region_code == region, R.filed_at.is_(None))
        .order_by(R.id)
    )
    with engine.connect() as conn:
        return [Unfiled(*row) for row in conn.execute(stmt)]


def findings_of(engine: Engine, run_id: int, file_name: str) -> list[records.Finding]:
    """The findings one run stored about one file, in the order they were stored."""
    stmt = (
        select(F.file, F.sheet, F.cell, F.field, F.label, F.value, F.rule, F.message, F.severity)
        .where(F.run_id == run_id, F.file == file_name)
        .order_by(F.id)
    )
    with engine.connect() as conn:
        return [records.Finding(*row) for row in conn.execute(stmt)]


def rejection_of(engine: Engine, submission_id: int) -> list[records.Finding]:
    """The findings of a rejected submission's latest rejection (its feedback workbook)."""
    last = (
        select(func.max(F.run_id))
        .where(F.submission_id == submission_id, F.severity == records.CRITICAL)
        .scalar_subquery()
    )
    stmt = (
        select(F.file, F.sheet, F.cell, F.field, F.label, F.value, F.rule, F.message, F.severity)
        .where(F.submission_id == submission_id, F.run_id == last)
        .order_by(F.id)
    )
    with engine.connect() as conn:
        return [records.Finding(*row) for row in conn.execute(stmt)]


def mark_runs_interrupted(engine: Engine, run_ids: Iterable[int], note: str) -> int:
    """Runs still 'running' among `run_ids` were killed: record them as failed."""
    ids = list(run_ids)
    if not ids:
        return 0
    with engine.begin() as conn:
        result = conn.execute(
            update(m.Run)
            .where(m.Run.id.in_(ids), m.Run.status == "running")
            .values(status="failed", note=note)
        )
        return int(result.rowcount or 0)


@dataclass(frozen=True)
class Held:
    """A receipt as custody sees it: which file, in which state, should be where."""

    run_id: int
    file_name: str
    sha256: str
    state: str
    destination: str | None
    filed_at: datetime | None
    submission_state: str | None


def receipts_of(engine: Engine, region: str, year: int) -> list[Held]:
    """Every receipt of a region and year, with its submission's state now."""
    stmt = (
        select(R.run_id, R.file_name, R.sha256, R.state, R.destination, R.filed_at, S.state)
        .outerjoin(S, S.id == R.submission_id)
        .where(R.region_code == region, R.year == year)
        .order_by(R.id)
    )
    with engine.connect() as conn:
        return [Held(*row) for row in conn.execute(stmt)]


def stored_hashes(engine: Engine) -> dict[str, str]:
    """SHA-256 → state of every stored submission, every region and year (what the archive
    may hold)."""
    with engine.connect() as conn:
        return dict(conn.execute(select(S.sha256, S.state)).all())


def destinations(engine: Engine) -> set[str]:
    """Every place a receipt sent a file to, every region and year (what quarantine may hold)."""
    with engine.connect() as conn:
        rows = conn.execute(select(R.destination).where(R.destination.is_not(None)).distinct())
        return {d for (d,) in rows}
