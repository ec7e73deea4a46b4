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


def _subcommands():  # type: ignore[no-untyped-def]
    import argparse

    from guidefund.cli import build_parser

    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return parser, action.choices


def test_every_command_has_chinese_help_with_an_example_and_its_exit_codes() -> None:
    """Description in Chinese, every option explained, '示例：' with a guidefund line, and
    '退出码：' with 0 among them."""
    parser, commands = _subcommands()
    assert "退出码：" in parser.format_help() and "用法：" in parser.format_help()
    for name, p in commands.items():
        text = p.format_help()
        assert any("\u4e00" <= ch <= "\u9fff" for ch in p.description), name
        example = text.split("示例：\n", 1)[1].splitlines()[0]
        assert example.startswith(f"  guidefund {name}") or "guidefund" in example, name
        assert "退出码：\n  0  " in text, name
        unexplained = [a.dest for a in p._actions if not a.help]
        assert unexplained == [], name
        assert "show this help" not in text and "usage:" not in text, name


def test_the_demo_ends_with_how_to_run_the_next_commands(tmp_path: Path, monkeypatch) -> None:
    """`make demo` installs into .venv/bin, not on the PATH: the hint names that path."""
    import sys

    from guidefund.cli.demo import next_steps

    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    monkeypatch.chdir(tmp_path)
    text = next_steps(Path("guidefund-work"), 2024)
    bin_dir = Path(sys.executable).parent
    assert text.splitlines()[0] == "接下来可以运行："
    assert f"  {bin_dir / 'guidefund'} status --year 2024" in text
    assert (
        text.splitlines()[-1] == f"或先执行 source {bin_dir / 'activate'}，之后直接输入 guidefund …"
    )


def test_the_nightly_console_shows_five_problems_per_file_and_counts_the_rest(capsys) -> None:
    from guidefund.cli.nightly import print_summary

    lines = [f"bad.xlsx 资金情况!C{n} [金额不能为负] 问题 {n}（退回）" for n in range(1, 9)]
    summary = {"run_id": 3, "received": 2, "accepted": 1, "rejected": 1, "duplicate": 0,
               "superseded": 0, "rejected_files": {"bad.xlsx": lines}, "consolidated_findings": [],
               "warnings": 0, "new_alerts": 0, "consolidated_xlsx": "x.xlsx", "data_docs": "d.html"}  # fmt: skip
    print_summary(summary, as_json=False)
    out = capsys.readouterr().out.splitlines()
    assert out[1] == "  退回 bad.xlsx（共 8 条）："
    assert out[2:7] == [f"    {line}" for line in lines[:5]]
    assert out[7] == "    …还有 3 条，全部见 quarantine/ 中的 bad.xlsx.errors.xlsx"
