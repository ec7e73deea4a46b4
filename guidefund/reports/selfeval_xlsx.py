"""The 自评表 (.xlsx) exactly as the attachment lays it out (中央引导地方科技发展资金区域绩效目标自评表):

    项目名称 / 中央主管部门 / 地方主管部门
    资金情况（万元） | 年度资金总额：/ 其中：中央财政资金 / 地方资金 / 其他资金 | A | B | B/A
    总体目标完成情况 | 总体目标 | 全年实际完成情况
    绩效指标 | 一级指标 | 二级指标 | 三级指标 | 指标值 | 全年实际完成值 | 未完成原因和改进措施
    说明, then 注 1–6

seven columns, the left column's blocks and 一级/二级指标 merged as in the attachment, 0 shown as
0. Rows are as tall as their text (guidefund.printing), so nothing is cut off whatever the units
wrote; it prints on one A4 page for a plan of this size and runs on to a second only when the
text demands it. While projects are missing it says so at the top and lists them on a second
sheet.
"""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.worksheet.worksheet import Worksheet

from guidefund.cells import append, put, save
from guidefund.evaluate.figures import Figures
from guidefund.printing import Margins, fit_rows, page_setup
from guidefund.reports.text import actual_cell, reason_cell, summary_text, target_cell

TITLE = "区域绩效目标自评表"
MISSING_SHEET = "未提交项目"
COLUMNS = 7
WIDTHS = (8, 9, 11, 28, 13, 17, 38)
BODY = "宋体"
SIZE = 10
INDICATOR_HEADER = ("一级指标", "二级指标", "三级指标", "指标值", "全年实际完成值",
                    "未完成原因和改进措施")  # fmt: skip
BUDGET_ROWS = 5  # the header and 年度资金总额, 中央财政资金, 地方资金, 其他资金
MONEY = "#,##0.00"
# The attachment prints a rate of 0 (no budget, nothing spent) as 0, not as 0.00% or a blank.
RATE = "0.00%;-0.00%;0"
_THIN = Side(style="thin")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_LEFT = Alignment(horizontal="left", vertical="center", wrap_text=True)
_CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
_TOP = Alignment(horizontal="left", vertical="top", wrap_text=True)
_FONT = Font(name=BODY, size=SIZE)
_BOLD = Font(name=BODY, size=SIZE, bold=True)
_WARN = Font(name=BODY, size=SIZE + 1, bold=True, color="C00000")


def _merge(ws: Worksheet, r1: int, c1: int, r2: int, c2: int) -> None:
    if (r1, c1) != (r2, c2):
        ws.merge_cells(start_row=r1, start_column=c1, end_row=r2, end_column=c2)


def _row(ws: Worksheet, values: dict[int, object]) -> int:
    """The next row with `values` by column number (1 = A); its row number."""
    row = ws.max_row + 1
    for column, value in values.items():
        put(ws, row, column, value)
    return row


def _budget_label(source: str, first_part: bool) -> str:
    if source == "年度资金总额":
        return "年度资金总额："
    return f"其中：{source}" if first_part else source


