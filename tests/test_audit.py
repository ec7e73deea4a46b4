"""`guidefund audit FIGURES.csv`: the seed's own slips are found; clean figures pass; bad input
gets a clear answer."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from guidefund.cli import main
from guidefund.evaluate.audit import audit
from guidefund.reference import Reference

HEADER = "indicator,source,target,actual,completion_pct,deviation_pct\n"


def run(tmp_path: Path, figures: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["audit", str(figures), "--workdir", str(tmp_path / "work")])
    out = capsys.readouterr()
    return code, out.out, out.err


def write(tmp_path: Path, body: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / "figures.csv"
    path.write_text(HEADER + body, encoding=encoding)
    return path


def test_the_seeds_statements_hold_its_known_slips(
    tmp_path: Path, ref: Reference, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(tmp_path, ref.year_dir / "stated_figures.csv", capsys)
    assert code == 1
    lines = out.splitlines()
    assert lines == [
        "stated_figures.csv:7 [sources.disagree] 带动社会投入与引导资金投入比例（附件自评表）："
        "实际完成值各处说法不一：附件自评表 写 2.65；正文三(三)、正文四(一) 写 2.64",
        "stated_figures.csv:29 [completion.arithmetic] 培训从事技术创新服务人员数量（正文三(三)）："
        "完成率写 85.87%，但 4203 / 4906 = 85.67%",
        "stated_figures.csv:29 [deviation.arithmetic] 培训从事技术创新服务人员数量（正文三(三)）："
        "偏差率写 14.33%，但 |完成率 85.87% − 100%| = 14.13%；它与按实际值计算的完成率 85.67% 相符",
        "stated_figures.csv:42 [sources.disagree] 培训技术经纪人数量（正文四(一)）："
        "实际完成值各处说法不一：附件自评表、正文三(三) 写 808；正文四(一) 写 165",
        "stated_figures.csv:42 [sources.disagree] 培训技术经纪人数量（正文四(一)）："
        "完成率各处说法不一：正文三(三) 写 678.99；正文四(一) 写 138.66",
        "stated_figures.csv:42 [sources.disagree] 培训技术经纪人数量（正文四(一)）："
        "偏差率各处说法不一：正文三(三) 写 578.99；正文四(一) 写 38.66",
        "共 6 处问题",
    ]


def test_figures_that_differ_only_in_rounding_agree(tmp_path: Path) -> None:
    """2.6 is 2.64 at one place; 2.60 says two places and is not 2.64."""
    rounding = write(tmp_path, "比例,附件,2,2.64,,\n比例,正文,2,2.6,,\n")
    assert audit(rounding) == []
    slip = write(tmp_path, "比例,附件,2,2.64,,\n比例,正文,2,2.60,,\n")
    assert [f.message for f in audit(slip)] == [
        "实际完成值各处说法不一：附件 写 2.64；正文 写 2.60"
    ]


def test_consistent_figures_pass(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Rounded as written: 122/163 = 74.846… is 74.85 at two places and 75 at none."""
    path = write(
        tmp_path,
        "转化科技成果数量,附件,163,122,,\n"
        "转化科技成果数量,正文三,163,122,74.85,25.15\n"
        "转化科技成果数量,正文四,163.0,122,75%,25%\n"
        "资金拨付及时率,正文三,≥90%,100%,111.11,11.11\n",
    )
    code, out, _ = run(tmp_path, path, capsys)
    assert (code, out) == (0, "figures.csv：算术和各处说法一致，未发现问题\n")


def test_a_less_or_equal_target_is_checked_as_target_over_actual(tmp_path: Path) -> None:
    path = write(tmp_path, "安全事故数,正文,≤5,4,125,25\n安全事故数,附件,≤5,4,80,20\n")
    found = audit(path)
    assert [(f.line, f.rule) for f in found] == [
        (3, "completion.arithmetic"),
        (3, "sources.disagree"),
        (3, "sources.disagree"),
    ]
    assert found[0].message == "完成率写 80%，但 5 / 4 = 125%"


def test_the_reference_says_which_way_a_target_points(tmp_path: Path, ref: Reference) -> None:
    path = write(tmp_path, "投诉数量,正文,5,4,125,25\n")
    complaints = dataclasses.replace(ref.targets[1], name="投诉数量", operator="≤")
    assert [f.message for f in audit(path)] == ["完成率写 125%，但 4 / 5 = 80%"]
    assert audit(path, {"投诉数量": complaints}) == []


def test_a_deviation_without_a_stated_completion_is_checked_against_the_figures(
    tmp_path: Path,
) -> None:
    found = audit(write(tmp_path, "转化科技成果数量,正文,163,122,,20\n"))
    assert [f.message for f in found] == ["偏差率写 20%，但 |计算的完成率 74.85% − 100%| = 25.15%"]


def test_a_figure_that_is_not_a_number_is_named_with_its_line_and_column(
    tmp_path: Path, ref: Reference
) -> None:
    found = audit(
        write(tmp_path, "转化科技成果数量,正文,163,一百二十二,,\n转化科技成果数量,附件,163,12O,,\n")
    )
    assert [f.text() for f in found] == [
        "figures.csv:3 [figure.not_number] 转化科技成果数量（附件）：actual 列（实际完成值）“12O”不是数字；请写成如 85.67 或 85.67% 的数"
    ]


def test_a_qualitative_figure_is_compared_as_text(tmp_path: Path, ref: Reference) -> None:
    known = {t.name: t for t in ref.targets}
    body = "区域科技创新能力,附件,稳步提升,稳步提升,,\n区域科技创新能力,正文,稳步提升,部分提升,,\n"
    found = audit(write(tmp_path, body), known)
    assert [f.message for f in found] == [
        "实际完成值各处说法不一：附件 写 稳步提升；正文 写 部分提升"
    ]


def test_a_file_saved_by_excel_in_gb18030_is_read(tmp_path: Path) -> None:
    path = write(tmp_path, "转化科技成果数量,正文,163,122,74.86,25.14\n", encoding="gb18030")
    assert [f.message for f in audit(path)] == ["完成率写 74.86%，但 122 / 163 = 74.85%"]


def test_a_missing_column_cannot_be_audited(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "figures.csv"
    path.write_text(
        "indicator,source,target,actual\n转化科技成果数量,正文,163,122\n", encoding="utf-8"
    )
    code, out, err = run(tmp_path, path, capsys)
    assert (code, out) == (2, "")
    assert err == (
        "guidefund audit: figures.csv 第 1 行：缺少列 completion_pct, deviation_pct；"
        "表头应为 indicator,source,target,actual,completion_pct,deviation_pct（可留空值，不可缺列）\n"
    )


def test_a_missing_file_cannot_be_audited(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(tmp_path, tmp_path / "nope.csv", capsys)
    assert code == 2
    assert err.startswith("guidefund audit: 找不到文件 ")
