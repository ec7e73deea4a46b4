"""Engine, migrations and the dialect helpers.

The URL alone picks SQLite or PostgreSQL. This module is the only place that knows the two
apart: `upsert` (ON CONFLICT in each dialect's syntax), `bulk_insert` (COPY on PostgreSQL,
one executemany on SQLite), and which of their errors go away by themselves (`is_transient`:
connection refused or reset, server shutting down or starting up, serialization failure or
deadlock, SQLite busy), which `retrying` waits out within the warehouse budget
(`Settings.warehouse_retry_seconds`) and `describe_error` turns into one line for the operator. SQLite has no decimal type: the driver stores NUMERIC values as doubles and SQLAlchemy rounds
them back to each column's scale, which is exact for amounts of up to 15 significant digits.
"""

from __future__ import annotations

import functools
import inspect
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, Table, create_engine, event, insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import DeclarativeBase

from guidefund.faults import Fault, one_line, retry
from guidefund.settings import Settings

T = TypeVar("T")

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def make_engine(url: str, **engine_kwargs: Any) -> Engine:
    """An Engine for `url`; for SQLite, with WAL, foreign keys on and the file's folder created."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    # A pooled connection the server dropped (a restart, a failover) is replaced on checkout
    # instead of failing the next statement.
    engine_kwargs.setdefault("pool_pre_ping", True)
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
        return describe_error(exc, url)
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
    elif conn.dialect.name == "sqlite":
        _executemany(conn, t, rows)
    else:
        conn.execute(insert(t), list(rows))


def _executemany(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """One executemany of plain tuples, each value through its column type's own bind processor
    (Decimal → float, dates → text): what insert(table) does, without building a parameter
    dictionary per row, which took half of a 150,000-row load."""
    columns = list(rows[0])
    convert = [table.c[c].type._cached_bind_processor(conn.dialect) for c in columns]
    names = ", ".join(conn.dialect.identifier_preparer.quote(c) for c in columns)
    sql = (f"INSERT INTO {conn.dialect.identifier_preparer.format_table(table)} ({names})"
           f" VALUES ({', '.join('?' for _ in columns)})")  # fmt: skip
    params = [
        tuple(
            value if f is None or value is None else f(value)
            for f, value in zip(convert, (row[c] for c in columns), strict=True)
        )
        for row in rows
    ]
    conn.exec_driver_sql(sql, params)


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


# ------------------------------------------------------------------ faults: transient or not

# SQLSTATEs that say "try again": connection exceptions (class 08), the server shutting down,
# crashing or starting up (57P01–57P03), too many connections, serialization failure, deadlock.
TRANSIENT_SQLSTATES = {"57P01", "57P02", "57P03", "53300", "40001", "40P01"}
# libpq reports a failed connection without a SQLSTATE; these are the words of the ones that pass.
TRANSIENT_WORDS = (
    "connection refused",
    "server closed the connection",
    "connection reset",
    "could not receive data",
    "could not send data",
    "the database system is starting up",
    "the database system is shutting down",
    "the database system is in recovery mode",
    "the database system is not yet accepting connections",
    "terminating connection",
    "connection timeout expired",
    "timeout expired",
    "no route to host",
    "network is unreachable",
    "consuming input failed",
    "the connection is lost",
    "the connection is closed",
    "ssl syscall error",
    "eof detected",
)
SQLITE_BUSY, SQLITE_LOCKED, SQLITE_FULL, SQLITE_CANTOPEN = 5, 6, 13, 14


class WarehouseError(Fault):
    """The warehouse could not do a step; the message says why and what to check."""


def _driver_error(exc: BaseException) -> BaseException | None:
    """The driver's exception behind `exc` (SQLAlchemy wraps it), or None for a non-database one."""
    if isinstance(exc, DBAPIError):
        return exc.orig
    name = type(exc).__module__.split(".")[0]
    return exc if name in ("psycopg", "sqlite3") else None


