"""Custody: every file that arrives ends in exactly one recorded state and one place on disk,
the unit gets a feedback workbook in Chinese, and nothing is lost or loaded twice.

The mixed inbox runs through the real nightly flow (Prefect test harness) on SQLite and on
PostgreSQL, twice."""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import create_engine, text

from guidefund.expectations import rule_name
from guidefund.intake.batch import read_batch, split, warnings_of
from guidefund.intake.custody import DUPLICATE as COPY
from guidefund.intake.custody import REJECTED, Places, ToFile, file_away
from guidefund.intake.inbox import scan_inbox
from guidefund.intake.workbook import read_submission
from guidefund.records import CRITICAL, WARNING, Finding
from guidefund.reference import Reference
from guidefund.reports.feedback_xlsx import write_feedback
from tests.quirks import submission_file

from .pg import postgres_schema
from .quirks import delete_sheet, edit

GOOD = ("001", "045", "058", "133", "046")
RESUBMISSION = "046_新疆工程学院_v2.xlsx"
DUPLICATE = "zz_046_copy.xlsx"
BAD = {
    "bad_negative_spending.xlsx": "funds_non_negative",
    "bad_old_template.xlsx": "template_version_accepted",
    "bad_not_excel.xlsx": "read.not_workbook",
    "bad_percent_one.xlsx": "read.percent_ambiguous",
    "bad_sheet_deleted.xlsx": "read.sheet_missing",
    "bad_pasted_name.xlsx": "matches_plan",
}


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def sample(sample_dir: Path, no: str) -> Path:
    return next(sample_dir.glob(f"{no}_*.xlsx"))


def mixed_inbox(sample_dir: Path, source: Path) -> dict[str, Path]:
    """Good samples, each kind of bad file, a byte-identical copy and a resubmission, written
    once to `source`; the test copies them into the inbox."""
    source.mkdir()
    files = {sample(sample_dir, no).name: sample(sample_dir, no) for no in GOOD}
    files = {name: Path(shutil.copy(p, source / name)) for name, p in files.items()}

    def bad(name: str, base: str) -> Path:
        return Path(shutil.copy(sample(sample_dir, base), source / name))

    edit(bad("bad_negative_spending.xlsx", "133"), "资金情况", C5=-5)
    edit(bad("bad_old_template.xlsx", "003"), "基本信息", C4="GF-2023.1")
    (source / "bad_not_excel.xlsx").write_bytes(b"%PDF-1.4\n1 0 obj<<>>endobj\n")
    edit(bad("bad_percent_one.xlsx", "004"), "绩效指标", C15=1)
    delete_sheet(bad("bad_sheet_deleted.xlsx", "005"), "自评")
    edit(bad("bad_pasted_name.xlsx", "047"), "基本信息", C6="新疆科技创新服务数字化平台建设")
    shutil.copy(files[sample(sample_dir, "046").name], source / DUPLICATE)
    edit(bad(RESUBMISSION, "046"), "绩效指标", C10=77)
    return {p.name: p for p in sorted(source.iterdir())}


def drop(files: dict[str, Path], inbox: Path) -> None:
    """Copy the files into the inbox; the resubmission was saved a minute after the first
    version (same 填报日期), so it is the later version whatever the copy order."""
    inbox.mkdir(exist_ok=True)
    for name, path in files.items():
        shutil.copy(path, inbox / name)
    first = (inbox / RESUBMISSION.replace("_v2", "")).stat().st_mtime
    os.utime(inbox / RESUBMISSION, (first + 60, first + 60))


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def warehouse(request: pytest.FixtureRequest) -> Iterator[str]:
    """'' for the default SQLite file, or a fresh PostgreSQL schema's URL."""
    if request.param == "sqlite":
        with pytest.MonkeyPatch.context() as env:
            env.delenv("GUIDEFUND_WAREHOUSE_URL", raising=False)
            yield ""
        return
    with postgres_schema() as url, pytest.MonkeyPatch.context() as env:
        env.setenv("GUIDEFUND_WAREHOUSE_URL", url)
        yield url


