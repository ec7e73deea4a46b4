"""Warehouse fixtures: an empty database on SQLite (a file in tmp_path) and on PostgreSQL (a
fresh schema per test, see pg.py), the real 2024 reference and copies of it for other regions
and years, and submissions built from literal values."""

from __future__ import annotations

import csv
import hashlib
import shutil
from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from guidefund.intake.template import prefill
from guidefund.records import Finding, Submission
from guidefund.reference import Reference, load_reference
from guidefund.warehouse.db import make_engine, upgrade
from guidefund.warehouse.models import Base
from tests.pg import postgres_schema


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database: a new SQLite file, or a new PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'db' / 'warehouse.sqlite'}"
        return
    with postgres_schema() as url:
        yield url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """An engine on the empty database, disposed before the schema is dropped."""
    eng = make_engine(database_url)
    yield eng
    eng.dispose()


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
    """Rows per warehouse table; the run log grows with every run by design, so it is left out
    (receipts are counted: a file received again is a new receipt)."""
    return _row_counts


def copy_reference(
    ref: Reference, root: Path, year: int, region_code: str, region_name: str
) -> Reference:
    """A reference directory <root>/<year>/ copied from `ref`'s, naming another region or year
    in region.csv, and loaded back through load_reference."""
    target = root / str(year)
    shutil.copytree(ref.year_dir, target)
    path = target / "region.csv"
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    rows[0].update({"地区代码": region_code, "地区": region_name, "年度": str(year)})
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    _shift_calendar(target / "reporting_calendar.csv", year - ref.year)
    return load_reference(root, year)


def _shift_calendar(path: Path, years: int) -> None:
    """The reporting calendar moved by `years`: a year's periods and due dates are its own."""
    if not path.exists() or not years:
        return
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    for row in rows:
        period, due = row["报告期"], date.fromisoformat(row["截止日期"])
        row["报告期"] = str(int(period[:4]) + years) + period[4:]
        row["截止日期"] = due.replace(year=due.year + years).isoformat()
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


@pytest.fixture
def other_references(ref: Reference, tmp_path: Path) -> dict[str, Reference]:
    """The 2024 plan as Xinjiang's 2025 (same root) and as Ningxia's 2024 (another root)."""
    xinjiang = tmp_path / "reference"
    shutil.copytree(ref.year_dir, xinjiang / "2024")
    return {
        "650000/2025": copy_reference(ref, xinjiang, 2025, ref.region_code, ref.region_name),
        "640000/2024": copy_reference(ref, tmp_path / "ningxia", 2024, "640000", "宁夏回族自治区"),
    }


def _values(ref: Reference, no: int, period: str) -> dict[str, Any]:
    p = ref.project(no)
    assert p is not None, f"project {no} is not in the {ref.year} plan"
    return {
        **prefill(p, ref),
        "period": period,
        "filled_date": date(ref.year, 12, 31),
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
    """`make_submission(no, period=<annual>, file_name=None, of=None, **field_values)`: a
    Submission as the reader would return it, for the 2024 reference or the Reference `of`; the
    period defaults to that year's annual report (None means the cell was empty). Its SHA-256
    follows the values, as a file's follows its bytes."""

    def make(
        no: int,
        period: Any = ...,
        file_name: str | None = None,
        of: Reference | None = None,
        **values: Any,
    ) -> Submission:
        of = of or ref
        period = str(of.year) if period is ... else period
        typed = {**_values(of, no, period), **values}
        digest = hashlib.sha256(repr(sorted(typed.items())).encode()).hexdigest()
        cells = {f.key: f"{f.sheet}!{f.cell}" for f in of.fields}
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
