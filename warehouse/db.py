"""Engine, migrations and the dialect helpers.

The URL alone picks SQLite or PostgreSQL. This module is the only place that knows the two
apart: `upsert` (ON CONFLICT in each dialect's syntax) and `bulk_insert` (COPY on PostgreSQL,
one executemany on SQLite). SQLite has no decimal type: the driver stores NUMERIC values as doubles and SQLAlchemy rounds
them back to each column's scale, which is exact for amounts of up to 15 significant digits.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, Table, create_engine, event, insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import DeclarativeBase

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def make_engine(url: str, **engine_kwargs: Any) -> Engine:
    """An Engine for `url`; for SQLite, with WAL, foreign keys on and the file's folder created."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, **engine_kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic Config built in code; a given connection is the one migrations run on."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the database behind `engine` to `revision` (default: the newest)."""
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), revision)


def head_revision() -> str:
    """The newest migration revision shipped with this code."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "warehouse/migrations has no revisions"
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at; None for a database that was never migrated."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def schema_problem(url: str) -> str | None:
    """Why the warehouse at `url` cannot be read yet, in Chinese with the fix to apply; None when
    it is at the newest revision. Creates nothing (a read command must not make a database)."""
    parsed = make_url(url)
    shown = parsed.render_as_string(hide_password=True)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        if not Path(parsed.database).expanduser().exists():
            return f"仓库文件 {parsed.database} 不存在：请先运行 guidefund nightly 或 guidefund db upgrade"
    engine = create_engine(url)
    try:
        current = current_revision(engine)
    except OperationalError as exc:
        return f"无法连接仓库 {shown}：{str(exc.orig).strip()}；请检查 GUIDEFUND_WAREHOUSE_URL"
    finally:
        engine.dispose()
    head = head_revision()
    if current is None:
        return f"仓库 {shown} 尚未建表：请运行 guidefund db upgrade"
    if current != head:
        return (
            f"仓库 {shown} 的结构版本为 {current}，本程序需要 {head}：请运行 guidefund db upgrade"
        )
    return None


def refresh_statistics(engine: Engine, tables: Sequence[Table]) -> None:
    """After a bulk load, give PostgreSQL's planner row counts for the new rows (without them the
    year-end joins were measured to go quadratic: >60 s at 50,000 submissions). SQLite's planner
    did fine without statistics, so it is left alone."""
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE " + ", ".join(t.name for t in tables))


def upsert(
    conn: Connection,
    table: Table | type[DeclarativeBase],
    rows: Sequence[Mapping[str, Any]],
    keys: Iterable[str],
    update: bool = True,
) -> None:
    """Insert `rows` into `table` in one executemany; rows whose `keys` exist are updated with
    the new values (or left alone when `update` is false)."""
    if not rows:
        return
    keys = list(keys)
    dialect = conn.dialect.name
    stmt: Any
    if dialect == "sqlite":
        stmt = sqlite.insert(table)
    elif dialect == "postgresql":
        stmt = postgresql.insert(table)
    else:
        raise NotImplementedError(f"upsert is not written for {dialect}")
    changing = [c for c in rows[0] if c not in keys]
    if update and changing:
        stmt = stmt.on_conflict_do_update(
            index_elements=keys, set_={c: stmt.excluded[c] for c in changing}
        )
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=keys)
    conn.execute(stmt, list(rows))


def bulk_insert(
    conn: Connection, table: Table | type[DeclarativeBase], rows: Sequence[Mapping[str, Any]]
) -> None:
    """Insert `rows` (all with the same keys) in bulk, inside the connection's transaction:
    COPY on PostgreSQL (several times faster than executemany there, see
    benchmarks/warehouse_load.py), one executemany on SQLite. Returns nothing:
    no way hands back generated keys in bulk (SQLite's RETURNING goes row by row when the
    order must be kept), so callers read keys back by a natural key."""
    if not rows:
        return
    t: Table = table if isinstance(table, Table) else table.__table__  # type: ignore[assignment]
    if conn.dialect.name == "postgresql":
        _copy(conn, t, rows)
    else:
        conn.execute(insert(t), list(rows))


def _copy(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    import psycopg
    from psycopg import sql

    columns = list(rows[0])
    stmt = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(*filter(None, (table.schema, table.name))),
        sql.SQL(", ").join(sql.Identifier(c) for c in columns),
    )
    # The driver connection is the one SQLAlchemy holds, so COPY runs in the same transaction.
    raw = conn.connection.driver_connection
    try:
        with raw.cursor() as cur, cur.copy(stmt) as copy:  # type: ignore[union-attr]
            for row in rows:
                copy.write_row([row[c] for c in columns])
    except psycopg.Error as exc:
        # Raise what SQLAlchemy would have raised, so callers (and the flows' retry rule, which
        # retries invalidated connections) see one kind of error whichever path failed.
        broken = bool(raw.closed or raw.broken)  # type: ignore[union-attr]
        if broken:
            conn.invalidate(exc)
        raise DBAPIError.instance(
            stmt.as_string(raw), None, exc, psycopg.Error, connection_invalidated=broken,
            dialect=conn.dialect,
        ) from exc  # fmt: skip


@lru_cache(maxsize=4)
def engine_for(url: str) -> Engine:
    """The process's one Engine per URL (the flows' tasks and the CLI share its pool)."""
    return make_engine(url)
