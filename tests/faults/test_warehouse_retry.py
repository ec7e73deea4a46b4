"""Transient warehouse errors are waited out within the budget, on real servers: a SQLite file
locked by another connection, a private PostgreSQL stopped (immediate mode, as a crash or a
failover) and started again. A retried step never doubles a row; a spent budget or an error that
will not go away becomes one line naming the warehouse without its password."""

from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy import text

from guidefund.warehouse.db import (
    WarehouseError,
    describe_error,
    engine_for,
    is_transient,
    make_engine,
    retrying,
)
from tests.faults.privatepg import PrivatePostgres


def insert_once(url: str) -> None:
    """One step: one transaction that adds one row."""
    with engine_for(url).begin() as conn:
        conn.execute(text("INSERT INTO t (x) VALUES (1)"))


def count(url: str) -> int:
    with make_engine(url).connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM t")).scalar_one())


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'w.sqlite'}?timeout=0.2"
    with make_engine(url).begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
    return url


def lock(path: Path) -> sqlite3.Connection:
    holder = sqlite3.connect(path, timeout=0, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN EXCLUSIVE")
    return holder


def test_a_busy_sqlite_file_is_waited_for_and_the_row_is_written_once(
    sqlite_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    holder = lock(tmp_path / "w.sqlite")
    threading.Timer(2.5, holder.rollback).start()
    with caplog.at_level(logging.WARNING, logger="guidefund.faults"):
        retrying(sqlite_url, "入库", lambda: insert_once(sqlite_url), budget_seconds=60)
    assert count(sqlite_url) == 1
    waits = [r.getMessage() for r in caplog.records if r.name == "guidefund.faults"]
    # 1 s, then 2 s of backoff cover a 2.5 s lock: two waits, one line each.
    assert len(waits) == 2
    assert waits[0].startswith("数据库暂时无法使用（入库）：数据库文件被其他程序占用（sqlite:///")
    assert "1 秒后重试" in waits[0] and "2 秒后重试" in waits[1]


def test_a_sqlite_lock_beyond_the_budget_is_one_line_and_nothing_is_written(
    sqlite_url: str, tmp_path: Path
) -> None:
    holder = lock(tmp_path / "w.sqlite")
    try:
        with pytest.raises(WarehouseError) as caught:
            retrying(sqlite_url, "入库", lambda: insert_once(sqlite_url), budget_seconds=3)
    finally:
        holder.rollback()
    line = str(caught.value)
    assert line.startswith("数据库文件被其他程序占用（sqlite:///")
    assert "已等待 3 秒仍未恢复：请关闭占用它的程序后重新运行" in line
    assert "\n" not in line
    assert count(sqlite_url) == 0


def test_an_error_that_will_not_go_away_is_not_retried(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    calls = []

    def bad_statement() -> None:
        calls.append(1)
        with engine_for(sqlite_url).begin() as conn:
            conn.execute(text("INSERT INTO no_such_table VALUES (1)"))

    with caplog.at_level(logging.WARNING, logger="guidefund.faults"):
        with pytest.raises(WarehouseError, match=r"^数据库出错（sqlite:///.*no such table"):
            retrying(sqlite_url, "入库", bad_statement, budget_seconds=60)
    assert calls == [1]
    assert caplog.records == []


def test_an_error_outside_the_database_passes_through_unchanged(sqlite_url: str) -> None:
    def defect() -> None:
        raise KeyError("x")

    with pytest.raises(KeyError):
        retrying(sqlite_url, "入库", defect, budget_seconds=60)


# ------------------------------------------------------------------ PostgreSQL, private server


def test_postgresql_stopped_then_restarted_within_the_budget_gets_the_row_once(
    private_pg: PrivatePostgres, pg_database: str
) -> None:
    with make_engine(pg_database).begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
    insert_once(pg_database)  # the pool now holds a connection the stop will cut
    private_pg.stop()
    private_pg.start_after(3)
    retrying(pg_database, "入库", lambda: insert_once(pg_database), budget_seconds=60)
    assert count(pg_database) == 2


def test_postgresql_down_beyond_the_budget_names_the_server_without_its_password(
    private_pg: PrivatePostgres, pg_database: str
) -> None:
    url = pg_database.replace("postgres@", "postgres:s3cret@")
    private_pg.stop()
    try:
        with pytest.raises(WarehouseError) as caught:
            retrying(url, "打开仓库", lambda: insert_once(url), budget_seconds=3)
    finally:
        private_pg.start()
    line = str(caught.value)
    shown = url.replace("s3cret", "***")
    assert line == (
        f"数据库无法连接（{shown}），已等待 3 秒仍未恢复：连接被拒绝；"
        "请检查 GUIDEFUND_WAREHOUSE_URL 与数据库服务"
    )
    assert "s3cret" not in line


def test_a_server_still_recovering_after_a_crash_is_waited_for() -> None:
    """After `pg_ctl stop -m immediate` the restarted server first refuses with this (seen in
    this suite): it passes by itself, so it is waited out."""
    import psycopg
    from sqlalchemy.exc import OperationalError

    said = psycopg.OperationalError(
        'connection failed: connection to server at "127.0.0.1", port 5432 failed: FATAL:  '
        "the database system is not yet accepting connections\nDETAIL:  Consistent recovery "
        "state has not been yet reached."
    )
    exc = OperationalError("connect", None, said)
    url = "postgresql+psycopg://postgres@127.0.0.1:5432/w"
    assert is_transient(exc)
    assert describe_error(exc, url, 9) == (
        f"数据库无法连接（{url}），已等待 9 秒仍未恢复：数据库正在启动；"
        "请检查 GUIDEFUND_WAREHOUSE_URL 与数据库服务"
    )


def test_a_wrong_user_or_database_is_not_transient_and_says_what_to_fix(
    private_pg: PrivatePostgres,
) -> None:
    wrong_user = private_pg.url().replace("postgres@", "nobody:pw@")
    wrong_db = private_pg.url("no_such_db")
    found = {}
    for name, url in (("user", wrong_user), ("db", wrong_db)):
        try:
            make_engine(url).connect()
        except Exception as exc:  # noqa: BLE001 - the driver's error is the subject
            found[name] = (is_transient(exc), describe_error(exc, url))
    assert found["user"] == (
        False,
        f"数据库拒绝登录（{wrong_user.replace(':pw', ':***')}）：请检查 GUIDEFUND_WAREHOUSE_URL 中的用户名和密码",
    )
    assert found["db"] == (
        False,
        f"数据库不存在（{wrong_db}）：请先创建数据库，或检查 GUIDEFUND_WAREHOUSE_URL",
    )
