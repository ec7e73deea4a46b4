"""PostgreSQL for tests: a fresh schema per use, on the server GUIDEFUND_TEST_POSTGRES_URL names.

When that variable is set (CI sets it in .ci/run), the server must answer: an unreachable server
FAILS the test. When it is unset, the local default server is tried and the test is skipped only
if it does not answer, so a laptop without PostgreSQL still runs the SQLite half.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from guidefund.warehouse.db import make_engine

ENV = "GUIDEFUND_TEST_POSTGRES_URL"
DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def with_search_path(url: str, schema: str) -> str:
    """`url` with every connection's search_path set to `schema` (a libpq option)."""
    parsed = make_url(url).update_query_dict({"options": f"-csearch_path={schema}"})
    return parsed.render_as_string(hide_password=False)


@contextmanager
def postgres_schema() -> Iterator[str]:
    """Create an empty schema, yield a URL whose connections use it, drop it afterwards."""
    configured = os.environ.get(ENV, "")
    url = configured or DEFAULT
    admin = make_engine(url, connect_args={"connect_timeout": 5})
    schema = f"gf_{uuid.uuid4().hex}"
    try:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    except OperationalError as exc:
        admin.dispose()
        where = make_url(url).render_as_string(hide_password=True)
        if configured:
            pytest.fail(f"{ENV} is set but PostgreSQL at {where} does not answer: {exc.orig}")
        pytest.skip(f"{ENV} is unset and no PostgreSQL answers at {where}")
    try:
        yield with_search_path(url, schema)
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


@contextmanager
def warehouse_url(kind: str, directory: Path) -> Iterator[str]:
    """The URL of an empty database: a SQLite file in `directory`, or a fresh PostgreSQL schema."""
    if kind == "sqlite":
        yield f"sqlite:///{directory / 'warehouse.sqlite'}"
        return
    with postgres_schema() as url:
        yield url
