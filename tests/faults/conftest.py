"""Fault-injection fixtures: one private PostgreSQL per test session (stopped and restarted by
the tests; never the shared server)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests.faults.privatepg import PrivatePostgres, available


@pytest.fixture(scope="session")
def private_pg() -> Iterator[PrivatePostgres]:
    why = available()
    if why:
        pytest.skip(why)
    pg = PrivatePostgres()
    try:
        yield pg
    finally:
        pg.close()


@pytest.fixture
def pg_database(private_pg: PrivatePostgres) -> Iterator[str]:
    """A new database on the private server (running when the test starts): its URL."""
    if not private_pg.running():
        private_pg.start()
    yield private_pg.createdb(f"gf_{uuid.uuid4().hex[:12]}")
    if not private_pg.running():
        private_pg.start()
