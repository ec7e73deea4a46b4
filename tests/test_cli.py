"""The guidefund command: what it writes, what it prints, and its exit codes."""

from __future__ import annotations

from pathlib import Path

from guidefund.cli import main


def test_template_for_one_project(tmp_path: Path, capsys) -> None:
    assert main(["template", "--year", "2024", "--out", str(tmp_path), "--project", "46"]) == 0
    assert [p.name for p in tmp_path.iterdir()] == ["046_新疆工程学院.xlsx"]
    assert "已生成 1 个填报模板" in capsys.readouterr().out


def test_samples_for_every_project(tmp_path: Path) -> None:
    assert main(["samples", "--year", "2024", "--out", str(tmp_path), "--seed", "5"]) == 0
    assert len(list(tmp_path.glob("*.xlsx"))) == 136


def test_an_unknown_year_is_one_line_and_exit_2(tmp_path: Path, capsys) -> None:
    assert main(["template", "--year", "2031", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert (
        err[0].startswith("guidefund: 参考数据有误：") and "没有 2031 年度的参考数据目录" in err[0]
    )


def test_an_unknown_project_number_is_refused(tmp_path: Path, capsys) -> None:
    assert main(["template", "--year", "2024", "--out", str(tmp_path), "--project", "999"]) == 2
    assert "计划中没有项目序号 [999]" in capsys.readouterr().err
