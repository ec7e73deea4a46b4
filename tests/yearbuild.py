"""Build a year's reference files in code: copy data/reference/2024 and edit it as a person
would (a field added with its indicator, a field removed, a plan amended), with the totals of
category_budget.csv and region.csv restated from the plan. Only CSV edits; nothing here calls
guidefund except to load the result back."""

from __future__ import annotations

import csv
import shutil
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from pathlib import Path

Row = dict[str, str]


def read_csv(path: Path) -> list[Row]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def edit_csv(path: Path, change: Callable[[list[Row]], Iterable[Row]]) -> None:
    """Rewrite `path` with `change(rows)`, keeping its columns."""
    with path.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        columns, rows = list(reader.fieldnames or []), list(reader)
    new = list(change(rows))
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(new)


def copy_year(source: Path, root: Path, year: int) -> Path:
    """<root>/<year>/ as a copy of the year directory `source`, its region.csv naming `year`
    (without its reporting calendar, which names the source year's periods)."""
    target = root / str(year)
    shutil.copytree(
        source, target, ignore=shutil.ignore_patterns("source", "reporting_calendar.csv")
    )

    def name_year(rows: list[Row]) -> list[Row]:
        rows[0]["年度"] = str(year)
        return rows

    edit_csv(target / "region.csv", name_year)
    return target


def add_field(year_dir: Path, field: Mapping[str, str], spread: Mapping[str, str]) -> None:
    """A new row of template_fields.csv, and how the samples spread its total."""
    edit_csv(year_dir / "template_fields.csv", lambda rows: [*rows, {**field}])
    edit_csv(year_dir / "sample_totals.csv", lambda rows: [*rows, {**spread}])


def add_target(year_dir: Path, target: Mapping[str, str]) -> None:
    edit_csv(year_dir / "targets.csv", lambda rows: [*rows, {**target}])


def remove_field(year_dir: Path, key: str) -> None:
    """The field gone from the template, with its indicator and every rule naming it."""
    edit_csv(year_dir / "template_fields.csv", lambda rows: [r for r in rows if r["键"] != key])
    edit_csv(year_dir / "targets.csv", lambda rows: [r for r in rows if r["字段"] != key])
    edit_csv(year_dir / "sample_totals.csv", lambda rows: [r for r in rows if r["字段"] != key])
    edit_csv(year_dir / "sample_cases.csv", lambda rows: [r for r in rows if r["字段"] != key])

    def outliers(rows: list[Row]) -> list[Row]:
        for r in rows:
            if (r["规则"], r["参数"]) == ("indicator_outlier", "字段"):
                r["值"] = ";".join(k for k in r["值"].split(";") if k != key)
        return rows

    edit_csv(year_dir / "warning_rules.csv", outliers)


def amend_plan(year_dir: Path, remove: set[int], allocations: Mapping[int, Decimal]) -> None:
    """A 调整 of plan.csv: projects removed and allocations changed; category_budget.csv and
    region.csv restated from the amended plan."""

    def amended(rows: list[Row]) -> list[Row]:
        kept = [r for r in rows if int(r["序号"]) not in remove]
        for r in kept:
            if int(r["序号"]) in allocations:
                r["安排资金（万元）"] = str(allocations[int(r["序号"])])
        return kept

    edit_csv(year_dir / "plan.csv", amended)
    plan = read_csv(year_dir / "plan.csv")

    def money(rows: Iterable[Row]) -> Decimal:
        return sum((Decimal(r["安排资金（万元）"]) for r in rows), Decimal(0))

    def restated(rows: list[Row]) -> list[Row]:
        for r in rows:
            mine = [p for p in plan if p["类别"] == r["类别"]]
            carried = [p for p in mine if p["立项类型"] == "结转"]
            new = [p for p in mine if p["立项类型"] == "新上"]
            r.update({
                "结转（万元）": str(money(carried)), "新上（万元）": str(money(new)),
                "合计（万元）": str(money(mine)), "项目数": str(len(mine)),
                "结转项目数": str(len(carried)),
                "新上直接补助项目数": str(sum(p["支持方式"] == "直接补助" for p in new)),
                "新上后补助项目数": str(sum(p["支持方式"] == "后补助" for p in new)),
            })  # fmt: skip
        return rows

    edit_csv(year_dir / "category_budget.csv", restated)

    def region(rows: list[Row]) -> list[Row]:
        new = [p for p in plan if p["立项类型"] == "新上"]
        total = money(plan)
        rows[0].update({
            "年度金额（万元）": str(total),
            "中央补助（万元）": str(total - Decimal(rows[0]["地方资金（万元）"])),
            "项目总数": str(len(plan)), "新上项目数": str(len(new)),
            "结转项目数": str(len(plan) - len(new)),
            "新上直接补助项目数": str(sum(p["支持方式"] == "直接补助" for p in new)),
            "新上后补助项目数": str(sum(p["支持方式"] == "后补助" for p in new)),
        })  # fmt: skip
        return rows

    edit_csv(year_dir / "region.csv", region)
