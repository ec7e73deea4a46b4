"""One night's intake (issue 9 item 5, issue 10 items 3 and 4): known bytes are skipped before
anything parses them, versions are decided by 填报日期 then modification time (never the name,
an exact tie is a conflict for both), and chunks keep every version of a project together."""

from __future__ import annotations

import hashlib
import json
import shutil
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from guidefund.intake import night as n
from guidefund.intake.custody import Places
from guidefund.intake.inbox import scan_inbox
from guidefund.records import Submission
from guidefund.reference import Reference
from guidefund.warehouse.custody import Known

from .quirks import valid_values


def sub(ref: Reference, no: int, name: str, filled: date, modified: float) -> Submission:
    values = {**valid_values(ref, no), "project_no": no, "period": str(ref.year),
              "filled_date": filled}  # fmt: skip
    digest = hashlib.sha256(f"{name}{filled}{modified}".encode()).hexdigest()
    return Submission(Path(name), digest, values, name=name, modified=modified)


def decide(*chunks: list[Submission]):  # type: ignore[no-untyped-def]
    spill = n.Spill(Path("unused"), on_disk=False)
    for i, chunk in enumerate(chunks):
        spill.put(i, n.Checked(list(chunk)))
    keys = [n.accepted_keys(n.Checked(list(c))) for c in chunks]
    versions = n.decide_versions(keys)
    loads = list(n.load_chunks(spill, len(chunks), versions, n.Plan(), Places()))
    return versions, loads


def test_the_later_filled_date_wins_whatever_the_names_and_times(ref: Reference) -> None:
    older = sub(ref, 5, "zz_newest_name.xlsx", date(2025, 1, 10), modified=2_000)
    newer = sub(ref, 5, "aa.xlsx", date(2025, 1, 20), modified=1_000)
    versions, [load] = decide([older, newer])
    assert versions.conflicts == {}
    assert [s.file_name for s in load.accepted] == ["zz_newest_name.xlsx", "aa.xlsx"]  # winner last


def test_on_the_same_date_the_later_modification_time_wins(ref: Reference) -> None:
    a = sub(ref, 5, "a.xlsx", date(2025, 1, 10), modified=2_000)
    b = sub(ref, 5, "b.xlsx", date(2025, 1, 10), modified=1_000)
    _, [load] = decide([a, b])
    assert [s.file_name for s in load.accepted] == ["b.xlsx", "a.xlsx"]


def test_an_exact_tie_is_a_conflict_finding_for_both(ref: Reference) -> None:
    a = sub(ref, 7, "a.xlsx", date(2025, 1, 10), modified=1_000)
    b = sub(ref, 7, "b.xlsx", date(2025, 1, 10), modified=1_000)
    older = sub(ref, 7, "c.xlsx", date(2025, 1, 2), modified=5_000)
    versions, [load] = decide([a, b, older])
    assert versions.conflicts == {"a.xlsx": ["b.xlsx"], "b.xlsx": ["a.xlsx"]}
    assert [s.file_name for s in load.accepted] == ["c.xlsx"]
    rejected = {s.file_name: [(f.rule, f.cell) for f in fs] for s, fs in load.rejected}
    assert rejected == {
        "a.xlsx": [("version.conflict", "C14")],
        "b.xlsx": [("version.conflict", "C14")],
    }
    [(_, [finding])] = [r for r in load.rejected if r[0].file_name == "a.xlsx"]
    assert "与本批次的“b.xlsx”是同一项目（序号 7）同一报告期的不同版本" in finding.message


def test_versions_read_in_different_chunks_are_loaded_together_in_the_last(ref: Reference) -> None:
    first = sub(ref, 9, "a.xlsx", date(2025, 1, 20), modified=1_000)  # the winner, read first
    other = sub(ref, 10, "b.xlsx", date(2025, 1, 1), modified=1_000)
    later = sub(ref, 9, "c.xlsx", date(2025, 1, 5), modified=9_000)  # older, read later
    _, loads = decide([first, other], [later])
    assert [[s.file_name for s in load.accepted] for load in loads] == [
        ["b.xlsx"],
        ["c.xlsx", "a.xlsx"],
    ]
    assert loads[1].destinations == {
        "c.xlsx": f"archive/{later.sha256}.xlsx",
        "a.xlsx": f"archive/{first.sha256}.xlsx",
    }


