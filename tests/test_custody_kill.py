"""Custody survives a kill (issue 9, item 6; issue 10, item 4): `guidefund nightly` is killed
with SIGKILL at each stage (reading, validating, loading inside its transaction, just after
the load committed, half-way through filing away, between two chunks of a chunked run) and then
run again. Every file must end in exactly one place with exactly one receipt, no submission
stored twice, nothing lost, the killed run recorded as failed, and `guidefund custody` clean.

The kill comes from inside the child process, at a precise point: a `sitecustomize` module on
the child's PYTHONPATH wraps one guidefund function to SIGKILL its own process there (the code
under test is not changed or replaced; it is stopped)."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from guidefund.reference import Reference

from .cli_run import cli_env, run_cli
from .quirks import edit

pytestmark = pytest.mark.prefect

GOOD = range(1, 19)
BAD = ("bad_1.xlsx", "bad_2.xlsx")
COPY = "zz_copy_of_005.xlsx"
LOCK = "~$001.xlsx"

HOOK = """
import os, signal, sys

STAGE = os.environ.get("GUIDEFUND_TEST_KILL_AT", "")


def _die():
    os.kill(os.getpid(), signal.SIGKILL)


if STAGE and "guidefund.intake.readers" not in " ".join(sys.argv):
    if STAGE == "reading":
        from guidefund.intake import readers

        _read = readers.ReaderPool.read

        def read(self, items):
            _read(self, items[: len(items) // 2])
            _die()

        readers.ReaderPool.read = read
    elif STAGE == "validating":
        from guidefund.intake import validate

        validate.validate_submissions = lambda *a, **k: _die()
    elif STAGE == "loading":
        from guidefund.warehouse import load, models

        _bulk = load.bulk_insert

        def bulk_insert(conn, table, rows):
            _bulk(conn, table, rows)
            if table is models.Receipt:
                _die()  # every row written, the transaction not committed

        load.bulk_insert = bulk_insert
    elif STAGE == "loaded":
        from guidefund.intake import custody

        custody.file_away = lambda *a, **k: _die()
    elif STAGE == "filing":
        from guidefund.intake import custody

        _one = custody.file_one
        _done = []

        def file_one(*a, **k):
            if len(_done) == 5:
                _die()
            _done.append(1)
            return _one(*a, **k)

        custody.file_one = file_one
    elif STAGE == "between-chunks":
        from guidefund.warehouse import load

        _load = load.load_batch
        _calls = []

        def load_batch(*a, **k):
            _calls.append(1)
            if len(_calls) == 2:
                _die()
            return _load(*a, **k)

        load.load_batch = load_batch
"""

STAGES = ("reading", "validating", "loading", "loaded", "filing", "between-chunks")


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory, sample_dir: Path) -> Path:
    """18 good files, 2 rejected, a byte copy and an Excel lock file."""
    out = tmp_path_factory.mktemp("kill-source")
    for no in GOOD:
        path = next(sample_dir.glob(f"{no:03d}_*.xlsx"))
        shutil.copy(path, out / path.name)
    for i, name in enumerate(BAD, start=1):
        bad = Path(shutil.copy(next(sample_dir.glob("133_*.xlsx")), out / name))
        edit(bad, "资金情况", C5=-i)
    shutil.copy(next(out.glob("005_*.xlsx")), out / COPY)
    (out / LOCK).write_bytes(b"\0" * 165)
    hook = tmp_path_factory.mktemp("kill-hook")
    (hook / "sitecustomize.py").write_text(HOOK, encoding="utf-8")
    return out


@pytest.fixture(scope="module", params=STAGES)
def killed_and_resumed(request: pytest.FixtureRequest, source: Path,
                       tmp_path_factory: pytest.TempPathFactory, prefect_harness: None):  # fmt: skip
    """`guidefund nightly` killed at one stage, then the nightly flow run again (in this
    process): (stage, workdir, the second run's summary)."""
    stage = request.param
    workdir = tmp_path_factory.mktemp(f"killed-{stage}") / "work"
    shutil.copytree(source, workdir / "inbox")
    hook = next(source.parent.glob("kill-hook*"))
    env = cli_env(workdir, PYTHONPATH=str(hook), GUIDEFUND_TEST_KILL_AT=stage,
                  GUIDEFUND_READ_WORKERS="2")  # fmt: skip
    if stage == "between-chunks":
        env["GUIDEFUND_CHUNK_FILES"] = "8"
    killed = run_cli(["nightly", "--json"], env)
    assert killed.code == -signal.SIGKILL, (killed.code, killed.err[-2000:])
    from guidefund.flows.nightly import nightly_consolidation

    with pytest.MonkeyPatch.context() as env_now:
        env_now.delenv("GUIDEFUND_WAREHOUSE_URL", raising=False)
        resumed = nightly_consolidation(year=2024, workdir=str(workdir))
    return stage, workdir, resumed.as_dict()


def test_after_a_kill_every_file_ends_in_exactly_one_place(
    killed_and_resumed, source: Path
) -> None:
    stage, workdir, summary = killed_and_resumed
    good = sorted(p.name for p in source.glob("0*.xlsx"))
    assert sorted(p.name for p in (workdir / "inbox").iterdir()) == [LOCK]
    assert sorted(p.name for p in (workdir / "archive").iterdir()) == sorted(
        {f"{sha(source / n)}.xlsx" for n in good}
    )
    assert sorted(p.name for p in (workdir / "quarantine").iterdir()) == sorted(
        [*BAD, *(f"{n}.errors.xlsx" for n in BAD)]
    )
    assert summary["unfiled"] == {} and summary["deferred"] == 0


def test_after_a_kill_each_file_has_one_receipt_and_each_content_one_submission(
    killed_and_resumed, source: Path
) -> None:
    stage, workdir, summary = killed_and_resumed
    engine = create_engine(f"sqlite:///{workdir / 'warehouse.sqlite'}")
    with engine.connect() as conn:
        receipts = conn.execute(
            text("select file_name, count(*), min(state), count(filed_at) from receipt"
                 " group by file_name")
        ).all()  # fmt: skip
        submissions = conn.execute(text("select state, count(*) from submission group by state"))
        states = dict(submissions.all())
        runs = conn.execute(text("select id, status, note from run order by id")).all()
    engine.dispose()
    expected = {p.name for p in source.iterdir()} - {LOCK}
    assert {name for name, *_ in receipts} == expected
    assert all(n == 1 and filed == 1 for _, n, _, filed in receipts), receipts
    assert {name: state for name, _, state, _ in receipts}[COPY] == "duplicate"
    assert states == {"accepted": len(GOOD), "rejected": len(BAD)}
    *_, killed, resumed = runs
    assert killed[1:] == ("failed", "中断：运行被终止，由下一次运行完成归档")
    assert resumed[1] == "succeeded"


# (files received again, files filed for the killed run) by the second run, per stage: what
# was committed before the kill is never received twice, only filed.
RESUMED = {
    "reading": (21, 0),
    "validating": (21, 0),
    "loading": (21, 0),  # the transaction never committed
    "loaded": (0, 21),
    "filing": (0, 21),  # five were moved before the kill, none marked filed: all replayed
    "between-chunks": (12, 0),  # chunk 1 (001–008 and the copy of 005) was loaded and filed
}


def test_the_resumed_run_finishes_what_the_killed_one_committed(killed_and_resumed) -> None:
    stage, _, summary = killed_and_resumed
    assert (summary["received"], summary["recovered"]) == RESUMED[stage]


def test_after_a_kill_custody_reconciles(killed_and_resumed, ref: Reference) -> None:
    from guidefund.intake.custody import reconcile

    _, workdir, _ = killed_and_resumed
    engine = create_engine(f"sqlite:///{workdir / 'warehouse.sqlite'}")
    found = reconcile(engine, workdir, workdir / "inbox", ref.region_code, ref.year)
    engine.dispose()
    assert (found.discrepancies, found.waiting, found.receipts) == ([], [], 21)


def test_no_reading_worker_outlives_a_killed_run(killed_and_resumed) -> None:
    """The reading workers leave when their parent is killed (they watch it)."""
    _, workdir, _ = killed_and_resumed
    import psutil

    leftovers = [
        p.info["pid"]
        for p in psutil.process_iter(["pid", "cmdline", "environ"])
        if "guidefund.intake.readers" in " ".join(p.info["cmdline"] or [])
        and (p.info["environ"] or {}).get("GUIDEFUND_WORKDIR") == str(workdir)
    ]
    assert leftovers == []
    assert os.environ.get("GUIDEFUND_TEST_KILL_AT") is None
