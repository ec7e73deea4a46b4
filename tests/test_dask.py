"""National scale on an existing Dask cluster (issue 10, item 2): with GUIDEFUND_DASK_ADDRESS
the nightly flow reads its chunks on the cluster through prefect-dask's DaskTaskRunner; the
warehouse ends up exactly as after the same night read by the local worker pool.

A real `distributed.LocalCluster` (two worker processes) stands in for the ministry's cluster;
the files travel to it as bytes."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from .hostile import edit_sheet, far

pytestmark = pytest.mark.prefect

TABLES = {
    "submission": "select sha256, state, version, project_no, period, file_name, rules_version"
    " from submission order by sha256",
    "facts": "select s.sha256, f.funds_received, f.funds_spent, c.trained_staff, c.satisfaction,"
    " e.self_grade from submission s join fund_execution f on f.submission_id = s.id"
    " join indicator_contribution c on c.submission_id = s.id"
    " join self_evaluation e on e.submission_id = s.id order by s.sha256",
    "finding": "select file, sheet, cell, field, value, rule, severity, message from finding"
    " order by file, rule, cell",
    "receipt": "select file_name, sha256, state, destination from receipt order by file_name",
}


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as c:  # fmt: skip
        yield c.scheduler_address


@pytest.fixture(scope="module")
def inbox(tmp_path_factory: pytest.TempPathFactory, sample_dir: Path) -> Path:
    """30 good files, a negative spending, a value in XFD1048576, a copy, a sub-folder."""
    out = tmp_path_factory.mktemp("dask-inbox")
    for path in sorted(sample_dir.glob("*.xlsx"))[:30]:
        shutil.copy(path, out / path.name)
    first = sorted(out.glob("*.xlsx"))[0]
    (out / "unit").mkdir()
    shutil.copy(first, out / "unit" / "copy.xlsx")
    base = next(sample_dir.glob("133_*.xlsx")).read_bytes()
    (out / "far.xlsx").write_bytes(edit_sheet(base, "基本信息", far("XFD1048576")))
    from .quirks import edit

    edit(
        Path(shutil.copy(next(sample_dir.glob("134_*.xlsx")), out / "bad.xlsx")), "资金情况", C5=-3
    )
    return out


def night(
    inbox: Path, workdir: Path, monkeypatch: pytest.MonkeyPatch, **env: str
) -> dict[str, list]:  # type: ignore[type-arg]
    from guidefund.flows.nightly import nightly_consolidation

    shutil.copytree(inbox, workdir / "inbox")
    with monkeypatch.context() as m:
        m.delenv("GUIDEFUND_WAREHOUSE_URL", raising=False)
        for key, value in env.items():
            m.setenv(key, value)
        summary = nightly_consolidation(year=2024, workdir=str(workdir))
    assert summary.received == 33
    engine = create_engine(f"sqlite:///{workdir / 'warehouse.sqlite'}")
    with engine.connect() as conn:
        rows = {name: [tuple(r) for r in conn.execute(text(sql))] for name, sql in TABLES.items()}
    engine.dispose()
    return rows


def test_a_night_read_on_a_dask_cluster_stores_exactly_what_the_local_pool_stores(
    cluster: str, inbox: Path, tmp_path: Path, prefect_harness: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    from distributed import Client

    on_dask = night(inbox, tmp_path / "dask", monkeypatch, GUIDEFUND_DASK_ADDRESS=cluster,
                    GUIDEFUND_DASK_CHUNK_FILES="7")  # fmt: skip
    local = night(inbox, tmp_path / "local", monkeypatch, GUIDEFUND_READ_WORKERS="2")

    assert on_dask == local
    assert len(local["facts"]) == 30
    assert {r[0]: r[2] for r in local["receipt"]}["unit/copy.xlsx"] == "duplicate"
    assert [r[5] for r in local["finding"] if r[0] in ("far.xlsx", "bad.xlsx")] == [
        "funds_non_negative",
        "read.too_large",
    ]
    with Client(cluster) as client:
        prefixes = client.run_on_scheduler(
            lambda dask_scheduler: list(dask_scheduler.task_prefixes)
        )
    assert any("read" in p for p in prefixes), prefixes  # the cluster did the reading