def test_known_bytes_and_copies_are_set_aside_before_reading(
    tmp_path: Path, sample_dir: Path
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for no, name in ((1, "a.xlsx"), (2, "b.xlsx"), (1, "unit/copy.xlsx"), (3, "c.xlsx")):
        (inbox / name).parent.mkdir(exist_ok=True)
        shutil.copy(next(sample_dir.glob(f"{no:03d}_*.xlsx")), inbox / name)
    digest = hashlib.sha256((inbox / "b.xlsx").read_bytes()).hexdigest()
    known = {digest: Known(7, "accepted", f"archive/{digest}.xlsx")}

    plan = n.plan_night(scan_inbox(inbox), known, chunk_files=1, file_bytes=1 << 20)

    assert [[h.entry.name for h in c] for c in plan.chunks] == [["a.xlsx"], ["c.xlsx"]]
    assert [(c.entry.name, c.kept_at) for c in plan.stored_copies] == [
        ("b.xlsx", f"archive/{digest}.xlsx")
    ]
    assert {k: [c.entry.name for c in v] for k, v in plan.batch_copies.items()} == {
        "a.xlsx": ["unit/copy.xlsx"]
    }


@pytest.mark.prefect
def test_a_night_of_known_bytes_parses_validates_and_loads_nothing(
    tmp_path: Path, sample_dir: Path, ref: Reference, prefect_harness: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """The same files dropped again: the reader, the guard and the suites are never called;
    each file gets one duplicate receipt and leaves the inbox."""
    from guidefund.flows.nightly import nightly_consolidation
    from guidefund.intake import guard, validate, workbook

    monkeypatch.delenv("GUIDEFUND_WAREHOUSE_URL", raising=False)
    monkeypatch.setenv("GUIDEFUND_READ_WORKERS", "1")  # read here, where the calls are counted
    files = sorted(sample_dir.glob("0[0-2]?_*.xlsx"))
    workdir = tmp_path / "work"

    def drop() -> None:
        (workdir / "inbox").mkdir(parents=True, exist_ok=True)
        for path in files:
            shutil.copy(path, workdir / "inbox" / path.name)

    calls: dict[str, int] = {"read_bytes": 0, "check": 0, "validate_submissions": 0}
    for module, name in ((workbook, "read_bytes"), (guard, "check"),
                         (validate, "validate_submissions")):  # fmt: skip
        real = getattr(module, name)

        def counted(*args, _real=real, _name=name, **kwargs):  # type: ignore[no-untyped-def]
            calls[_name] += 1
            return _real(*args, **kwargs)

        monkeypatch.setattr(module, name, counted)

    drop()
    first = nightly_consolidation(year=2024, workdir=str(workdir))
    assert (first.accepted, calls["read_bytes"], calls["check"]) == (
        len(files),
        len(files),
        len(files),
    )
    assert calls["validate_submissions"] == 1
    calls.update(dict.fromkeys(calls, 0))

    drop()
    second = nightly_consolidation(year=2024, workdir=str(workdir))

    assert calls == {"read_bytes": 0, "check": 0, "validate_submissions": 0}
    assert (second.received, second.duplicate, second.accepted, second.chunks) == (
        len(files),
        len(files),
        0,
        0,
    )
    assert list((workdir / "inbox").iterdir()) == []
    engine = create_engine(f"sqlite:///{workdir / 'warehouse.sqlite'}")
    with engine.connect() as conn:
        count = conn.execute(text("select count(*) from submission")).scalar_one()
    engine.dispose()
    assert count == len(files)


@pytest.mark.prefect
def test_a_night_with_nothing_new_does_not_import_great_expectations(
    tmp_path: Path, sample_dir: Path, prefect_harness: None
) -> None:
    """The plan and the consolidated set were judged under these rules already: their findings
    are reused (intake.memo), so the fixed cost of a quiet night carries no GX import."""
    import subprocess
    import sys

    from .cli_run import cli_env

    workdir = tmp_path / "work"
    (workdir / "inbox").mkdir(parents=True)
    shutil.copy(next(sample_dir.glob("001_*.xlsx")), workdir / "inbox")
    probe = (
        "import sys; from guidefund.cli import main; code = main(['nightly', '--json']); "
        "print('GX', 'great_expectations' in sys.modules); sys.exit(code)"
    )
    env = cli_env(workdir)
    runs = [subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True,
                           text=True, timeout=600) for _ in range(2)]  # fmt: skip
    # first: new alerts (135 projects missing); second: the same alerts, not new
    assert [r.returncode for r in runs] == [1, 0], runs[-1].stderr[-2000:]
    assert [r.stdout.splitlines()[-1] for r in runs] == ["GX True", "GX False"]
    first, second = (json.loads(r.stdout.rsplit("\nGX", 1)[0]) for r in runs)
    assert second["consolidated_findings"] == first["consolidated_findings"] != []
    quiet = Path(second["data_docs"]).read_text(encoding="utf-8")  # its own summary page
    assert Path(first["data_docs"]).parent == Path(second["data_docs"]).parent
    assert "没有需要校验的新内容" in quiet
