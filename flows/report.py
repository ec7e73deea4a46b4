"""The self-evaluation table (区域绩效目标自评表) as text, .xlsx, .csv and JSON.

Every figure comes from the indicator results computed once; the writers only lay them out.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side

from flows.indicators import BudgetRow, IndicatorResult
from flows.reference import Reference

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
_THIN = Side(style="thin")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)


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
    """The table printed by `guidefund demo` and `guidefund indicators`."""
    out = [f"{ref.fund_name}区域绩效目标自评表（{ref.year} 年度，{ref.region_name}）", ""]
    out.append(
        _grid(
            ["资金情况（万元）", "全年预算数（A）", "全年执行数（B）", "预算执行率（B/A）"],
            budget_lines(budget),
        )
    )
    out.append("")
    out.append(_grid(list(COLUMNS), table_rows(results)))
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
        w.writerow(["资金情况（万元）", "全年预算数（A）", "全年执行数（B）", "预算执行率（B/A）"])
        w.writerows(budget_lines(budget))
        w.writerow([])
        w.writerow(COLUMNS)
        w.writerows(table_rows(results))
    return path


def write_xlsx(
    path: Path, ref: Reference, results: Sequence[IndicatorResult], budget: Sequence[BudgetRow]
) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.title = "区域绩效目标自评表"
    ws.append([f"{ref.fund_name}区域绩效目标自评表"])
    ws.append([f"（{ref.year} 年度）{ref.region_name}"])
    ws.append([])
    ws.append(["资金情况（万元）", "全年预算数（A）", "全年执行数（B）", "预算执行率（B/A）"])
    for r in budget:
        ws.append(
            [r.source, r.budget, r.executed, None if r.rate_pct is None else r.rate_pct / 100]
        )
        ws.cell(ws.max_row, 2).number_format = ws.cell(ws.max_row, 3).number_format = "#,##0.00"
        ws.cell(ws.max_row, 4).number_format = "0.00%"
    ws.append([])
    ws.append([*COLUMNS[:5], "完成率", "偏差率", "未完成原因和改进措施"])
    first = ws.max_row + 1
    for r in results:
        ws.append(
            [
                r.level1,
                r.level2,
                r.indicator,
                target_cell(r),
                with_unit(r.actual_text, r.unit),
                None if r.completion_pct is None else r.completion_pct / 100,
                None if r.deviation_pct is None else r.deviation_pct / 100,
                "需分析原因并提出改进措施" if r.needs_explanation else "",
            ]
        )
        ws.cell(ws.max_row, 6).number_format = ws.cell(ws.max_row, 7).number_format = "0.00%"
    _merge_runs(ws, first, ws.max_row, 1)
    _merge_runs(ws, first, ws.max_row, 2)
    for row in ws.iter_rows(min_row=4, max_row=ws.max_row):
        for cell in row:
            if cell.value is not None or cell.row >= first:
                cell.border = _BOX
                cell.alignment = Alignment(vertical="center", wrap_text=True)
    ws["A1"].font = Font(bold=True, size=14)
    for col, width in zip("ABCDEFGH", (12, 16, 40, 14, 16, 10, 10, 30), strict=True):
        ws.column_dimensions[col].width = width
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    wb.save(path)
    return path


def _merge_runs(ws, first: int, last: int, col: int) -> None:  # type: ignore[no-untyped-def]
    """Merge runs of equal values down a column, as the attachment does for 一级/二级指标."""
    start = first
    for row in range(first + 1, last + 2):
        value = ws.cell(row, col).value if row <= last else object()
        if value != ws.cell(start, col).value:
            if row - 1 > start:
                ws.merge_cells(start_row=start, start_column=col, end_row=row - 1, end_column=col)
            start = row
