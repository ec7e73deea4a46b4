"""The self-evaluation table (区域绩效目标自评表) as text, .xlsx, .csv and JSON, and the year's
figures (indicators, scores, breakdowns) as CSV and JSON.

Every figure comes from the indicator results and Figures computed once; writers only lay out.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.worksheet.worksheet import Worksheet

from flows.breakdown import Figures
from flows.indicators import BudgetRow, IndicatorResult, plain
from flows.reference import Reference
from flows.scores import compute_scores, render_scores, score_text

COLUMNS = (
    "一级指标",
    "二级指标",
    "三级指标",
    "指标值",
    "全年实际完成值",
    "完成率",
    "偏差率",
    "需说明",
)
BUDGET_HEADER = ["资金情况（万元）", "全年预算数（A）", "全年执行数（B）", "预算执行率（B/A）"]
NO_REASON = "单位未说明原因，请补充原因和改进措施"
_THIN = Side(style="thin")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_WRAP = Alignment(vertical="center", wrap_text=True)
_CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)


def pct(value: Decimal | None) -> str:
    return "" if value is None else f"{value}%"


def with_unit(text: str, unit: str) -> str:
    if not text or text == "—" or not text[0].isdigit():
        return text
    return f"{text}{unit}" if unit == "%" else f"{text} {unit}".rstrip()


def target_cell(r: IndicatorResult) -> str:
    """'≥39 个' for a numeric target; a qualitative or missing target as written ('稳步提升', '—')."""
    shown = with_unit(r.target_text, r.unit)
    return f"{r.operator}{shown}" if r.target is not None else shown


def actual_cell(r: IndicatorResult) -> str:
    """全年实际完成值 as the attachment writes it: '2172 万元', '100%', '稳步提升'."""
    if r.rule == "qualitative" or r.actual is None:
        return r.actual_text
    return with_unit(plain(r.actual), r.unit)


def table_rows(results: Sequence[IndicatorResult]) -> list[list[str]]:
    return [
        [
            r.level1,
            r.level2,
            r.indicator,
            target_cell(r),
            with_unit(r.actual_text, r.unit),
            pct(r.completion_pct),
            pct(r.deviation_pct),
            "是" if r.needs_explanation else "",
        ]
        for r in results
    ]


def budget_lines(rows: Sequence[BudgetRow]) -> list[list[str]]:
    return [[r.source, f"{r.budget}", f"{r.executed}", pct(r.rate_pct)] for r in rows]


def render_text(
    ref: Reference, results: Sequence[IndicatorResult], budget: Sequence[BudgetRow]
) -> str:
    """The table printed by `guidefund demo`, `year-end` and `indicators`, then the scores with
    their formulas (computed here from the same figures, so every caller prints them)."""
    out = [f"{ref.fund_name}区域绩效目标自评表（{ref.year} 年度，{ref.region_name}）", ""]
    out.append(_grid(BUDGET_HEADER, budget_lines(budget)))
    out.append("")
    out.append(_grid(list(COLUMNS), table_rows(results)))
    out.append("")
    out.append(render_scores(compute_scores(ref, results, budget)))
    return "\n".join(out)


def _width(text: str) -> int:
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


def _grid(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(_width(str(row[i])) for row in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        return "  ".join(
            str(c) + " " * (w - _width(str(c))) for c, w in zip(cells, widths, strict=True)
        ).rstrip()

    return "\n".join([line(header), line(["-" * w for w in widths]), *(line(r) for r in rows)])


def indicators_json(results: Sequence[IndicatorResult]) -> list[dict[str, object]]:
    return [r.as_json() for r in results]


def write_json(path: Path, results: Sequence[IndicatorResult]) -> Path:
    path.write_text(
        json.dumps(indicators_json(results), ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    return path


def write_csv(path: Path, results: Sequence[IndicatorResult], budget: Sequence[BudgetRow]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(BUDGET_HEADER)
        w.writerows(budget_lines(budget))
        w.writerow([])
        w.writerow(COLUMNS)
        w.writerows(table_rows(results))
    return path


def reason_cell(fig: Figures, r: IndicatorResult) -> str:
    """未完成原因和改进措施: the units' reasons gathered under the indicator, when it needs one."""
    if not r.needs_explanation:
        return ""
    lines = [x.line() for x in fig.reasons.get(r.no, [])]
    return "\n".join(lines) if lines else NO_REASON


def summary_text(fig: Figures) -> str:
    """全年实际完成情况: the year in figures, for the 自评表 and the report."""
    scored = [r for r in fig.results if r.completion_pct is not None]
    missed = [r.indicator for r in scored if r.completion_pct < 100]  # type: ignore[operator]
    over = [r for r in scored if r.completion_pct >= fig.explain_over_pct]  # type: ignore[operator]
    total, region = fig.budget[0], fig.groups["类别"][-1]
    return (
        f"{fig.ref.year} 年度共支持项目 {region.projects} 个，全年执行 {plain(total.executed)} 万元，"
        f"预算执行率 {plain(total.rate_pct)}%。{len(scored)} 项有指标值的指标中，"
        f"{len(scored) - len(missed)} 项达到指标值，{len(missed)} 项未达到"
        f"{'（' + '、'.join(missed) + '）' if missed else ''}，{len(over)} 项超过指标值 "
        f"{plain(fig.explain_over_pct - 100)}% 及以上。按财预〔2020〕10号计分 "
        f"{score_text(fig.scores.total)} 分，等级“{fig.scores.grade}”。"
    )


