"""The SQL of the units' web page and the units' mail (issue 15): links kept as hashes, the
custody record of each upload, what a unit's page shows, and the ledger of mail sent."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, insert, select, update

from guidefund.warehouse import models as m

L, U, S, R, MAIL = m.PortalLink, m.PortalUpload, m.Submission, m.Receipt, m.UnitMail


def now() -> datetime:
    """UTC without tzinfo, as every time in the warehouse."""
    return datetime.now(UTC).replace(tzinfo=None)


def _rows(engine: Engine, stmt: Any) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(stmt)]


def active_units(engine: Engine, region: str, year: int) -> set[str]:
    """Units of the region-year holding a link that is not revoked."""
    stmt = select(L.unit).where(
        L.region_code == region, L.year == year, L.kind == m.PORTAL_UNIT, L.revoked_at.is_(None)
    )
    return {r["unit"] for r in _rows(engine, stmt)}


def store_links(
    engine: Engine, region: str, year: int, hashes: Mapping[str | None, str], kind: str
) -> None:
    """Store one link per unit (`None` for the office's), given as the hash of its token."""
    at = now()
    rows = [
        {"token_hash": h, "kind": kind, "region_code": region, "year": year, "unit": unit,
         "created_at": at, "revoked_at": None}
        for unit, h in hashes.items()
    ]  # fmt: skip
    if rows:
        with engine.begin() as conn:
            conn.execute(insert(L), rows)


def revoke_links(
    engine: Engine, region: str, year: int, units: Iterable[str | None], kind: str
) -> int:
    """End every active link of `units` (None: the office's) at once; how many were ended."""
    ended = 0
    with engine.begin() as conn:
        for unit in units:
            who = L.unit.is_(None) if unit is None else L.unit == unit
            ended += conn.execute(
                update(L)
                .where(L.region_code == region, L.year == year, L.kind == kind, who)
                .where(L.revoked_at.is_(None))
                .values(revoked_at=now())
            ).rowcount
    return ended


def link_by_hash(engine: Engine, token_hash: str) -> dict[str, Any] | None:
    """The active link whose token has this hash, or None (unknown or revoked alike)."""
    stmt = select(L).where(L.token_hash == token_hash, L.revoked_at.is_(None))
    rows = _rows(engine, stmt)
    return rows[0] if rows else None


def record_upload(engine: Engine, row: Mapping[str, Any]) -> int:
    """Write one upload's custody record; its id."""
    with engine.begin() as conn:
        return int(conn.execute(insert(U).returning(U.id), [dict(row)]).scalar_one())


def kept_upload(engine: Engine, region: str, year: int, unit: str, sha256: str) -> dict | None:
    """The first upload of the unit whose bytes are these and were kept (not a duplicate)."""
    stmt = (
        select(U)
        .where(U.region_code == region, U.year == year, U.unit == unit, U.sha256 == sha256)
        .where(U.verdict != "duplicate")
        .order_by(U.id)
        .limit(1)
    )
    rows = _rows(engine, stmt)
    return rows[0] if rows else None


def uploads_of(engine: Engine, region: str, year: int, unit: str) -> list[dict[str, Any]]:
    """The unit's uploads for the year, newest first."""
    stmt = (
        select(U)
        .where(U.region_code == region, U.year == year, U.unit == unit)
        .order_by(U.id.desc())
    )
    return _rows(engine, stmt)


def upload_of_unit(
    engine: Engine, upload_id: int, region: str, year: int, unit: str
) -> dict | None:
    stmt = select(U).where(
        U.id == upload_id, U.region_code == region, U.year == year, U.unit == unit
    )
    rows = _rows(engine, stmt)
    return rows[0] if rows else None


def uploads_by_sha(engine: Engine, region: str, year: int, shas: Sequence[str]) -> dict[str, str]:
    """sha256 → the unit that uploaded those bytes (the first one)."""
    if not shas:
        return {}
    stmt = (
        select(U.sha256, U.unit)
        .where(U.region_code == region, U.year == year, U.sha256.in_(list(set(shas))))
        .order_by(U.id.desc())
    )
    return {r["sha256"]: r["unit"] for r in _rows(engine, stmt)}


def versions_of(
    engine: Engine, region: str, year: int, projects: Sequence[int]
) -> list[dict[str, Any]]:
    """Every stored submission of these projects: project, period, version, state, file, time."""
    if not projects:
        return []
    stmt = (
        select(S.project_no, S.period, S.version, S.state, S.file_name, S.received_at, S.sha256)
        .where(S.region_code == region, S.year == year, S.project_no.in_(list(projects)))
        .order_by(S.project_no, S.received_at.desc(), S.id.desc())
    )
    return _rows(engine, stmt)


def run_receipts(engine: Engine, region: str, year: int, run_id: int) -> list[dict[str, Any]]:
    """The receipts of one run with the project their bytes are for (when read)."""
    stmt = (
        select(
            R.id, R.file_name, R.sha256, R.state, R.destination, R.received_at,
            S.project_no, S.period, S.version,
        )
        .outerjoin(S, S.id == R.submission_id)
        .where(R.region_code == region, R.year == year, R.run_id == run_id)
        .order_by(R.id)
    )  # fmt: skip
    return _rows(engine, stmt)


def latest_run(engine: Engine, flow: str = "nightly-consolidation") -> int | None:
    stmt = select(m.Run.id).where(m.Run.flow_name == flow).order_by(m.Run.id.desc()).limit(1)
    rows = _rows(engine, stmt)
    return int(rows[0]["id"]) if rows else None


def mailed(engine: Engine, region: str, year: int, unit: str, items: Iterable[str]) -> set[str]:
    """Which of these items the unit was already sent."""
    wanted = list(set(items))
    if not wanted:
        return set()
    stmt = select(MAIL.item).where(
        MAIL.region_code == region, MAIL.year == year, MAIL.unit == unit, MAIL.item.in_(wanted)
    )
    return {r["item"] for r in _rows(engine, stmt)}


def record_mail(
    engine: Engine, region: str, year: int, unit: str, kind: str, items: Iterable[str], address: str
) -> None:
    at = now()
    rows = [
        {"kind": kind, "region_code": region, "year": year, "unit": unit, "item": item,
         "address": address, "sent_at": at}
        for item in items
    ]  # fmt: skip
    if rows:
        with engine.begin() as conn:
            conn.execute(insert(MAIL), rows)


def mail_log(engine: Engine, region: str, year: int, kind: str) -> list[dict[str, Any]]:
    stmt = (
        select(MAIL)
        .where(MAIL.region_code == region, MAIL.year == year, MAIL.kind == kind)
        .order_by(MAIL.id)
    )
    return _rows(engine, stmt)


def submissions_mark(engine: Engine, region: str, year: int) -> int | None:
    """The newest stored submission's id: the current figures change only with a new one."""
    from sqlalchemy import func

    stmt = select(func.max(S.id).label("mark")).where(S.region_code == region, S.year == year)
    return _rows(engine, stmt)[0]["mark"]
