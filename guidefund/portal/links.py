"""Secret links: 256 random bits per token, only its SHA-256 stored (warehouse.portal)."""

from __future__ import annotations

import csv
import hashlib
import hmac
import os
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from guidefund.reference import Reference
from guidefund.warehouse import portal as sql
from guidefund.warehouse.models import PORTAL_OFFICE, PORTAL_UNIT

TOKEN_BYTES = 32  # 256 bits; the issue asks for at least 128
UNIT_PATH, OFFICE_PATH = "u", "o"


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()


def same_hash(a: str, b: str) -> bool:
    """Constant-time comparison of two hashes."""
    return hmac.compare_digest(a.encode(), b.encode())


def link_url(base_url: str, kind: str, token: str) -> str:
    path = UNIT_PATH if kind == PORTAL_UNIT else OFFICE_PATH
    return f"{base_url.rstrip('/')}/{path}/{token}"


def plan_units(ref: Reference) -> list[str]:
    """The 申报单位 of the year's plan, each once, in plan order."""
    return list(dict.fromkeys(p.unit for p in ref.plan))


@dataclass
class Issued:
    """Links issued now (unit → URL) and units that kept the link they hold."""

    links: dict[str, str]
    kept: list[str]


def issue_unit_links(
    engine: Engine, ref: Reference, base_url: str, rotate: bool = False,
    only: Sequence[str] | None = None,
) -> Issued:  # fmt: skip
    """A link for every plan unit (or `only` these) without an active one; with `rotate`, the
    active ones are ended and every unit gets a new link. A token is shown only now: the
    warehouse keeps its hash."""
    units = [u for u in plan_units(ref) if only is None or u in only]
    if rotate:
        sql.revoke_links(engine, ref.region_code, ref.year, units, PORTAL_UNIT)
    holding = sql.active_units(engine, ref.region_code, ref.year)
    fresh = [u for u in units if u not in holding]
    tokens = {u: new_token() for u in fresh}
    sql.store_links(
        engine,
        ref.region_code,
        ref.year,
        {u: token_hash(t) for u, t in tokens.items()},
        PORTAL_UNIT,
    )
    return Issued(
        {u: link_url(base_url, PORTAL_UNIT, t) for u, t in tokens.items()},
        [u for u in units if u in holding],
    )


def issue_office_link(engine: Engine, ref: Reference, base_url: str) -> str:
    """A new link to the office overview; earlier office links of the year are ended."""
    sql.revoke_links(engine, ref.region_code, ref.year, [None], PORTAL_OFFICE)
    token = new_token()
    sql.store_links(engine, ref.region_code, ref.year, {None: token_hash(token)}, PORTAL_OFFICE)
    return link_url(base_url, PORTAL_OFFICE, token)


def revoke_units(engine: Engine, ref: Reference, units: Iterable[str]) -> int:
    return sql.revoke_links(engine, ref.region_code, ref.year, list(units), PORTAL_UNIT)


def resolve(engine: Engine, token: str, kind: str) -> dict | None:
    """The active link of this kind for `token`, or None. The lookup is by the token's hash
    (an index), and the stored hash is compared again in constant time."""
    if not token or len(token) > 128:
        return None
    wanted = token_hash(token)
    link = sql.link_by_hash(engine, wanted)
    if link is None or not same_hash(link["token_hash"], wanted) or link["kind"] != kind:
        return None
    return link


def write_links(path: Path, rows: Sequence[tuple[str, str]]) -> Path:
    """申报单位, 链接 per row: CSV (UTF-8 with BOM, for Excel) or .xlsx by the extension. The
    file holds secrets: it is created readable by its owner only."""
    from guidefund.cells import csv_row, put, save

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.part")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.close(fd)
    if path.suffix.lower() == ".xlsx":
        from openpyxl import Workbook

        wb = Workbook()
        ws = wb.active
        ws.title = "单位链接"
        for r, values in enumerate([("申报单位", "链接"), *rows], start=1):
            for c, value in enumerate(values, start=1):
                put(ws, r, c, value)
        ws.column_dimensions["A"].width = 40
        ws.column_dimensions["B"].width = 90
        save(wb, tmp)
    else:
        with tmp.open("w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["申报单位", "链接"])
            writer.writerows(csv_row(r) for r in rows)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return path
