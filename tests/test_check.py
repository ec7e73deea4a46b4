"""`guidefund check FILE|FOLDER...`: the findings a file would get, printed, without loading
anything; the same findings the nightly run gives the same file."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from guidefund.cli import main
from guidefund.reference import Reference

from .quirks import edit

NO_HISTORY = (
    "注意：没有汇总库，“数值异常”提醒只与本次检查的其他文件比较，未与本项目上次报送比较；"
    "入库（guidefund nightly）时会比较。"
)


def sample(sample_dir: Path, no: str) -> Path:
    return next(sample_dir.glob(f"{no}_*.xlsx"))


def check(tmp_path: Path, capsys: pytest.CaptureFixture[str], *files: Path) -> tuple[int, str]:
    code = main(["check", "--workdir", str(tmp_path / "work"), *map(str, files)])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out


def test_a_good_file_would_be_accepted(tmp_path: Path, sample_dir: Path, capsys) -> None:
    code, out = check(tmp_path, capsys, sample(sample_dir, "046"))
    assert (code, out.splitlines()) == (
        0,
        ["046_新疆工程学院.xlsx：可以接收（0 条提醒）", NO_HISTORY],
    )


def test_warnings_are_printed_and_the_file_would_still_be_accepted(
    tmp_path: Path, sample_dir: Path, capsys
) -> None:
    code, out = check(tmp_path, capsys, sample(sample_dir, "045"))
    assert code == 0
    assert out.splitlines() == [
        "045_新疆林业科学院.xlsx 基本信息!C12 [直接补助安排资金] 安排资金："
        "本项目为直接补助，但安排资金为 0 万元，"
        "请科技厅核对资金安排计划；如本年度确无安排资金，项目单位无需处理（提醒）",
        "045_新疆林业科学院.xlsx：可以接收（1 条提醒）",
        NO_HISTORY,
    ]


def test_a_file_with_a_problem_would_be_rejected_and_says_where_in_chinese(
    tmp_path: Path, sample_dir: Path, capsys
) -> None:
    bad = edit(
        Path(shutil.copy(sample(sample_dir, "133"), tmp_path / "133.xlsx")), "资金情况", C5=-5
    )
    code, out = check(tmp_path, capsys, bad)
    assert code == 1
    assert out.splitlines()[:2] == [
        "133.xlsx 资金情况!C5 [金额不能为负] 实际支出："
        "实际支出（-5）不能为负数，请填写 0 或正数（单位：万元）（退回）",
        "133.xlsx：将被退回（1 个问题，0 条提醒）",
    ]
    assert "funds_non_negative" not in out


def test_a_file_that_is_not_a_workbook_exits_2(tmp_path: Path, capsys) -> None:
    path = tmp_path / "scan.xlsx"
    path.write_bytes(b"%PDF-1.4")
    code, out = check(tmp_path, capsys, path)
    assert code == 2
    assert out.splitlines()[1] == "scan.xlsx：无法作为 Excel 工作簿读取"
    assert out.splitlines()[0].startswith("scan.xlsx （文件） [文件格式] 文件：")


def test_a_missing_path_exits_2_with_a_message(tmp_path: Path, capsys) -> None:
    code = main(["check", "--workdir", str(tmp_path / "work"), str(tmp_path / "nope.xlsx")])
    assert code == 2
    assert capsys.readouterr().err == f"{tmp_path / 'nope.xlsx'}：找不到该文件或文件夹\n"


def test_several_files_exit_with_the_worst_verdict(
    tmp_path: Path, sample_dir: Path, capsys
) -> None:
    bad = edit(
        Path(shutil.copy(sample(sample_dir, "133"), tmp_path / "133.xlsx")), "绩效指标", C15=1
    )
    code, out = check(tmp_path, capsys, sample(sample_dir, "046"), bad)
    assert code == 1
    assert out.splitlines()[-2] == "133.xlsx：将被退回（1 个问题，0 条提醒）"
    assert "绩效指标!C15 [百分比写法]" in out


def test_a_folder_is_checked_file_by_file_as_the_inbox_is(
    tmp_path: Path, sample_dir: Path, capsys
) -> None:
    """Lock files and feedback workbooks in the folder are not submissions, as in the inbox."""
    folder = tmp_path / "inbox"
    folder.mkdir()
    for no in ("046", "045"):
        shutil.copy(sample(sample_dir, no), folder)
    (folder / "~$046_新疆工程学院.xlsx").write_bytes(b"lock")
    (folder / "old.xlsx.errors.xlsx").write_bytes(b"feedback")
    code, out = check(tmp_path, capsys, folder)
    assert code == 0
    verdicts = [line for line in out.splitlines() if "：可以接收" in line]
    assert verdicts == [
        "045_新疆林业科学院.xlsx：可以接收（1 条提醒）",
        "046_新疆工程学院.xlsx：可以接收（0 条提醒）",
    ]


def test_an_empty_folder_says_so_and_exits_2(tmp_path: Path, capsys) -> None:
    (tmp_path / "empty").mkdir()
    code = main(["check", "--workdir", str(tmp_path / "work"), str(tmp_path / "empty")])
    assert code == 2
    assert capsys.readouterr().err == f"{tmp_path / 'empty'}：文件夹中没有待检查的文件\n"


def test_checking_touches_neither_the_file_nor_the_warehouse(
    tmp_path: Path, sample_dir: Path, capsys
) -> None:
    path = Path(shutil.copy(sample(sample_dir, "046"), tmp_path / "046.xlsx"))
    before = path.read_bytes()
    check(tmp_path, capsys, path)
    assert path.read_bytes() == before
    work = tmp_path / "work"
    assert not (work / "warehouse.sqlite").exists()
    assert not work.exists()


def test_check_and_nightly_give_a_file_the_same_findings_history_included(
    tmp_path: Path, sample_dir: Path, ref: Reference, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A project's figure ten times its last accepted report is a reminder from both: check reads
    the warehouse's history (read-only), as the nightly run's validate-batch task does."""
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path / "prefect"))
    from guidefund.expectations import DocsRun
    from guidefund.flows import tasks
    from guidefund.intake.batch import read_batch
    from guidefund.intake.night import Night
    from guidefund.intake.readers import ReadLimits
    from guidefund.intake.workbook import read_submission
    from guidefund.reports.findings import finding_line
    from guidefund.settings import Settings
    from guidefund.warehouse.db import make_engine, upgrade
    from guidefund.warehouse.load import load_batch, start_run

    work = tmp_path / "work"
    url = f"sqlite:///{work / 'warehouse.sqlite'}"
    engine = make_engine(url)
    upgrade(engine)
    load_batch(engine, ref, start_run(engine, "nightly-consolidation"),
               read_batch(sorted(sample_dir.glob("*.xlsx")), ref), [])  # fmt: skip
    engine.dispose()
    source = next(
        p for p in sorted(sample_dir.glob("*.xlsx"))
        if (read_submission(p, ref).values.get("trained_staff") or 0) > 10
    )  # fmt: skip
    staff = read_submission(source, ref).values["trained_staff"]
    path = edit(Path(shutil.copy(source, tmp_path / "again.xlsx")), "绩效指标", C10=staff * 20)

    code, out = check(tmp_path, capsys, path)

    settings = Settings(workdir=work)
    subs = read_batch([path], ref)
    night = Night(settings, ref, settings.database_url, ReadLimits.of(settings, ref), "rules")
    night.history = tasks.read_history.fn(settings.database_url, ref)
    night.read[0] = subs
    tasks.validate_chunk.fn(night, 0, DocsRun("same"))
    checked = night.spill.get(0)
    assert (len(checked.accepted), checked.rejected) == (1, [])
    nightly = [finding_line(f) for f in checked.warnings]
    assert out.splitlines() == [*nightly, "again.xlsx：可以接收（1 条提醒）"]
    assert len(nightly) == 1
    assert (
        f"培训从事技术创新服务人员（{staff * 20} 人次）是本项目上次报送（报告期 2024）"
        in nightly[0]
    )
    assert code == 0
