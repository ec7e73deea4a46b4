"""`guidefund check FILE...`: the findings a file would get, printed, without loading anything."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from guidefund.cli import main

from .quirks import edit


def sample(sample_dir: Path, no: str) -> Path:
    return next(sample_dir.glob(f"{no}_*.xlsx"))


def check(tmp_path: Path, capsys: pytest.CaptureFixture[str], *files: Path) -> tuple[int, str]:
    code = main(["check", "--workdir", str(tmp_path / "work"), *map(str, files)])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out


def test_a_good_file_would_be_accepted(tmp_path: Path, sample_dir: Path, capsys) -> None:
    code, out = check(tmp_path, capsys, sample(sample_dir, "046"))
    assert (code, out) == (0, "046_新疆工程学院.xlsx：可以接收（0 条提醒）\n")


def test_warnings_are_printed_and_the_file_would_still_be_accepted(
    tmp_path: Path, sample_dir: Path, capsys
) -> None:
    code, out = check(tmp_path, capsys, sample(sample_dir, "045"))
    assert code == 0
    assert out.splitlines() == [
        "045_新疆林业科学院.xlsx 基本信息!C12 [direct_support_zero_allocation] 安排资金："
        "本项目为直接补助，但安排资金为 0 万元，"
        "请科技厅核对资金安排计划；如本年度确无安排资金，项目单位无需处理（提醒）",
        "045_新疆林业科学院.xlsx：可以接收（1 条提醒）",
    ]


def test_a_file_with_a_problem_would_be_rejected_and_says_where(
    tmp_path: Path, sample_dir: Path, capsys
) -> None:
    bad = edit(
        Path(shutil.copy(sample(sample_dir, "133"), tmp_path / "133.xlsx")), "资金情况", C5=-5
    )
    code, out = check(tmp_path, capsys, bad)
    assert code == 1
    assert out.splitlines() == [
        "133.xlsx 资金情况!C5 [funds_non_negative] 实际支出："
        "实际支出（-5）不能为负数，请填写 0 或正数（单位：万元）（退回）",
        "133.xlsx：将被退回（1 个问题，0 条提醒）",
    ]


def test_a_file_that_is_not_a_workbook_exits_2(tmp_path: Path, capsys) -> None:
    path = tmp_path / "scan.xlsx"
    path.write_bytes(b"%PDF-1.4")
    code, out = check(tmp_path, capsys, path)
    assert code == 2
    assert out.splitlines()[-1] == "scan.xlsx：无法作为 Excel 工作簿读取"
    assert "[read.not_workbook]" in out.splitlines()[0]


def test_a_missing_path_exits_2_with_a_message(tmp_path: Path, capsys) -> None:
    code = main(["check", "--workdir", str(tmp_path / "work"), str(tmp_path / "nope.xlsx")])
    assert code == 2
    assert capsys.readouterr().err == f"{tmp_path / 'nope.xlsx'}：找不到该文件\n"


def test_several_files_exit_with_the_worst_verdict(
    tmp_path: Path, sample_dir: Path, capsys
) -> None:
    bad = edit(
        Path(shutil.copy(sample(sample_dir, "133"), tmp_path / "133.xlsx")), "绩效指标", C15=1
    )
    code, out = check(tmp_path, capsys, sample(sample_dir, "046"), bad)
    assert code == 1
    assert out.splitlines()[-1] == "133.xlsx：将被退回（1 个问题，0 条提醒）"
    assert "绩效指标!C15 [read.percent_ambiguous]" in out


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