@pytest.fixture(scope="module")
def two_runs(
    warehouse: str,
    tmp_path_factory: pytest.TempPathFactory,
    sample_dir: Path,
    prefect_harness: None,
):
    """The mixed inbox, run; then the very same files dropped again, run again."""
    from guidefund.flows.nightly import nightly_consolidation

    workdir = tmp_path_factory.mktemp("custody")
    files = mixed_inbox(sample_dir, tmp_path_factory.mktemp("source") / "files")
    url = warehouse or f"sqlite:///{workdir / 'warehouse.sqlite'}"
    inbox = workdir / "inbox"
    snapshots = []
    summaries = []
    for _ in range(2):
        drop(files, inbox)
        summaries.append(nightly_consolidation(year=2024, workdir=str(workdir)))
        snapshots.append(snapshot(workdir, url))
    return workdir, files, url, summaries, snapshots


def snapshot(workdir: Path, url: str) -> dict[str, object]:
    """What is on disk and in the warehouse after a run."""
    engine = create_engine(url)
    with engine.connect() as conn:
        tables = {
            t: conn.execute(text(f"select count(*) from {t}")).scalar_one()
            for t in ("submission", "fund_execution", "indicator_contribution", "finding")
        }
        states = dict(
            conn.execute(text("select state, count(*) from submission group by state")).all()
        )
    engine.dispose()
    return {
        "inbox": sorted(p.name for p in (workdir / "inbox").iterdir()),
        "archive": sorted(p.name for p in (workdir / "archive").iterdir()),
        "quarantine": sorted(p.name for p in (workdir / "quarantine").iterdir()),
        "tables": tables,
        "states": states,
    }


def test_every_file_received_ends_in_exactly_one_state(two_runs) -> None:
    _, files, _, (first, _), (after, _) = two_runs
    assert (first.received, first.accepted, first.rejected, first.duplicate, first.superseded) == (
        13,
        6,  # 5 current + the first 046, superseded within the batch by its _v2
        6,
        1,
        1,
    )
    assert first.accepted + first.rejected + first.duplicate == first.received == len(files)
    assert after["states"] == {"accepted": 5, "superseded": 1, "rejected": 6}
    assert sorted(first.rejected_files) == sorted(BAD)


def test_each_bad_file_is_rejected_for_its_own_reason(two_runs) -> None:
    _, _, _, (first, _), _ = two_runs
    for name, rule in BAD.items():
        assert f"[{rule_name(rule)}]" in first.rejected_files[name][0], (name, rule)
        assert rule not in first.rejected_files[name][0]


def test_files_are_filed_by_state_and_the_inbox_is_emptied(two_runs) -> None:
    _, files, _, _, (after, _) = two_runs
    accepted = [n for n in files if n not in BAD and n != DUPLICATE]
    assert after["inbox"] == []
    assert after["archive"] == sorted(f"{sha(files[n])}.xlsx" for n in accepted)
    assert after["quarantine"] == sorted([*BAD, *(f"{n}.errors.xlsx" for n in BAD)])


def test_the_feedback_workbook_tells_the_unit_what_to_fix_in_chinese(two_runs) -> None:
    workdir, _, _, _, _ = two_runs
    ws = load_workbook(workdir / "quarantine" / "bad_negative_spending.xlsx.errors.xlsx").active
    rows = [[c.value for c in row] for row in ws.iter_rows()]
    assert [r[0] for r in rows[:2]] == [
        "bad_negative_spending.xlsx 问题清单",
        "共 1 个问题，0 条提醒。文件已退回：请逐条改正标为“退回”的问题后重新报送；标为“提醒”的请核对。",
    ]
    assert rows[3:] == [
        ["序号", "工作表", "单元格", "字段", "填写的值", "检查项目", "问题及修改要求", "处理"],
        [1, "资金情况", "C5", "实际支出", "-5", "金额不能为负",
         "实际支出（-5）不能为负数，请填写 0 或正数（单位：万元）", "退回"],
    ]  # fmt: skip


def test_the_second_run_of_the_same_files_changes_nothing(two_runs) -> None:
    _, files, _, (_, second), (after_first, after_second) = two_runs
    assert (second.received, second.accepted, second.rejected, second.duplicate) == (
        len(files),
        0,
        0,
        len(files),
    )
    assert after_second == after_first