def write_xlsx(path: Path, fig: Figures) -> Path:
    """The 自评表 in the attachment's layout, sized to its text and set up for A4."""
    ref = fig.ref
    wb = Workbook()
    ws = wb.active
    ws.title = TITLE
    put(ws, 1, 1, f"{ref.fund_name}区域绩效目标自评表")
    put(ws, 2, 1, f"（{ref.year} 年度）")
    _merge(ws, 1, 1, 1, COLUMNS)
    _merge(ws, 2, 1, 2, COLUMNS)
    if not fig.complete:
        row = _row(ws, {1: f"{fig.status}：表中数字只含已提交项目；"
                           f"未提交的 {len(fig.missing)} 个项目见工作表“{MISSING_SHEET}”。"})  # fmt: skip
        _merge(ws, row, 1, row, COLUMNS)
        ws.cell(row, 1).font = _WARN
    boxed_from = ws.max_row + 1
    for label, value in (
        ("项目名称", ref.fund_name),
        ("中央主管部门", ref.central_department),
        ("地方主管部门", ref.local_department),
    ):
        row = _row(ws, {1: label, 4: value})
        _merge(ws, row, 1, row, 3)
        _merge(ws, row, 4, row, COLUMNS)

    money = _row(ws, {1: "资金情况（万元）", 5: "全年预算数（A）", 6: "全年执行数（B）",
                      7: "预算执行率（B/A）"})  # fmt: skip
    for i, b in enumerate(fig.budget):
        rate = 0 if b.rate_pct is None else b.rate_pct / 100
        row = _row(ws, {4: _budget_label(b.source, i == 1), 5: b.budget, 6: b.executed, 7: rate})
        ws.cell(row, 5).number_format = ws.cell(row, 6).number_format = MONEY
        ws.cell(row, 7).number_format = RATE
    _merge(ws, money, 1, ws.max_row, 3)

    goal = _row(ws, {1: "总体目标完成情况", 2: "总体目标", 6: "全年实际完成情况"})
    _row(ws, {2: fig.text("总体目标"), 6: summary_text(fig)})
    _merge(ws, goal, 1, goal + 1, 1)
    for row in (goal, goal + 1):
        _merge(ws, row, 2, row, 5)
        _merge(ws, row, 6, row, COLUMNS)

    header = _row(ws, {1: "绩效指标", **dict(enumerate(INDICATOR_HEADER, start=2))})
    for r in fig.results:
        _row(ws, {2: r.level1, 3: r.level2, 4: r.indicator, 5: target_cell(r), 6: actual_cell(r),
                  7: reason_cell(fig, r)})  # fmt: skip
    last = ws.max_row
    _merge(ws, header, 1, last, 1)
    _merge_runs(ws, header + 1, 2, [(r.level1,) for r in fig.results])
    _merge_runs(ws, header + 1, 3, [(r.level1, r.level2) for r in fig.results])

    row = _row(ws, {1: "说明", 2: fig.text("说明", "无。")})
    _merge(ws, row, 2, row, COLUMNS)
    boxed_to = row

    notes = [fig.text(f"注{i}") for i in range(1, 10) if fig.text(f"注{i}")]
    if notes:
        _row(ws, {1: "注："})
    for i, note in enumerate(notes, 1):
        row = _row(ws, {1: f"{i}. {note}"})
        _merge(ws, row, 1, row, COLUMNS)

    _style(ws, boxed_from, boxed_to, header, {goal, header, money}, money)
    fit_rows(ws, minimum=SIZE * 1.3 + 6)
    page_setup(ws, landscape=False, title_rows=(header, header),
               margins=Margins(left=1.2, right=1.2, top=1.5, bottom=1.5))  # fmt: skip
    if not fig.complete:
        _missing_sheet(wb, fig)
    return save(wb, path)


def _style(ws: Worksheet, first: int, last: int, header: int, heads: set[int], money: int) -> None:
    budget = range(money, money + BUDGET_ROWS)
    for row in ws.iter_rows(min_row=1, max_row=ws.max_row, max_col=COLUMNS):
        for cell in row:
            if cell.font != _WARN:
                cell.font = _FONT
            inside = first <= cell.row <= last
            if inside:
                cell.border = _BOX
            centred = (
                cell.row in heads
                or cell.column in (1, 2, 3, 5, 6)
                or (cell.column == 7 and cell.row in budget)
            )
            if cell.row < first:
                cell.alignment = _CENTER
            elif not inside:
                cell.alignment = _TOP
            else:
                cell.alignment = _CENTER if centred else _LEFT
    for cell in ws[header]:
        cell.font = _BOLD
    ws["A1"].font = Font(name="黑体", size=16, bold=True)
    ws["A1"].alignment = ws["A2"].alignment = _CENTER
    for col, width in enumerate(WIDTHS, start=1):
        ws.column_dimensions[chr(ord("A") + col - 1)].width = width
    ws.row_dimensions[1].height = 28


def _merge_runs(ws: Worksheet, first: int, col: int, keys: list[tuple[str, ...]]) -> None:
    """Merge `col` over each run of equal `keys` (one per row from `first`), as the attachment
    merges 一级指标 and 二级指标 (a 二级指标 run also ends where its 一级指标 changes)."""
    start = 0
    for i in range(1, len(keys) + 1):
        if i == len(keys) or keys[i] != keys[start]:
            _merge(ws, first + start, col, first + i - 1, col)
            start = i


def _missing_sheet(wb: Workbook, fig: Figures) -> None:
    ws = wb.create_sheet(MISSING_SHEET)
    put(ws, 1, 1, f"{fig.status}：以下项目没有{fig.ref.year}年度的当前报送，未计入自评表")
    _merge(ws, 1, 1, 1, 4)
    append(ws, ["序号", "项目名称", "承担单位", "状态"])
    for p in fig.missing:
        append(ws, [p.no, p.name, p.unit, p.state])
    for row in ws.iter_rows(min_row=2, max_row=ws.max_row, max_col=4):
        for cell in row:
            cell.font, cell.border, cell.alignment = _FONT, _BOX, _LEFT
    ws["A1"].font = _WARN
    ws["A1"].alignment = _LEFT
    for cell in ws[2]:
        cell.font = _BOLD
    for col, width in zip("ABCD", (7, 52, 30, 10), strict=True):
        ws.column_dimensions[col].width = width
    fit_rows(ws, minimum=SIZE * 1.3 + 6)
    page_setup(ws, landscape=False, title_rows=(2, 2), one_page=False)