def is_transient(exc: BaseException) -> bool:
    """Will the same statement likely work a little later? Connection refused or reset, server
    shutting down or starting up, serialization failure or deadlock, SQLite busy or locked."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    orig = _driver_error(exc)
    if orig is None:
        return False
    code = getattr(orig, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (SQLITE_BUSY, SQLITE_LOCKED)
    state = getattr(orig, "sqlstate", None) or ""
    if state.startswith("08") or state in TRANSIENT_SQLSTATES:
        return True
    text = str(orig).lower()
    return not state and any(w in text for w in TRANSIENT_WORDS)


def describe_error(exc: BaseException, url: str, waited: float = 0) -> str:
    """One line for the operator: what the warehouse at `url` (shown without its password) did,
    and what to check. `waited`: seconds already spent waiting for it to come back."""
    shown = make_url(url).render_as_string(hide_password=True)
    orig = _driver_error(exc) or exc
    text = one_line(str(orig))
    low = text.lower()
    after = f"，已等待 {waited:g} 秒仍未恢复" if waited else ""
    code = getattr(orig, "sqlite_errorcode", None)
    if code is not None:
        code &= 0xFF
        if code in (SQLITE_BUSY, SQLITE_LOCKED):
            return f"数据库文件被其他程序占用（{shown}）{after}：请关闭占用它的程序后重新运行"
        if code == SQLITE_FULL:
            return f"磁盘空间已满，数据库无法写入（{shown}）：请腾出空间后重新运行"
        if code == SQLITE_CANTOPEN:
            return f"数据库文件无法打开（{shown}）：请检查 GUIDEFUND_WAREHOUSE_URL 与目录权限"
        return f"数据库出错（{shown}）：{text}"
    state = getattr(orig, "sqlstate", None) or ""
    if (
        state.startswith("28")
        or "password authentication failed" in low
        or ("role" in low and "does not exist" in low)
    ):
        return f"数据库拒绝登录（{shown}）：请检查 GUIDEFUND_WAREHOUSE_URL 中的用户名和密码"
    if state == "3D000" or ("database" in low and "does not exist" in low):
        return f"数据库不存在（{shown}）：请先创建数据库，或检查 GUIDEFUND_WAREHOUSE_URL"
    if state in ("40001", "40P01"):
        return f"数据库并发冲突多次重试仍未成功（{shown}）{after}：请稍后重新运行"
    if state == "53100" or "no space left" in low or "could not extend file" in low:
        return f"数据库服务器磁盘已满（{shown}）：请为数据库腾出空间后重新运行"
    if is_transient(exc) or "could not translate host name" in low or "connection failed" in low:
        return (
            f"数据库无法连接（{shown}）{after}：{_reason(low)}；"
            "请检查 GUIDEFUND_WAREHOUSE_URL 与数据库服务"
        )
    return f"数据库出错（{shown}）：{text}"


def _wait_reason(exc: BaseException, url: str) -> str:
    """The short form for a wait line: the reason and the warehouse."""
    shown = make_url(url).render_as_string(hide_password=True)
    orig = _driver_error(exc) or exc
    if getattr(orig, "sqlite_errorcode", None) is not None:
        return f"数据库文件被其他程序占用（{shown}）"
    state = getattr(orig, "sqlstate", None) or ""
    if state in ("40001", "40P01"):
        return f"并发冲突（{shown}）"
    return f"{_reason(one_line(str(orig)).lower())}（{shown}）"


def _reason(low: str) -> str:
    if "connection refused" in low:
        return "连接被拒绝"
    if "starting up" in low or "recovery" in low or "not yet accepting" in low:
        return "数据库正在启动"
    if "shutting down" in low or "terminating connection" in low:
        return "数据库正在关闭"
    if "could not translate host name" in low:
        return "主机名无法解析"
    if "timeout" in low:
        return "连接超时"
    return "连接中断"


def retrying(url: str, what: str, call: Callable[[], T], budget_seconds: float | None = None) -> T:
    """Run `call` (one warehouse step: whole transactions, so an attempt that failed left nothing
    and a retry never doubles a row); while it fails on a transient error, wait with backoff and
    run it again, within `budget_seconds` (default: the setting), one log line per wait. When
    the budget is spent, or on an error that will not go away, raise WarehouseError with the
    operator's line (URL without its password, what to check)."""
    budget = Settings().warehouse_retry_seconds if budget_seconds is None else budget_seconds
    first_wait: list[float] = []

    def drop_pool(_exc: BaseException) -> None:
        # Connections of the failed attempt may point at a server that is gone.
        engine_for(url).dispose()
        first_wait[:] = first_wait or [time.monotonic()]

    try:
        return retry(
            call,
            transient=is_transient,
            budget_seconds=budget,
            what=f"数据库暂时无法使用（{what}）",
            on_wait=drop_pool,
            describe=lambda exc: _wait_reason(exc, url),
        )
    except Exception as exc:
        if isinstance(exc, Fault) or _driver_error(exc) is None:
            raise
        waited = round(time.monotonic() - first_wait[0]) if first_wait else 0
        raise WarehouseError(describe_error(exc, url, waited)) from exc


def warehouse_step(what: str) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """Decorator: the function (which takes the warehouse `url` as an argument, or `settings`)
    runs under `retrying`. `what` names the step in the wait lines."""

    def wrap(fn: Callable[..., T]) -> Callable[..., T]:
        signature = inspect.signature(fn)

        @functools.wraps(fn)
        def step(*args: Any, **kwargs: Any) -> T:
            bound = signature.bind(*args, **kwargs).arguments
            url = bound.get("url") or bound["settings"].database_url
            return retrying(url, what, lambda: fn(*args, **kwargs))

        return step

    return wrap
