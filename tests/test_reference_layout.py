"""Regions and years as reference files (issue 11): the layout <root>/<region>/<year>/ and the
older <root>/<year>/, the year from the calendar, `guidefund reference check` (exit 0/1/2) and
`guidefund reference new`."""

from __future__ import annotations

import csv
import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from guidefund.cli import main
from guidefund.reference import (
    PENDING,
    ReferenceError,
    closed_year,
    load_reference,
    plan_year,
)

from .regions import SEED_DIR, Region, write_region

GANSU = Region("620000", "甘肃省", "甘肃", "全省", 2024, 17, Decimal("0.75"), {})


def _edit(path: Path, **changes: str) -> None:
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        header, rows = list(reader.fieldnames or []), list(reader)
    rows[0].update(changes)
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=header, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """新疆 2024 in the new layout, 甘肃 2024 beside it, and 新疆 2026 in the older layout."""
    root = tmp_path / "reference"
    shutil.copytree(SEED_DIR, root / "650000" / "2024")
    write_region(root, GANSU)
    shutil.copytree(
        SEED_DIR, root / "2026", ignore=shutil.ignore_patterns("reporting_calendar.csv")
    )
    _edit(root / "2026" / "region.csv", 年度="2026")
    return root


def test_both_layouts_are_read_and_a_shared_year_needs_its_region(root: Path) -> None:
    assert load_reference(root, 2024, "620000").annual_amount == Decimal("339.00")
    assert load_reference(root, 2024, "650000").annual_amount == Decimal("11087")
    old = load_reference(root, 2026)  # <root>/2026/, its region named by its region.csv
    assert (old.region_code, old.year_dir) == ("650000", (root / "2026").resolve())
    assert load_reference(root, 2026, "650000").year == 2026
    with pytest.raises(ReferenceError) as err:
        load_reference(root, 2024)
    assert err.value.problems == [
        "有多个地区的 2024 年度参考数据（620000、650000）：请用 --region 指定地区"
    ]
    with pytest.raises(ReferenceError) as err:
        load_reference(root, 2025, "620000")
    assert err.value.problems == ["没有地区 620000 的 2025 年度参考数据目录（该地区已有：2024）"]


def test_a_region_folder_must_hold_that_regions_files(root: Path) -> None:
    shutil.copytree(SEED_DIR, root / "640000" / "2024")
    with pytest.raises(ReferenceError) as err:
        load_reference(root, 2024, "640000")
    assert err.value.problems == ["region.csv 的地区代码为 650000，目录为 640000"]


def test_the_plan_year_follows_the_calendar_and_the_reference_data_present(root: Path) -> None:
    (root / "650000" / "2025").mkdir()  # a year folder counts once it is there
    on = lambda *d: plan_year(root, "650000", date(*d))  # noqa: E731
    assert on(2024, 6, 1) == 2024
    assert on(2025, 1, 31) == 2024  # 2024's annual reports are due until 31 January
    assert on(2025, 2, 1) == 2025
    assert on(2030, 5, 1) == 2026  # the latest year present (2026, older layout)
    assert on(2020, 5, 1) == 2024  # before any: the earliest
    assert plan_year(root, "650000", date(2025, 2, 10), date(2025, 2, 15)) == 2024
    assert plan_year(root, "620000", date(2030, 1, 1)) == 2024
    assert closed_year(root, "650000", date(2024, 12, 31)) == 2024  # the scheduled 31 Dec run
    assert closed_year(root, "650000", date(2025, 12, 30)) == 2024
    assert closed_year(root, "650000", date(2026, 2, 1)) == 2025
    with pytest.raises(ReferenceError):
        closed_year(root, "620000", date(2024, 6, 1))


