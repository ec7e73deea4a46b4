"""The year's figures as data files: the indicator table as JSON and CSV, and every figure,
score and breakdown in long form (figures.csv, figures.json)."""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from guidefund.cells import csv_row
from guidefund.evaluate.figures import Figures
from guidefund.evaluate.scores import score_text
from guidefund.numbers import plain
from guidefund.records import TOTAL, BudgetRow, IndicatorResult
from guidefund.reports.text import (
    BUDGET_HEADER,
    COLUMNS,
    budget_lines,
    indicators_json,
    table_rows,
    target_cell,
)


def write_json(path: Path, fig: Figures) -> Path:
    data = indicators_json(fig.results, fig.planned, fig.missing)
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return path


def write_csv(path: Path, fig: Figures) -> Path:
    """The 自评表 as CSV: the budget block, then the indicator table; while projects are missing
    the first line says so and the last lines list them."""
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        if not fig.complete:
            w.writerow(csv_row([fig.status, "表中数字只含已提交项目"]))
            w.writerow([])
        _csv_tables(w, fig.results, fig.budget)
        if not fig.complete:
            w.writerow([])
            w.writerow(csv_row(["未计入的项目（序号）", "项目名称", "承担单位", "状态"]))
            w.writerows(csv_row([p.no, p.name, p.unit, p.state]) for p in fig.missing)
    return path


def _csv_tables(w: Any, results: Sequence[IndicatorResult], budget: Sequence[BudgetRow]) -> None:
    w.writerow(csv_row(BUDGET_HEADER))
    w.writerows(csv_row(r) for r in budget_lines(budget))
    w.writerow([])
    w.writerow(csv_row(COLUMNS))
    w.writerows(csv_row(r) for r in table_rows(results))


def figures_rows(fig: Figures) -> list[list[str]]:
    """The same figures in long form (表, 对象, 项目, 值, 单位): one figure per row, exact text."""
    rows: list[list[str]] = []
    for b in fig.budget:
        rows += [["预算", b.source, "全年预算数", plain(b.budget), "万元"],
                 ["预算", b.source, "全年执行数", plain(b.executed), "万元"],
                 ["预算", b.source, "预算执行率", plain(b.rate_pct), "%"]]  # fmt: skip
    for r in fig.results:
        rows += [["指标", r.indicator, "指标值", target_cell(r), ""],
                 ["指标", r.indicator, "全年实际完成值", r.actual_text, r.unit],
                 ["指标", r.indicator, "完成率", plain(r.completion_pct), "%"],
                 ["指标", r.indicator, "偏差率", plain(r.deviation_pct), "%"],
                 ["指标", r.indicator, "需说明", "是" if r.needs_explanation else "否", ""]]  # fmt: skip
    for p in fig.scores.parts:
        rows += [["得分", p.part, "满分", plain(p.points), "分"],
                 ["得分", p.part, "得分", score_text(p.score), "分"],
                 ["得分", p.part, "自评得分", plain(p.self_score), "分"],
                 ["得分", p.part, "计算式", p.formula, ""]]  # fmt: skip
    rows += [["得分", TOTAL, "得分", score_text(fig.scores.total), "分"],
             ["得分", TOTAL, "等级", fig.scores.grade, ""],
             ["得分", TOTAL, "自评得分", plain(fig.scores.self_total), "分"]]  # fmt: skip
    for by, groups in fig.groups.items():
        for g in groups:
            rows += [[by, g.group, "项目数", str(g.projects), "个"],
                     [by, g.group, "已报项目数", str(g.submitted), "个"],
                     [by, g.group, "安排资金", plain(g.allocation), "万元"],
                     [by, g.group, "实际支出", plain(g.spent), "万元"],
                     [by, g.group, "执行率", plain(g.execution_pct), "%"]]  # fmt: skip
    for direction, counts in fig.grades.items():
        rows += [["等级分布", direction, grade, str(n), "个"] for grade, n in counts.items()]
    return rows


def write_figures(out: Path, fig: Figures) -> list[Path]:
    """figures.json and figures.csv (UTF-8 with BOM, so Excel opens the Chinese right)."""
    js = out / "figures.json"
    js.write_text(json.dumps(fig.as_json(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    cs = out / "figures.csv"
    with cs.open("w", newline="", encoding="utf-8-sig") as f:
        w = csv.writer(f)
        w.writerow(["表", "对象", "项目", "值", "单位"])
        w.writerows(csv_row(r) for r in figures_rows(fig))
    return [cs, js]
