"""Shared fixtures: the real 2024 reference data, and the sample workbooks built once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from guidefund.reference import Reference, load_reference
from guidefund.settings import PROJECT_ROOT

REFERENCE_DIR = PROJECT_ROOT / "data" / "reference"


@pytest.fixture(scope="session")
def ref() -> Reference:
    return load_reference(REFERENCE_DIR, 2024)


@pytest.fixture(scope="session")
def sample_dir(tmp_path_factory: pytest.TempPathFactory, ref: Reference) -> Path:
    """The 136 sample workbooks for seed 2024, written once; tests copy what they change."""
    from guidefund.intake.samples import write_samples

    out = tmp_path_factory.mktemp("samples")
    write_samples(ref, out, seed=2024)
    return out


@pytest.fixture(scope="session")
def prefect_harness(tmp_path_factory: pytest.TempPathFactory):
    """One Prefect test server for the session (~20 s to start), quiet and local."""
    import os

    home = tmp_path_factory.mktemp("prefect-home")
    os.environ.update(
        {
            "PREFECT_HOME": str(home),
            "DO_NOT_TRACK": "1",
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_UI_ENABLED": "false",
            "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
            "GX_ANALYTICS_ENABLED": "false",
        }
    )
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=180):
        yield


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def migrated_warehouse(request: pytest.FixtureRequest, tmp_path: Path):
    """An empty warehouse at the head migration: a new SQLite file, or a new PostgreSQL schema."""
    from guidefund.warehouse.db import make_engine, upgrade
    from tests.pg import warehouse_url

    with warehouse_url(request.param, tmp_path) as url:
        engine = make_engine(url)
        upgrade(engine)
        try:
            yield engine
        finally:
            engine.dispose()