def test_reference_check_exits_0_when_sound_and_names_the_optional_files_absent(
    root: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GUIDEFUND_REFERENCE_DIR", str(root))
    assert main(["reference", "check", "--region", "620000", "--year", "2024"]) == 0
    out = capsys.readouterr().out
    assert "甘肃省（620000）2024 年度参考数据可以读取：计划项目 8 个，年度金额 339.00 万元" in out
    assert (
        "未提供的可选文件：self_scores.csv、indicator_weights.csv、sample_totals.csv、"
        "sample_cases.csv、sample_reasons.csv、grades.csv"
    ) in out


def test_reference_check_warns_of_a_text_naming_another_year_with_exit_1(
    root: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = root / "620000" / "2024" / "report_rules.csv"
    rules.write_text(
        rules.read_text("utf-8").replace("2024 年度，甘肃", "2023 年度，甘肃"), "utf-8"
    )
    monkeypatch.setenv("GUIDEFUND_REFERENCE_DIR", str(root))
    assert main(["reference", "check", "--region", "620000", "--year", "2024"]) == 1
    assert (
        "请核对：report_rules.csv 总体目标：文中写的是 2023 年，本目录为 2024 年度"
        in capsys.readouterr().out
    )


def test_reference_check_refuses_a_budget_that_does_not_add_up_to_the_region_with_exit_2(
    root: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # budget.csv copied from 2024 unchanged: the old total
    shutil.copy(SEED_DIR / "budget.csv", root / "620000" / "2024" / "budget.csv")
    monkeypatch.setenv("GUIDEFUND_REFERENCE_DIR", str(root))
    assert main(["reference", "check", "--region", "620000", "--year", "2024"]) == 2
    err = capsys.readouterr().err
    assert "budget.csv 全年预算数合计 11087 与 region.csv 年度金额 339.00 不符" in err


def test_a_target_on_a_text_field_is_refused(root: Path) -> None:
    targets = root / "620000" / "2024" / "targets.csv"
    targets.write_text(targets.read_text("utf-8").replace(",brokers,", ",contact,"), "utf-8")
    with pytest.raises(ReferenceError) as err:
        load_reference(root, 2024, "620000")
    assert (
        "targets.csv 培训技术经纪人数量: 字段 'contact' 的类型为 text，sum 规则需要数值字段（int/money/pct/yesno）"
        in err.value.problems
    )


def test_reference_new_copies_what_carries_over_and_leaves_the_rest_pending(
    root: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GUIDEFUND_REFERENCE_DIR", str(root))
    args = ["reference", "new", "--region", "650000", "--year", "2025", "--from", "2024"]
    assert main(args) == 0
    new = root / "650000" / "2025"
    for name in ("template_fields.csv", "units.csv", "scoring.csv", "qualitative_bands.csv"):
        assert (new / name).read_bytes() == (SEED_DIR / name).read_bytes()
    assert not (new / "sample_totals.csv").exists()
    plan = (new / "plan.csv").read_text("utf-8").splitlines()
    assert plan[0] == (SEED_DIR / "plan.csv").read_text("utf-8").splitlines()[0]
    assert plan[1:] == [",".join([PENDING] * len(plan[0].split(",")))]
    with (new / "targets.csv").open(encoding="utf-8") as f:
        targets = list(csv.DictReader(f))
    assert len(targets) == 18 and {t["指标值"] for t in targets} == {PENDING}
    with (new / "region.csv").open(encoding="utf-8") as f:
        (region,) = list(csv.DictReader(f))
    assert (region["地区代码"], region["年度"], region["地区"]) == (
        "650000",
        "2025",
        "新疆维吾尔自治区",
    )
    assert region["年度金额（万元）"] == PENDING
    with (new / "report_rules.csv").open(encoding="utf-8") as f:
        texts = {r["键"]: r["值"] for r in csv.DictReader(f)}
    assert texts["总体目标"] == PENDING  # it named 2024
    assert texts["注1"] == "该表由省级主管部门填报。"  # carries over
    with (new / "reporting_calendar.csv").open(encoding="utf-8") as f:
        calendar = {r["报告期"]: (r["类型"], r["截止日期"]) for r in csv.DictReader(f)}
    assert calendar["2025-06"] == ("运行监控", "2025-07-10")  # the 2024 calendar, a year on
    assert calendar["2025"] == ("年报", "2026-01-31")
    assert len(calendar) == 13

    capsys.readouterr()
    assert main(["reference", "check", "--region", "650000", "--year", "2025"]) == 2
    err = capsys.readouterr().err
    assert (
        f"plan.csv 第 2 行：序号、项目名称、申报单位、类别、立项类型、支持方式、安排资金（万元）、支持方式依据 仍为{PENDING}"
        in err
    )
    assert f"targets.csv 第 2 行：指标值 仍为{PENDING}" in err
    assert main(args) == 2  # an existing year is never overwritten


def test_reference_new_for_another_region_leaves_its_own_names_and_units_pending(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GUIDEFUND_REFERENCE_DIR", str(root))
    args = ["reference", "new", "--region", "630000", "--year", "2025", "--from", "2024"]
    assert main(args) == 2  # 2024 exists for two regions and none is 630000: which one?
    shutil.rmtree(root / "620000")
    assert main(args) == 0
    new = root / "630000" / "2025"
    with (new / "region.csv").open(encoding="utf-8") as f:
        (region,) = list(csv.DictReader(f))
    assert (region["地区代码"], region["地区"], region["全域称谓"]) == ("630000", PENDING, PENDING)
    assert (new / "units.csv").read_text("utf-8").splitlines()[1] == f"{PENDING},{PENDING}"
