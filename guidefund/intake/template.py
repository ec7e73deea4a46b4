"""Write the submission template: one .xlsx per plan project, identity pre-filled and locked.

The layout comes from data/reference/<year>/template_fields.csv: each field has a sheet, a label
and a fixed value cell beside the label (column C, label in column B). The same writer fills
sample submissions, so samples and templates can never drift apart.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.utils import column_index_from_string
from openpyxl.utils.cell import coordinate_from_string
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from guidefund.cells import put, save
from guidefund.printing import fit_rows, page_setup
from guidefund.records import Value
from guidefund.reference import Field, Project, Reference

INSTRUCTIONS = "填报说明"
YES, NO = "是", "否"
GRADES = ("优", "良", "中", "差")
NUMBER_FORMATS = {"money": "#,##0.00", "int": "0", "pct": "0.00", "date": "yyyy-mm-dd"}
_THIN = Side(style="thin", color="999999")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_LOCKED_FILL = PatternFill("solid", fgColor="EDEDED")
_INPUT_FILL = PatternFill("solid", fgColor="FFF9DB")
_WRAP = Alignment(wrap_text=True, vertical="center")


def period_choices(year: int) -> list[str]:
    """The 报告期 dropdown: the annual report or one month of the plan year."""
    return [f"{year}年度"] + [f"{year}年{m:02d}月" for m in range(1, 13)]


def file_name(project: Project) -> str:
    return f"{project.no:03d}_{project.unit}.xlsx"


def prefill(project: Project, ref: Reference) -> dict[str, Value]:
    """The identity values the department fills in for the unit (locked in the workbook)."""
    source: dict[str, Value] = {
        "模板版本": ref.current_template,
        "序号": project.no,
        "项目名称": project.name,
        "申报单位": project.unit,
        "单位类型": project.unit_type,
        "类别": project.category,
        "立项类型": project.project_type,
        "支持方式": project.support_mode,
        "安排资金（万元）": project.allocation,
    }
    return {f.key: source[f.prefill] for f in ref.fields if f.prefill}


def write_submission(
    ref: Reference, project: Project, out: Path, values: Mapping[str, Value] | None = None
) -> Path:
    """Write one workbook for `project` to `out`; `values` fills the unit's fields (samples)."""
    wb = Workbook()
    wb.active.title = INSTRUCTIONS
    _instructions(wb.active, ref, project)
    filled = {**prefill(project, ref), **(values or {})}
    sheets: dict[str, Worksheet] = {}
    for f in ref.fields:
        ws = sheets.get(f.sheet)
        if ws is None:
            ws = sheets[f.sheet] = _data_sheet(wb, f.sheet, ref, project)
        _field_row(ws, f, filled.get(f.key), ref)
    for ws in sheets.values():
        ws.protection.sheet = True
        ws.protection.formatCells = False
        ws.protection.formatColumns = False
        # Rows as tall as the names and hints they hold: a 65-character project name must show
        # whole, not its last line. One page per sheet.
        fit_rows(ws)
        page_setup(ws, landscape=True, title_rows=(3, 3), one_page=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    save(wb, out)
    return out


def write_templates(ref: Reference, out_dir: Path, only: Iterable[int] | None = None) -> list[Path]:
    """One empty template per plan project (or only the projects numbered in `only`)."""
    wanted = set(only) if only is not None else None
    unknown = (wanted or set()) - {p.no for p in ref.plan}
    if unknown:
        raise ValueError(f"计划中没有项目序号 {sorted(unknown)}")
    return [
        write_submission(ref, p, out_dir / file_name(p))
        for p in ref.plan
        if wanted is None or p.no in wanted
    ]


def _instructions(ws: Worksheet, ref: Reference, project: Project) -> None:
    lines = [
        f"{ref.fund_name} {ref.year} 年度项目绩效数据填报表（模板版本 {ref.current_template}）",
        "",
        f"项目：{project.no} {project.name}",
        f"申报单位：{project.unit}",
        "",
        "1. 灰色单元格由科技厅预填，请勿修改；黄色单元格由项目单位填写。",
        "2. 金额单位均为万元，保留两位小数；人次、项、家等数量填写整数。",
        "3. 百分比填写 0–100 之间的数，如 95 表示 95%。",
        "4. 是/否、自评等级、报告期请从下拉列表选择。",
        "5. 实际支出不得大于引导资金到位数；后补助项目本年度不应有引导资金支出。",
        "6. 对未完成绩效目标或超过目标值 30% 及以上的，须在“自评”表填写偏差原因及改进措施。",
        "7. 请勿改动工作表名称和标签文字；填好后将本文件交回科技厅。",
    ]
    for i, line in enumerate(lines, start=1):
        put(ws, i, 1, line).alignment = Alignment(wrap_text=True, vertical="top")
    ws["A1"].font = Font(bold=True, size=14)
    for row in (3, 4):
        ws.cell(row, 1).font = Font(bold=True)
    # Narrower than the page: LibreOffice sets text a little wider than the column it measures,
    # and a page edge, unlike a neighbouring cell, cuts it off.
    ws.column_dimensions["A"].width = 75
    ws.sheet_view.showGridLines = False
    fit_rows(ws)
    page_setup(ws, landscape=False, one_page=True)


def _data_sheet(wb: Workbook, title: str, ref: Reference, project: Project) -> Worksheet:
    ws = wb.create_sheet(title)
    heading = put(ws, 1, 2, f"{title}（{project.no} {project.name}）")
    heading.font = Font(bold=True, size=12)
    heading.alignment = Alignment(wrap_text=True, vertical="center")
    ws.merge_cells("B1:E1")
    for col, text in enumerate(("项目", "填报内容", "单位", "填报要求"), start=2):
        cell = put(ws, 3, col, text)
        cell.font = Font(bold=True)
        cell.border = _BOX
    for col, width in zip("ABCDE", (2, 24, 40, 6, 44), strict=True):
        ws.column_dimensions[col].width = width
    return ws


def _field_row(ws: Worksheet, f: Field, value: Value, ref: Reference) -> None:
    col_letter, row = coordinate_from_string(f.cell)
    col = column_index_from_string(col_letter)
    label = put(ws, row, col - 1, f.label)
    label.border = _BOX
    label.alignment = _WRAP
    if f.required and not f.prefill:
        label.font = Font(color="C00000")
    put(ws, row, col + 1, f.unit or None).border = _BOX
    hint = put(ws, row, col + 2, f.hint or None)
    hint.border, hint.alignment = _BOX, _WRAP
    cell = put(ws, row, col, _excel_value(value))
    cell.border = _BOX
    cell.alignment = Alignment(wrap_text=f.kind == "text", vertical="center")
    if f.kind in NUMBER_FORMATS:
        cell.number_format = NUMBER_FORMATS[f.kind]
    if f.prefill:
        cell.fill = _LOCKED_FILL
        return
    cell.fill = _INPUT_FILL
    cell.protection = Protection(locked=False)
    dv = _validation(f, ref)
    if dv is not None:
        ws.add_data_validation(dv)
        dv.add(cell)


def _validation(f: Field, ref: Reference) -> DataValidation | None:
    prompt = dict(
        showErrorMessage=True, errorTitle=f.label, error=f.hint or f"请按要求填写{f.label}"
    )
    if f.kind == "yesno":
        return DataValidation(type="list", formula1=f'"{YES},{NO}"', **prompt)
    if f.choices or f.kind == "grade":
        choices = f.choices or GRADES
        return DataValidation(type="list", formula1=f'"{",".join(choices)}"', **prompt)
    if f.kind == "period":
        return DataValidation(
            type="list", formula1=f'"{",".join(period_choices(ref.year))}"', **prompt
        )
    if f.kind == "date":
        return DataValidation(
            type="date",
            operator="between",
            formula1=f"DATE({ref.year},1,1)",
            formula2=f"DATE({ref.year + 1},12,31)",
            **prompt,
        )
    if f.kind in ("money", "int", "pct"):
        kind = "whole" if f.kind == "int" else "decimal"
        low = f.lower if f.lower is not None else Decimal(0)
        if f.upper is not None:
            return DataValidation(
                type=kind, operator="between", formula1=str(low), formula2=str(f.upper), **prompt
            )
        return DataValidation(type=kind, operator="greaterThanOrEqual", formula1=str(low), **prompt)
    return None


def _excel_value(value: Value) -> object:
    if isinstance(value, bool):
        return YES if value else NO
    if isinstance(value, Decimal):
        # openpyxl writes numbers as floats; two decimals survive the round trip exactly.
        return int(value) if value == value.to_integral_value() else value
    if isinstance(value, date):
        return value
    return value
