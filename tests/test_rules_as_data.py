"""Rules are data (issue 11, items 1–3): a later year written as reference files only, with a
field added (and its 三级指标), a field removed and, mid-year, a plan amendment, runs nightly →
year-end on one warehouse with no code or migration; every figure is checked against the
sample workbooks themselves, opened here with openpyxl."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import create_engine, text

from guidefund.reference import Reference, load_reference
from tests.conftest import REFERENCE_DIR
from tests.workbooks import set_cell
from tests.yearbuild import add_field, add_target, amend_plan, copy_year, read_csv, remove_field

pytestmark = pytest.mark.prefect

YEAR = 2025
PATENTS = {"键": "patents", "工作表": "绩效指标", "标签": "授权发明专利", "单元格": "C16",
           "类型": "int", "必填": "是", "预填": "", "下限": "0", "上限": "", "单位": "件",
           "填报要求": "本项目获得授权的发明专利数", "可选值": ""}  # fmt: skip
PATENTS_SPREAD = {"字段": "patents", "口径": "sum", "合计": "150", "参与项目": "全部", "权重": "",
                  "上限": "", "出处": "测试：新增字段"}  # fmt: skip
PATENTS_TARGET = {"序号": "19", "一级指标": "产出指标", "二级指标": "数量指标",
                  "三级指标": "授权发明专利数量", "运算符": "≥", "指标值": "120", "单位": "件",
                  "聚合规则": "sum", "字段": "patents", "分母字段": "", "条件": "",
                  "小数位": "0"}  # fmt: skip
REMOVED_FIELD, REMOVED_INDICATOR = "brokers", "培训技术经纪人数量"
REMOVED, LOWER, HIGHER = 7, 31, 32  # plan amendment: 7 removed, 16 万元 from 31 to 32
CHANGED_PROJECT, CHANGE = 46, 7  # the resubmission: 46 reports 7 more patents


def _cells(path: Path, sheet: str, cell: str) -> Any:
    return load_workbook(path, read_only=True)[sheet][cell].value


@cache
def _indicator_cells(path: Path) -> dict[str, Decimal]:
    """转化科技成果数量 (C4) and 授权发明专利 (C16) of one workbook, as the test reads them."""
    ws = load_workbook(path, read_only=True)["绩效指标"]
    return {cell: Decimal(str(ws[cell].value)) for cell in ("C4", "C16")}


def _total(files: list[Path], cell: str) -> Decimal:
    """A 绩效指标 cell summed over workbooks (not read as guidefund reads them)."""
    return sum((_indicator_cells(p)[cell] for p in files), Decimal(0))


def _selfeval_actual(reports: Path, indicator: str) -> str | None:
    """The 全年实际完成值 the written 自评表 shows for `indicator` (None: no such row)."""
    ws = load_workbook(reports / f"自评表_新疆_{YEAR}.xlsx")["区域绩效目标自评表"]
    for row in ws.iter_rows(values_only=True):
        if row[3] == indicator:
            return str(row[5])
    return None


@dataclass
class Year:
    ref: Reference
    workdir: Path
    samples: list[Path]
    first: Any
    first_end: Any
    first_patents: str | None
    amended: Any
    amended_end: Any
    resubmitted: Any
    resubmitted_end: Any
    names: dict[int, str]


@pytest.fixture(scope="module")
def later_year(tmp_path_factory: pytest.TempPathFactory, prefect_harness: None) -> Iterator[Year]:
    from guidefund.flows.nightly import nightly_consolidation
    from guidefund.flows.year_end import year_end_aggregation
    from guidefund.intake.samples import write_samples

    tmp = tmp_path_factory.mktemp("later-year")
    root = tmp / "reference"
    year_dir = copy_year(REFERENCE_DIR / "650000" / "2024", root, YEAR)
    add_field(year_dir, PATENTS, PATENTS_SPREAD)
    add_target(year_dir, PATENTS_TARGET)
    remove_field(year_dir, REMOVED_FIELD)
    ref = load_reference(root, YEAR)
    samples = write_samples(ref, tmp / "samples", seed=2024)
    workdir = tmp / "work"
    shutil.copytree(tmp / "samples", workdir / "inbox")
    names = {int(r["序号"]): r["项目名称"] for r in read_csv(year_dir / "plan.csv")}
    with pytest.MonkeyPatch.context() as env:
        env.setenv("GUIDEFUND_REFERENCE_DIR", str(root))
        env.delenv("GUIDEFUND_WAREHOUSE_URL", raising=False)

        def night_and_year_end() -> tuple[Any, Any]:
            night = nightly_consolidation(year=YEAR, workdir=str(workdir))
            return night, year_end_aggregation(year=YEAR, workdir=str(workdir))

        first, first_end = night_and_year_end()
        first_patents = _selfeval_actual(workdir / "reports", PATENTS_TARGET["三级指标"])
        amend_plan(year_dir, {REMOVED}, {LOWER: Decimal(200), HIGHER: Decimal(316)})
        amended, amended_end = night_and_year_end()
        [mine] = [p for p in samples if p.name.startswith(f"{CHANGED_PROJECT:03d}_")]
        again = workdir / "inbox" / f"{mine.stem}_更正.xlsx"
        shutil.copy(mine, again)
        set_cell(again, "绩效指标", "C16", _cells(mine, "绩效指标", "C16") + CHANGE)
        resubmitted, resubmitted_end = night_and_year_end()
    yield Year(ref, workdir, samples, first, first_end, first_patents, amended, amended_end,
               resubmitted, resubmitted_end, names)  # fmt: skip


def _by_name(year_end: Any) -> dict[str, Any]:
    return {r.indicator: r for r in year_end.results}


def test_a_year_with_an_added_and_a_removed_field_is_consolidated_whole(later_year: Year) -> None:
    """The removed field has no expectation (no crash), every file is accepted, and the new
    field is stored for every submission."""
    y = later_year
    assert (y.first.received, y.first.accepted, y.first.rejected) == (136, 136, 0)
    engine = create_engine(f"sqlite:///{y.workdir / 'warehouse.sqlite'}")
    with engine.connect() as conn:
        stored = dict(conn.execute(text(
            "select field_key, count(*) from field_value where year = :y group by field_key"
        ), {"y": YEAR}).all())  # fmt: skip
    engine.dispose()
    assert stored["patents"] == 137  # 136 files and the resubmission of project 46
    assert REMOVED_FIELD not in stored


def test_the_added_indicator_is_the_sum_of_the_new_cells(later_year: Year) -> None:
    y = later_year
    expected = _total(y.samples, "C16")
    row = _by_name(y.first_end)[PATENTS_TARGET["三级指标"]]

    assert expected == Decimal(PATENTS_SPREAD["合计"])  # the samples spread the stated total
    assert (row.target, row.actual) == (Decimal(120), expected)
    assert row.completion_pct == Decimal("125.00")  # 150 / 120
    assert y.first_patents == f"{expected} 件"
    assert REMOVED_INDICATOR not in _by_name(y.first_end)


def test_the_amendment_is_listed_and_the_removed_project_no_longer_counts(
    later_year: Year,
) -> None:
    y = later_year
    assert y.amended.plan_changes == [
        "资金安排计划第 2 版：新增 0 个、删除 1 个、调整 2 个项目",
        f"  删除 序号{REMOVED} {y.names[REMOVED]}（安排资金 0 万元）",
        f"  调整 序号{LOWER} {y.names[LOWER]}：安排资金（万元） 216 → 200",
        f"  调整 序号{HIGHER} {y.names[HIGHER]}：安排资金（万元） 300 → 316",
    ]
    assert y.first.plan_changes == ["资金安排计划第 1 版：136 个项目"]
    assert y.amended_end.plan_changes == [] and y.resubmitted.plan_changes == []
    kept = [p for p in y.samples if not p.name.startswith(f"{REMOVED:03d}_")]
    for cell, indicator in (("C16", PATENTS_TARGET["三级指标"]), ("C4", "转化科技成果数量")):
        assert _by_name(y.amended_end)[indicator].actual == _total(kept, cell), indicator
        assert _by_name(y.first_end)[indicator].actual == _total(y.samples, cell), indicator
    groups = {g.group: g for g in y.amended_end.figures.groups["类别"]}
    assert (groups["区域科技创新体系建设"].projects, groups["合计"].projects) == (9, 135)
    assert groups["合计"].allocation == Decimal("11087")
    assert y.amended_end.figures.complete


def test_one_changed_cell_moves_the_self_evaluation_table_by_exactly_that_amount(
    later_year: Year,
) -> None:
    y = later_year
    indicator = PATENTS_TARGET["三级指标"]
    before = _by_name(y.amended_end)[indicator].actual
    after = _by_name(y.resubmitted_end)[indicator].actual

    assert (y.resubmitted.accepted, y.resubmitted.superseded) == (1, 1)
    assert after - before == CHANGE
    assert _selfeval_actual(y.workdir / "reports", indicator) == f"{after} 件"
    unchanged = {n: r.actual for n, r in _by_name(y.amended_end).items() if n != indicator}
    assert {n: r.actual for n, r in _by_name(y.resubmitted_end).items() if n != indicator} == (
        unchanged
    )
