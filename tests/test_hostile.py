"""No file can stop, stall or poison a nightly run (issue 9): one night over an inbox that mixes
every hostile kind of file and entry (tests/hostile.py) with 100 good submissions, run as a
person runs it (`guidefund nightly` in its own process), after a first night that stored one
file the hostile night sends again.

What must hold: the run ends with exit 1 (files were rejected), no traceback; every good file is
accepted; every entry of the inbox gets exactly one outcome, the one its case names, worded in
Chinese; the whole process tree stays under 1 GiB; no workbook guidefund wrote holds a formula;
nothing from the file outside the inbox reaches any output; custody reconciles."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import create_engine, text

from guidefund.intake.custody import fits
from guidefund.reference import Reference

from .cli_run import Ran, cli_env, run_cli
from .hostile import ACCEPTED, REFUSED, REJECTED, SECRET, SKIPPED, Case, Corpus, convert_to_xls

pytestmark = pytest.mark.prefect

GOOD = range(1, 101)
STORED_BEFORE = "121"  # accepted by the first night; sent again in the hostile one
COPY_OF_STORED = "zz_copy_of_stored.xlsx"
GIB = 1 << 30


class Night:
    def __init__(self, workdir: Path, cases: list[Case], good: list[str], ran: Ran):
        self.workdir = workdir
        self.cases = {c.name: c for c in cases}
        self.good = good
        self.ran = ran
        self.summary = json.loads(ran.out)

    def findings(self, name: str) -> list[tuple[str, str]]:
        engine = create_engine(f"sqlite:///{self.workdir / 'warehouse.sqlite'}")
        with engine.connect() as conn:
            rows = conn.execute(
                text("select rule, message from finding where file = :f and run_id = :r"
                     " and severity = 'critical' order by id"),
                {"f": name, "r": self.summary["run_id"]},
            ).all()  # fmt: skip
        engine.dispose()
        return [tuple(r) for r in rows]  # type: ignore[misc]


@pytest.fixture(scope="module")
def night(
    tmp_path_factory: pytest.TempPathFactory,
    sample_dir: Path,
    ref: Reference,
    prefect_harness: None,
) -> Night:
    root = tmp_path_factory.mktemp("hostile")
    workdir, inbox = root / "work", root / "work" / "inbox"
    corpus = Corpus(ref, root / "scratch", root / "outside")
    convert_to_xls(corpus.xls_sources(), root / "xls")
    cases = corpus.cases(root / "xls")
    env = cli_env(workdir, GUIDEFUND_READ_WORKERS="2")

    inbox.mkdir(parents=True)
    stored = next(sample_dir.glob(f"{STORED_BEFORE}_*.xlsx"))
    shutil.copy(stored, inbox / stored.name)
    first = run_cli(["nightly", "--json"], env)
    assert json.loads(first.out)["outcomes"] == {stored.name: ACCEPTED}, first.err

    good = []
    for no in GOOD:
        path = next(sample_dir.glob(f"{no:03d}_*.xlsx"))
        shutil.copy(path, inbox / path.name)
        good.append(path.name)
    shutil.copy(stored, inbox / COPY_OF_STORED)
    for case in cases:
        case.make(inbox / case.name)
    return Night(workdir, cases, good, run_cli(["nightly", "--json"], env))


def test_the_night_ends_with_exit_1_and_no_traceback(night: Night) -> None:
    assert night.ran.code == 1, night.ran.err[-3000:]
    assert "Traceback" not in night.ran.out + night.ran.err


def test_the_corpus_has_at_least_40_kinds_in_every_group(night: Night) -> None:
    groups = {c.kind for c in night.cases.values()}
    assert len(night.cases) >= 40
    assert groups == {"not_workbook", "format", "exhaustion", "xml", "value", "name", "inbox",
                      "identity"}  # fmt: skip


def test_every_good_file_is_accepted(night: Night) -> None:
    outcomes = night.summary["outcomes"]
    assert {name: outcomes.get(name) for name in night.good} == dict.fromkeys(night.good, ACCEPTED)


def test_every_entry_of_the_inbox_gets_exactly_one_outcome(night: Night) -> None:
    expected = {*night.good, COPY_OF_STORED, *night.cases}
    assert set(night.summary["outcomes"]) == expected
    s = night.summary
    received = [n for n, o in s["outcomes"].items() if o not in (SKIPPED, REFUSED, "deferred")]
    assert len(received) == s["received"] == s["accepted"] + s["rejected"] + s["duplicate"]
    engine = create_engine(f"sqlite:///{night.workdir / 'warehouse.sqlite'}")
    with engine.connect() as conn:
        receipts = conn.execute(
            text("select file_name, state from receipt where run_id = :r"), {"r": s["run_id"]}
        ).all()
    engine.dispose()
    assert sorted(n for n, _ in receipts) == sorted(received)
    assert s["deferred"] == 0 and s["unfiled"] == {}


def test_each_hostile_entry_gets_its_outcome_and_its_message(night: Night) -> None:
    """Every case, checked one by one; the assertion lists each case that went otherwise."""
    wrong: dict[str, object] = {}
    for name, case in night.cases.items():
        outcome = night.summary["outcomes"].get(name)
        if outcome != case.outcome:
            wrong[name] = (outcome, night.summary["notes"].get(name), night.findings(name)[:1])
        elif case.outcome == REJECTED:
            findings = night.findings(name)
            first = findings[0] if findings else ("", "")
            if (case.rule and first[0] != case.rule) or case.says not in first[1]:
                wrong[name] = first
            elif name not in night.summary["rejected_files"]:
                wrong[name] = "not in the summary's rejected files"
        elif case.outcome in (SKIPPED, REFUSED) and case.says not in night.summary["notes"][name]:
            wrong[name] = night.summary["notes"][name]
    assert wrong == {}


def test_a_file_already_stored_is_a_duplicate_without_being_read_again(night: Night) -> None:
    assert night.summary["outcomes"][COPY_OF_STORED] == "duplicate"


def test_the_whole_run_stays_under_1_gib(night: Night) -> None:
    assert 0 < night.ran.peak_rss < GIB, night.ran.peak_rss


def _workbooks_written(workdir: Path) -> list[Path]:
    return sorted([*workdir.joinpath("quarantine").rglob("*.errors.xlsx"),
                   *workdir.joinpath("reports").glob("*.xlsx")])  # fmt: skip


def test_no_workbook_guidefund_wrote_holds_a_formula(night: Night) -> None:
    written = _workbooks_written(night.workdir)
    assert len(written) > 40
    for path in written:
        with zipfile.ZipFile(path) as z:
            for member in z.namelist():
                if member.endswith(".xml"):
                    xml = z.read(member)
                    assert b"<f>" not in xml and b"<f " not in xml, (path.name, member)


def test_the_feedback_shows_formula_text_as_text(night: Night) -> None:
    ws = load_workbook(night.workdir / "quarantine" / "val_formula_text.xlsx.errors.xlsx").active
    typed = '=HYPERLINK("http://evil.example","点此")'
    [value] = [c for row in ws.iter_rows() for c in row if c.value == typed]
    assert (value.data_type, value.quotePrefix) == ("s", True)


def test_nothing_from_outside_the_inbox_reaches_any_output(night: Night) -> None:
    assert SECRET not in night.ran.out + night.ran.err
    for path in night.workdir.rglob("*"):
        if path.is_file() and not path.is_symlink():
            assert SECRET.encode() not in path.read_bytes(), path


def test_a_sub_folder_is_kept_in_quarantine_and_archive(night: Night) -> None:
    q = night.workdir / "quarantine" / "unitA" / "sub"
    assert sorted(p.name for p in q.iterdir()) == ["bad.xlsx", "bad.xlsx.errors.xlsx"]
    assert not (night.workdir / "inbox" / "unitA" / "114.xlsx").exists()


def test_an_over_long_name_keeps_its_extension_and_gets_a_hash_in_derived_files(
    night: Night,
) -> None:
    name = "L" * 245 + ".xlsx"
    q = night.workdir / "quarantine"
    assert (q / name).exists()
    [feedback] = [p for p in q.iterdir() if p.name.startswith("LLLL") and p.name != name]
    assert feedback.name == fits(name + ".errors.xlsx")
    assert feedback.name.endswith(".xlsx.errors.xlsx") and "~" in feedback.name
    assert len(feedback.name.encode()) <= 255
    assert name in night.summary["rejected_files"]  # the receipt keeps the original name


def test_entries_that_are_not_read_stay_in_the_inbox(night: Night) -> None:
    inbox = night.workdir / "inbox"
    left = {c.name for c in night.cases.values() if c.outcome in (SKIPPED, REFUSED)}
    for name in left - {"bad\ufffd\ufffdname.xlsx"}:
        assert (inbox / name.rstrip("/")).is_symlink() or (inbox / name.rstrip("/")).exists(), name


def test_custody_reconciles_after_the_night(night: Night) -> None:
    ran = run_cli(["custody", "--json"], cli_env(night.workdir))
    assert ran.code == 0, ran.out
    assert json.loads(ran.out)["discrepancies"] == []
