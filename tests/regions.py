"""A region's year written as reference files only, in code: another region or a later year
derived from the real 2024 files, with its own plan (a subset, fractional 万元), totals,
project counts, wording and zero targets. Everything a region's files must agree on
(category_budget.csv, region.csv, budget.csv) is recomputed here from the new plan."""

from __future__ import annotations

import csv
import shutil
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from guidefund.settings import PROJECT_ROOT

SEED_DIR = PROJECT_ROOT / "data" / "reference" / "650000" / "2024"
# The seed's own data for the sample generator and the audit: they state the 2024 totals, so a
# derived year leaves them out (they are optional) and gets plausible samples instead.
SEED_ONLY = (
    "sample_totals.csv",
    "sample_cases.csv",
    "sample_reasons.csv",
    "grades.csv",
    "self_scores.csv",
    "stated_figures.csv",
)
# Copied as they are, the seed's reporting calendar would name 2024's periods in another year
# (which `load_reference` refuses); a derived year goes without one (annual only).
NOT_COPIED = (*SEED_ONLY, "reporting_calendar.csv")


@dataclass(frozen=True)
class Region:
    code: str
    name: str
    short: str
    whole: str  # 全区 / 全省 / 全市
    year: int
    every: int  # keep every n-th plan project
    factor: Decimal  # allocations multiplied by this (fractional 万元)
    zero_targets: dict[str, str]  # 三级指标 -> operator for a target of 0


def _read(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        return list(reader.fieldnames or []), list(reader)


def _write(path: Path, header: list[str], rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=header, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def write_region(root: Path, r: Region) -> Path:
    """<root>/<code>/<year>/ for `r`; returns the directory."""
    target = root / r.code / str(r.year)
    shutil.copytree(SEED_DIR, target, ignore=shutil.ignore_patterns("source", *NOT_COPIED))
    header, plan = _read(target / "plan.csv")
    plan = [row for i, row in enumerate(plan) if i % r.every == 0]
    for row in plan:
        row["安排资金（万元）"] = str(Decimal(row["安排资金（万元）"]) * r.factor)
    _write(target / "plan.csv", header, plan)

    money: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    count: dict[tuple[str, ...], int] = defaultdict(int)
    for row in plan:
        cat, kind, mode = row["类别"], row["立项类型"], row["支持方式"]
        money[(cat, kind)] += Decimal(row["安排资金（万元）"])
        count[(cat,)] += 1
        count[(cat, kind)] += 1
        count[(cat, kind, mode)] += 1
        count[(kind,)] += 1
        count[(kind, mode)] += 1
    header, cats = _read(target / "category_budget.csv")
    cats = [c for c in cats if count[(c["类别"],)]]
    for c in cats:
        name = c["类别"]
        carried, new = money[(name, "结转")], money[(name, "新上")]
        c.update({
            "结转（万元）": str(carried), "新上（万元）": str(new), "合计（万元）": str(carried + new),
            "项目数": str(count[(name,)]), "结转项目数": str(count[(name, "结转")]),
            "新上直接补助项目数": str(count[(name, "新上", "直接补助")]),
            "新上后补助项目数": str(count[(name, "新上", "后补助")]),
        })  # fmt: skip
    _write(target / "category_budget.csv", header, cats)

    total = sum(money.values(), Decimal(0))
    header, (region,) = _read(target / "region.csv")
    region.update({
        "地区代码": r.code, "地区": r.name, "地区简称": r.short, "全域称谓": r.whole,
        "年度": str(r.year), "年度金额（万元）": str(total), "中央补助（万元）": str(total),
        "地方资金（万元）": "0", "项目总数": str(len(plan)), "新上项目数": str(count[("新上",)]),
        "结转项目数": str(count[("结转",)]),
        "新上直接补助项目数": str(count[("新上", "直接补助")]),
        "新上后补助项目数": str(count[("新上", "后补助")]),
        "省级财政部门": f"{r.name}财政厅", "省级主管部门": f"{r.name}财政厅、科技厅",
    })  # fmt: skip
    _write(target / "region.csv", header, [region])

    header, lines = _read(target / "budget.csv")
    lines[0]["全年预算数（万元）"] = str(total)
    _write(target / "budget.csv", header, lines)

    header, targets = _read(target / "targets.csv")
    for t in targets:
        if t["三级指标"] in r.zero_targets:
            t.update({"运算符": r.zero_targets[t["三级指标"]], "指标值": "0"})
    _write(target / "targets.csv", header, targets)

    header, texts = _read(target / "report_rules.csv")
    for t in texts:
        if t["键"] == "总体目标":
            t["值"] = f"{r.year} 年度，{r.short}围绕重大科技需求支持四个方面项目。"
    _write(target / "report_rules.csv", header, texts)
    return target