def test_accepted_values_are_exactly_what_the_good_files_hold(two_runs, ref: Reference) -> None:
    from guidefund.warehouse.queries import current_submissions

    _, files, url, _, _ = two_runs
    engine = create_engine(url)
    rows = {r["project_no"]: r for r in current_submissions(engine, ref.region_code, ref.year)}
    engine.dispose()
    current = [n for n in files if n not in BAD and n != DUPLICATE and not n.startswith("046_新疆工程学院.")]  # fmt: skip
    assert len(current) == len(rows) == 5
    for name in current:
        sub = read_submission(files[name], ref)
        row = rows[sub.project_no]
        assert row["file_name"] == name
        for key, value in sub.values.items():
            if key in row:
                assert row[key] == value, (name, key)
    assert rows[46]["trained_staff"] == 77


def test_warnings_of_accepted_files_are_stored_for_the_alerts(two_runs) -> None:
    _, _, url, (first, _), _ = two_runs
    engine = create_engine(url)
    with engine.connect() as conn:
        stored = conn.execute(
            text("select file, rule from finding where severity = 'warning' order by file")
        ).all()
    engine.dispose()
    assert [tuple(r) for r in stored] == [
        ("045_新疆林业科学院.xlsx", "direct_support_zero_allocation")
    ]
    assert first.warnings == 1


def test_the_run_summary_says_where_its_data_docs_are(two_runs) -> None:
    """The first run validated the files and the plan; the second got the same bytes (known,
    not validated again) under the same rules: its summary page says nothing new was checked."""
    workdir, _, _, (first, second), _ = two_runs
    runs = (workdir / "data_docs" / "runs").resolve()
    pages = {s.run_id: Path(s.data_docs) for s in (first, second)}
    for run_id, page in pages.items():
        assert page.parent == runs
        assert page.name.endswith(f"-nightly-consolidation-{run_id}.html")
    html = pages[first.run_id].read_text(encoding="utf-8")
    assert "submission.critical" in html and "plan.critical" in html
    quiet = pages[second.run_id].read_text(encoding="utf-8")
    assert "没有需要校验的新内容" in quiet and "submission.critical" not in quiet
    assert f"nightly-consolidation-{first.run_id}" in (
        workdir / "data_docs" / "index.html"
    ).read_text(encoding="utf-8")
    listed = (runs / "index.html").read_text(encoding="utf-8")
    assert f"nightly-consolidation-{first.run_id}" in listed
    assert f"nightly-consolidation-{second.run_id}" in listed


# ----------------------------------------------------------------------------- plain functions


def test_the_inbox_lists_submissions_and_notes_everything_else(tmp_path: Path) -> None:
    for name in ("b.xlsx", "a.xlsx", "~$a.xlsx", ".hidden", "a.xlsx.errors.xlsx"):
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "folder").mkdir()
    scan = scan_inbox(tmp_path)
    assert [e.name for e in scan.files] == ["a.xlsx", "b.xlsx"]
    assert {name: outcome for name, (outcome, _) in scan.notes.items()} == {
        "~$a.xlsx": "skipped",
        ".hidden": "skipped",
        "a.xlsx.errors.xlsx": "skipped",
    }
    assert scan_inbox(tmp_path / "missing").files == []


def _finding(file: str, rule: str, severity: str = CRITICAL) -> Finding:
    return Finding(file, "资金情况", "C5", "funds_spent", "实际支出", "1", rule, rule, severity)


def test_split_rejects_on_any_critical_finding_and_keeps_warnings_apart(
    tmp_path: Path, sample_dir: Path, ref: Reference
) -> None:
    subs = read_batch([sample(sample_dir, "001"), sample(sample_dir, "002")], ref)
    a, b = subs[0].file_name, subs[1].file_name
    found = {
        0: [_finding(a, "satisfaction_low", WARNING)],
        1: [_finding(b, "satisfaction_low", WARNING), _finding(b, "funds_non_negative")],
    }
    accepted, rejected = split(subs, found)
    assert [s.file_name for s in accepted] == [a]
    assert [(s.file_name, [f.rule for f in fs]) for s, fs in rejected] == [
        (b, ["funds_non_negative", "satisfaction_low"])
    ]
    assert [(f.file, f.rule) for f in warnings_of(subs, found)] == [(a, "satisfaction_low")]