def write_xlsx(path: Path, fig: Figures) -> Path:
    """The 自评表 in the attachment's layout, six columns, printable on one A4 page width."""
    ref = fig.ref
    wb = Workbook()
    ws = wb.active
    ws.title = "区域绩效目标自评表"
    ws.append([f"{ref.fund_name}区域绩效目标自评表"])
    ws.append([f"（{ref.year} 年度）"])
    for label, key, default in (
        ("项目名称", "", ref.fund_name),
        ("中央主管部门", "中央主管部门", ""),
        ("地方主管部门", "地方主管部门", ""),
    ):
        ws.append([label, fig.text(key, default) if key else default])
        ws.merge_cells(start_row=ws.max_row, start_column=2, end_row=ws.max_row, end_column=6)
    ws.append(BUDGET_HEADER)
    for r in fig.budget:
        ws.append(
            [r.source, r.budget, r.executed, None if r.rate_pct is None else r.rate_pct / 100]
        )
        ws.cell(ws.max_row, 2).number_format = ws.cell(ws.max_row, 3).number_format = "#,##0.00"
        ws.cell(ws.max_row, 4).number_format = "0.00%"
    goal = ws.max_row + 1
    ws.append(["总体目标完成情况", "总体目标", None, "全年实际完成情况"])
    ws.append([None, fig.text("总体目标"), None, summary_text(fig)])
    ws.merge_cells(start_row=goal, start_column=1, end_row=goal + 1, end_column=1)
    for row in (goal, goal + 1):
        ws.merge_cells(start_row=row, start_column=2, end_row=row, end_column=3)
        ws.merge_cells(start_row=row, start_column=4, end_row=row, end_column=6)
    ws.row_dimensions[goal + 1].height = _height(fig.text("总体目标"), 30)
    ws.append(
        ["一级指标", "二级指标", "三级指标", "指标值", "全年实际完成值", "未完成原因和改进措施"]
    )
    header = ws.max_row
    for r in fig.results:
        reason = reason_cell(fig, r)
        ws.append(
            [
                r.level1,
                r.level2,
                r.indicator,
                target_cell(r),
                actual_cell(r),
                reason,
            ]
        )
        ws.row_dimensions[ws.max_row].height = max(_height(r.indicator, 17), _height(reason, 20))
    last = ws.max_row
    _merge_runs(ws, header + 1, last, 1)
    _merge_runs(ws, header + 1, last, 2)
    ws.append(["说明", fig.text("说明", "无。")])
    ws.merge_cells(start_row=ws.max_row, start_column=2, end_row=ws.max_row, end_column=6)
    table_end = ws.max_row
    notes = [fig.text(f"注{i}") for i in range(1, 10) if fig.text(f"注{i}")]
    if notes:
        ws.append(["注："])
    for i, note in enumerate(notes, 1):
        ws.append([f"{i}. {note}"])
        ws.merge_cells(start_row=ws.max_row, start_column=1, end_row=ws.max_row, end_column=6)
        ws.row_dimensions[ws.max_row].height = _height(note, 60)
    _style(ws, table_end, header)
    wb.save(path)
    return path


def _height(text: str, chars_per_line: int) -> float:
    """Row height (points) for wrapped text: openpyxl cannot auto-fit, Excel does not for merges."""
    lines = sum(max(1, math.ceil(len(part) / chars_per_line)) for part in text.split("\n"))
    return 15.0 * max(lines, 1) + 3


def _style(ws: Worksheet, table_end: int, header: int) -> None:
    for row in ws.iter_rows(min_row=3, max_row=table_end, max_col=6):
        for cell in row:
            cell.border = _BOX
            cell.alignment = _WRAP
    for row in ws.iter_rows(min_row=table_end + 1, max_row=ws.max_row, max_col=6):
        for cell in row:
            cell.alignment = Alignment(vertical="top", wrap_text=True)
    for cell in ws[header]:
        cell.font = Font(bold=True)
        cell.alignment = _CENTER
    ws.merge_cells("A1:F1")
    ws.merge_cells("A2:F2")
    ws["A1"].font = Font(bold=True, size=14)
    ws["A1"].alignment = ws["A2"].alignment = _CENTER
    for col, width in zip("ABCDEF", (12, 14, 30, 13, 15, 36), strict=True):
        ws.column_dimensions[col].width = width
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "portrait"
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0  # as many pages down as needed, one page across
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.print_title_rows = f"{header}:{header}"


def _merge_runs(ws: Worksheet, first: int, last: int, col: int) -> None:
    """Merge runs of equal values down a column, as the attachment does for 一级/二级指标."""
    start = first
    for row in range(first + 1, last + 2):
        value = ws.cell(row, col).value if row <= last else object()
        if value != ws.cell(start, col).value:
            if row - 1 > start:
                ws.merge_cells(start_row=start, start_column=col, end_row=row - 1, end_column=col)
            start = row


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
    rows += [["得分", "合计", "得分", score_text(fig.scores.total), "分"],
             ["得分", "合计", "等级", fig.scores.grade, ""],
             ["得分", "合计", "自评得分", plain(fig.scores.self_total), "分"]]  # fmt: skip
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
        w.writerows(figures_rows(fig))
    return [cs, js]
