"""Warehouse fixtures: an empty database on SQLite (a file in tmp_path) and on PostgreSQL (a
fresh schema per test), the real 2024 reference, and submissions built from literal values."""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import OperationalError

from flows.records import Finding, Submission
from flows.reference import Reference, load_reference
from flows.settings import Settings
from warehouse.db import make_engine, upgrade
from warehouse.models import Base

POSTGRES_URL = os.environ.get(
    "GUIDEFUND_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@pytest.fixture(scope="session")
def ref() -> Reference:
    return load_reference(Settings().reference_dir, 2024)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty database: a new SQLite file, or a new PostgreSQL schema dropped afterwards."""
    if request.param == "sqlite":
        eng = make_engine(f"sqlite:///{tmp_path / 'db' / 'warehouse.sqlite'}")
        yield eng
        eng.dispose()
        return
    admin = make_engine(POSTGRES_URL)
    schema = f"gf_{uuid.uuid4().hex}"
    try:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    except OperationalError as exc:
        admin.dispose()
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}: {exc.orig}")
    eng = make_engine(POSTGRES_URL, connect_args={"options": f"-csearch_path={schema}"})
    try:
        yield eng
    finally:
        eng.dispose()
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


@pytest.fixture
def warehouse(engine: Engine) -> Engine:
    """The empty database migrated to head."""
    upgrade(engine)
    return engine


def _row_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            name: conn.execute(select(func.count()).select_from(table)).scalar_one()
            for name, table in Base.metadata.tables.items()
            if name != "run"
        }


@pytest.fixture
def row_counts() -> Callable[[Engine], dict[str, int]]:
    """Rows per warehouse table; the run log grows with every run by design, so it is left out."""
    return _row_counts


def _values(ref: Reference, no: int, period: str) -> dict[str, Any]:
    p = ref.project(no)
    assert p is not None, f"project {no} is not in the 2024 plan"
    return {
        "template_version": ref.current_template,
        "project_no": no,
        "project_name": p.name,
        "unit_name": p.unit,
        "unit_type": p.unit_type,
        "category": p.category,
        "project_type": p.project_type,
        "support_mode": p.support_mode,
        "allocation": p.allocation,
        "period": period,
        "filled_date": date(2024, 12, 31),
        "contact": "王芳",
        "phone": "0991-1234567",
        "funds_received": p.allocation,
        "funds_spent": Decimal("10.00"),
        "funds_on_time": p.allocation,
        "self_raised": Decimal("5.50"),
        "local_east_west": Decimal("0"),
        "financing": Decimal("1.25"),
        "achievements": 1,
        "east_west": False,
        "central_local": False,
        "hightech_firms": 0,
        "sme_firms": 1,
        "contract_value": Decimal("12.34"),
        "trained_staff": 20,
        "consulting": 10,
        "rural": False,
        "brokers": 1,
        "capability": Decimal("90"),
        "satisfaction": Decimal("95"),
        "self_grade": "优",
        "deviation_reason": None,
    }


MakeSubmission = Callable[..., Submission]


@pytest.fixture
def make_submission(ref: Reference) -> MakeSubmission:
    """`make_submission(no, period="2024", file_name=None, **field_values)`: a Submission as the
    reader would return it. Its SHA-256 follows the values, as a file's follows its bytes."""

    def make(
        no: int, period: str = "2024", file_name: str | None = None, **values: Any
    ) -> Submission:
        typed = {**_values(ref, no, period), **values}
        digest = hashlib.sha256(repr(sorted(typed.items())).encode()).hexdigest()
        cells = {f.key: f"{f.sheet}!{f.cell}" for f in ref.fields}
        name = file_name or f"{no:03d}_{period}.xlsx"
        return Submission(path=Path("inbox") / name, sha256=digest, values=typed, cells=cells)

    return make


def _finding(file: str, rule: str = "spent_le_received", severity: str = "critical") -> Finding:
    return Finding(
        file=file,
        sheet="资金情况",
        cell="C5",
        field="funds_spent",
        label="实际支出",
        value="400",
        rule=rule,
        message="实际支出不得大于引导资金到位数",
        severity=severity,
    )


@pytest.fixture
def make_finding() -> Callable[..., Finding]:
    """`make_finding(file, rule=..., severity=...)`: a finding on 资金情况!C5 of `file`."""
    return _finding