def test_a_duplicate_whose_bytes_are_kept_leaves_the_inbox(
    tmp_path: Path, sample_dir: Path
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    digest = sha(sample(sample_dir, "001"))
    (tmp_path / "archive").mkdir()
    shutil.copy(sample(sample_dir, "001"), tmp_path / "archive" / f"{digest}.xlsx")
    shutil.copy(sample(sample_dir, "001"), inbox / "again.xlsx")
    dest = Places.list(tmp_path).for_duplicate(digest, "again.xlsx", None, "accepted")

    filed = file_away(tmp_path, inbox, [ToFile("again.xlsx", COPY, dest)], write_feedback)

    assert (filed.done, filed.failed) == (["again.xlsx"], {})
    assert list(inbox.iterdir()) == []
    assert [p.name for p in (tmp_path / "archive").iterdir()] == [f"{digest}.xlsx"]


def test_a_duplicate_whose_bytes_are_not_kept_is_archived_not_deleted(
    tmp_path: Path, sample_dir: Path
) -> None:
    """The warehouse knows the bytes, but the archive lost them: keep this copy."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(sample(sample_dir, "001"), inbox / "again.xlsx")
    digest = sha(inbox / "again.xlsx")
    dest = f"archive/{digest}.xlsx"

    file_away(tmp_path, inbox, [ToFile("again.xlsx", COPY, dest)], write_feedback)

    assert [p.name for p in (tmp_path / "archive").iterdir()] == [f"{digest}.xlsx"]


def test_a_rejected_file_with_a_taken_name_is_quarantined_beside_the_first(
    tmp_path: Path, sample_dir: Path, ref: Reference
) -> None:
    quarantine = tmp_path / "quarantine"
    subs = []
    for value in (-5, -6):
        inbox = tmp_path / f"inbox{value}"
        inbox.mkdir()
        path = edit(
            Path(shutil.copy(sample(sample_dir, "133"), inbox / "x.xlsx")), "资金情况", C5=value
        )
        [sub] = read_batch([path], ref)
        dest = Places.list(tmp_path).for_rejected(sub.sha256, "x.xlsx")
        item = ToFile("x.xlsx", REJECTED, dest, [_finding("x.xlsx", "r")])
        assert file_away(tmp_path, inbox, [item], write_feedback).done == ["x.xlsx"]
        subs.append(sub)
    second = f"x.{subs[1].sha256[:8]}.xlsx"
    assert sorted(p.name for p in quarantine.iterdir()) == sorted(
        ["x.xlsx", "x.xlsx.errors.xlsx", second, f"{second}.errors.xlsx"]
    )
    assert sha(quarantine / second) == subs[1].sha256


def test_feedback_lists_problems_then_warnings_with_their_level(tmp_path: Path) -> None:
    path = write_feedback(tmp_path / "f.errors.xlsx", [
        _finding("f.xlsx", "funds_non_negative"), _finding("f.xlsx", "satisfaction_low", WARNING)
    ])  # fmt: skip
    ws = load_workbook(path)["问题清单"]
    assert [ws.cell(row=r, column=8).value for r in (4, 5, 6)] == ["处理", "退回", "提醒"]
    assert ws.freeze_panes == "A5"


def test_money_survives_the_round_trip_exactly(ref: Reference, tmp_path: Path) -> None:
    """Amounts with cents, as large as a 万元 field takes and as small as a cent, come back from
    the workbook as the same Decimals (no float rounding on the way)."""
    amounts = {
        "funds_received": Decimal("8314.25"),
        "funds_spent": Decimal("8314.24"),
        "funds_on_time": Decimal("0.01"),
        "self_raised": Decimal("29218.65"),
        "financing": Decimal("98765432.10"),
        "contract_value": Decimal("1234.57"),
    }
    path = submission_file(ref, 46, tmp_path / "046.xlsx", **amounts)
    sub = read_submission(path, ref)
    assert {k: sub.values[k] for k in amounts} == amounts
    assert all(type(sub.values[k]) is Decimal for k in amounts)
