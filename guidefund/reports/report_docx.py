"""A draft of the written self-evaluation report (.docx) in the seed's own phrasing, laid out as
an official document (GB/T 9704): A4 with the standard margins, title in 方正小标宋简体 二号,
first-level headings in 黑体 and second-level in 楷体 三号, body in 仿宋 三号 at a fixed 28-point
line spacing with a two-character indent, page numbers "— 1 —" at the foot. The fonts are named
(with their East-Asian font set, so Word and WPS use them); where one is not installed the
program falls back to a font it has.

Only the formulaic parts are generated, from the same figures as the 自评表: section 一's budget
sentence and per-direction table, 二's grade distribution, 三's sentence per indicator, 四's
indicators to explain with the units' reasons, 五's scores (their formulas listed under the table,
one line each). Where staff must write there is one kind of placeholder: 【待补充：what】. While
projects are missing the draft says so under its title, on every page's header, and lists them
at the end.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor

from guidefund.cells import clean
from guidefund.evaluate.figures import NOT_REPORTED, Figures
from guidefund.evaluate.scores import score_text, signed
from guidefund.numbers import plain, rounded
from guidefund.records import TOTAL, IndicatorResult, period_label
from guidefund.reports.text import (
    PLAN_COUNTED,
    plan_counted,
    reason_cell,
    summary_text,
    todo,
    with_unit,
)

LETTERS = "abcdefghijklmnopqrstuvwxyz"
LATIN = "Times New Roman"
BODY, HEADING1, HEADING2, TITLE = "仿宋", "黑体", "楷体", "方正小标宋简体"
SANHAO, ERHAO, XIAOSI = Pt(16), Pt(22), Pt(12)  # 三号, 二号, 小四
LINE = Pt(28)
STYLE_BODY, STYLE_H1, STYLE_H2, STYLE_TITLE, STYLE_TABLE = (
    "公文正文", "公文一级标题", "公文二级标题", "公文标题", "公文表格",
)  # fmt: skip
BLACK = RGBColor(0, 0, 0)
RED = RGBColor(0xC0, 0, 0)


def short(fig: Figures) -> str:
    return fig.ref.region_short


def target_phrase(r: IndicatorResult) -> str:
    """'≥39个' / '稳步提升' / '—' as the sentence needs it (no space before the unit)."""
    if r.target is None:
        return r.target_text
    return f"{r.operator}{with_unit(plain(r.target), r.unit).replace(' ', '')}"


def actual_phrase(r: IndicatorResult) -> str:
    if r.rule == "qualitative" or r.actual is None:
        return r.actual_text or "无"
    return with_unit(plain(r.actual), r.unit).replace(" ", "")


def indicator_sentence(fig: Figures, r: IndicatorResult) -> str:
    """三(三): '新疆向科技部、财政部备案为转化科技成果数量指标，指标值为≥163项，新疆实际完成值为
    122项，完成率为74.85%，偏差率为25.15%。'"""
    who = f"{short(fig)}向{fig.text('备案部门', '科技部、财政部')}备案为{r.indicator}指标"
    if r.completion_pct is None:
        return f"{who}，未设指标值，{short(fig)}实际完成值为{actual_phrase(r)}，不计完成率。"
    counted = PLAN_COUNTED if plan_counted(r) else ""
    return (
        f"{who}，指标值为{target_phrase(r)}，{short(fig)}实际完成值为{actual_phrase(r)}{counted}，"
        f"完成率为{plain(r.completion_pct)}%，偏差率为{plain(r.deviation_pct)}%。"
    )


def para(doc: DocumentObject, text: str = "", style: str = STYLE_BODY) -> Any:
    """A body paragraph; text from units (their reasons) may hold characters XML cannot."""
    return doc.add_paragraph(clean(text), style=style)


def heading(doc: DocumentObject, text: str, level: int) -> Any:
    return doc.add_paragraph(text, style=STYLE_H1 if level == 1 else STYLE_H2)


def _fonts(style: Any, east_asian: str, size: Pt, bold: bool = False) -> None:
    style.font.name = LATIN
    style.font.size = size
    style.font.bold = bold
    style.font.color.rgb = BLACK
    fonts = style.element.get_or_add_rPr().get_or_add_rFonts()
    fonts.set(qn("w:eastAsia"), east_asian)
    fonts.set(qn("w:hint"), "eastAsia")


def _paragraph_style(
    doc: DocumentObject, name: str, east_asian: str, size: Pt, outline: int | None = None
) -> Any:
    style = doc.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
    style.base_style = doc.styles["Normal"]
    style.quick_style = True
    _fonts(style, east_asian, size)
    pf = style.paragraph_format
    pf.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    pf.line_spacing = LINE
    pf.space_before = pf.space_after = Pt(0)
    pf.first_line_indent = Pt(size.pt * 2)  # two characters
    pf.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    pf.widow_control = True
    if outline is not None:  # so the heading shows in the navigation pane and a table of contents
        lvl = OxmlElement("w:outlineLvl")
        lvl.set(qn("w:val"), str(outline))
        style.element.get_or_add_pPr().append(lvl)
        pf.keep_with_next = True
    return style


def _setup(doc: DocumentObject, fig: Figures) -> None:
    """GB/T 9704 page and the document's five styles; page numbers and, while projects are
    missing, the completeness mark in every page's header."""
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.top_margin, section.bottom_margin = Cm(3.7), Cm(3.5)
    section.left_margin, section.right_margin = Cm(2.8), Cm(2.6)
    section.header_distance, section.footer_distance = Cm(1.5), Cm(2.5)
    _fonts(doc.styles["Normal"], BODY, SANHAO)
    _paragraph_style(doc, STYLE_BODY, BODY, SANHAO)
    _paragraph_style(doc, STYLE_H1, HEADING1, SANHAO, outline=0)
    _paragraph_style(doc, STYLE_H2, HEADING2, SANHAO, outline=1)
    title = _paragraph_style(doc, STYLE_TITLE, TITLE, ERHAO)
    title.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    title.paragraph_format.first_line_indent = Pt(0)
    title.paragraph_format.line_spacing = Pt(36)
    title.paragraph_format.space_after = Pt(28)
    table = _paragraph_style(doc, STYLE_TABLE, BODY, XIAOSI)
    table.paragraph_format.first_line_indent = Pt(0)
    table.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
    table.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _page_numbers(section.footer.paragraphs[0])
    if not fig.complete:
        mark = section.header.paragraphs[0]
        mark.alignment = WD_ALIGN_PARAGRAPH.CENTER
        run = mark.add_run(fig.status)
        run.font.color.rgb, run.font.size = RED, Pt(10.5)


def _page_numbers(p: Any) -> None:
    """'— 1 —' centred: the page number as a field, so it counts itself."""
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    p.add_run("— ")
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), "PAGE")
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "1"
    run.append(text)
    field.append(run)
    p._p.append(field)
    p.add_run(" —")
    for r in p.runs:
        r.font.size = Pt(14)


def _table(
    doc: DocumentObject,
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    widths: Sequence[float] | None = None,
) -> None:
    """A grid table in 仿宋 小四, header bold, centred on the page; `widths` in cm."""
    table = doc.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for row in [header, *rows]:
        cells = table.rows[0].cells if row is header else table.add_row().cells
        for cell, text in zip(cells, row, strict=True):
            cell.text = ""
            p = cell.paragraphs[0]
            p.style = doc.styles[STYLE_TABLE]
            run = p.add_run(clean(text))
            run.bold = row is header
    if widths:
        for row in table.rows:
            for cell, width in zip(row.cells, widths, strict=True):
                cell.width = Cm(width)


def _section_one(doc: DocumentObject, fig: Figures) -> None:
    ref = fig.ref
    heading(doc, "一、绩效目标分解下达情况", level=1)
    heading(doc, "（一）中央下达本省引导资金预算情况", level=2)
    para(
        doc,
        f"{ref.year} 年度，下达的引导资金 {plain(ref.annual_amount)} 万元，支持项目 "
        f"{ref.counts['项目总数']} 个，其中，新上项目 {ref.counts['新上项目数']} 项，结转项目 "
        f"{ref.counts['结转项目数']} 项。",
    )
    heading(doc, "（二）省内资金安排、分解下达预算和绩效目标情况", level=2)
    for i, b in enumerate(ref.budget.values(), 1):
        para(
            doc,
            f"{i}.本年度支持{b.category}项目 {b.projects} 个（新上直接支持项目 "
            f"{b.new_direct_projects} 个，新上后补助项目 {b.new_post_projects} 个，结转项目 "
            f"{b.carried_projects} 个）、经费 {plain(b.total)} 万元。",
        )
    para(doc, f"各方向资金安排和执行情况（截至 {period_label(fig.period)}的填报）如下：")
    header = ["类别", "项目数", "已报项目数", "安排资金（万元）", "实际支出（万元）", "执行率"]
    for by, rows in fig.groups.items():
        body = [
            [g.group, str(g.projects), str(g.submitted), plain(g.allocation), plain(g.spent),
             "—" if g.execution_pct is None else f"{plain(g.execution_pct)}%"]
            for g in rows
        ]  # fmt: skip
        _table(doc, [by, *header[1:]], body, widths=(4.2, 1.8, 2.2, 2.6, 2.6, 2.2))
        para(doc)


def _section_two(doc: DocumentObject, fig: Figures) -> None:
    heading(doc, "二、组织实施情况", level=1)
    para(doc, f"（一）主管部门职责分工。{todo('主管部门职责分工')}")
    para(doc, f"（二）资金管理情况。{todo('资金管理情况')}")
    total = fig.grades[TOTAL]
    post = fig.ref.counts.get("新上后补助项目数", 0)
    graded = "，".join(f"{n}项评价结果为“{g}”" for g, n in total.items() if n and g != NOT_REPORTED)
    missing = f"，{total[NOT_REPORTED]}项尚未提交" if total.get(NOT_REPORTED) else ""
    reported = sum(n for g, n in total.items() if g != NOT_REPORTED)
    para(
        doc,
        f"经综合评议，{fig.ref.year}年度{short(fig)}实施的{reported + total.get('未报', 0)}项"
        f"（含后补助项目{post}项）引导资金项目，{graded}{missing}。具体情况如下：",
    )
    for category, counts in fig.grades.items():
        if category == TOTAL:
            continue
        parts = [f"{n}项评价为“{g}”" for g, n in counts.items() if n and g != NOT_REPORTED]
        para(doc, f"{category}项目：{'，'.join(parts) or '无已报项目'}。")


def _section_three(doc: DocumentObject, fig: Figures) -> None:
    ref, sums = fig.ref, fig.sums
    total, region = fig.budget[0], fig.groups["类别"][-1]
    heading(doc, "三、绩效目标完成情况分析", level=1)
    heading(doc, "（一）资金投入情况分析", level=2)
    received = sums.get("funds_received", region.received)
    para(
        doc,
        f"1.资金到位情况。{ref.year} 年度共下达专项资金 {plain(ref.annual_amount)} 万元，"
        f"实际拨付到位 {plain(received)} 万元。",
    )
    raised = sums.get("self_raised")
    ratio = ""
    if raised is not None and received:
        ratio = (
            f"地方资金实际投入 {plain(raised)} 万元，中央财政资金实际带动地方投入资金比例为 "
            f"1:{plain(rounded(raised / received, 2))}。"
        )
    para(
        doc,
        f"2.资金执行情况。截至 {period_label(fig.period)}实际支出 {plain(total.executed)} 万元，预算执行率 "
        f"{plain(total.rate_pct)}%。{ratio}",
    )
    heading(doc, "（二）总体绩效目标完成情况", level=2)
    para(doc, summary_text(fig))
    heading(doc, "（三）绩效指标完成情况分析", level=2)
    level1s = list(dict.fromkeys(r.level1 for r in fig.results))
    for i, level1 in enumerate(level1s, 1):
        para(doc, f"{i}.{level1}")
        mine = [r for r in fig.results if r.level1 == level1]
        for j, level2 in enumerate(dict.fromkeys(r.level2 for r in mine), 1):
            para(doc, f"（{j}）{level2}")
            for k, r in enumerate(x for x in mine if x.level2 == level2):
                para(doc, f"{LETTERS[k]}.{indicator_sentence(fig, r)}")


def _section_four(doc: DocumentObject, fig: Figures) -> None:
    heading(doc, "四、偏离绩效目标的原因和下一步改进措施", level=1)
    heading(
        doc, "（一）总体目标和绩效指标未完成或超过指标值较多的原因分析，下一步改进措施", level=2
    )
    explain = [r for r in fig.results if r.needs_explanation and r.completion_pct is not None]
    missed = [r for r in explain if r.met is False]
    over = [r for r in explain if r not in missed]
    headings = (
        ("1. 未完成指标值的指标", missed),
        (f"2. 完成率超出 {plain(fig.explain_over_pct - 100)}%及以上指标", over),
    )
    for title, items in headings:
        para(doc, title)
        if not items:
            para(doc, "无")
        for n, r in enumerate(items, 1):
            sentence = indicator_sentence(fig, r).split("备案为", 1)[1]
            para(doc, f"（{n}）{sentence}偏差原因：{reason_cell(fig, r)}")
    para(doc, f"3. 下一步改进措施：{todo('下一步改进措施')}")
    heading(doc, "（二）政策执行或项目实施中存在的问题、原因分析和改进措施", level=2)
    para(doc, todo("政策执行或项目实施中存在的问题、原因分析和改进措施"))


def _section_five(doc: DocumentObject, fig: Figures) -> None:
    s = fig.scores
    heading(doc, "五、绩效自评结果拟应用和公开情况", level=1)
    heading(doc, "（一）拟应用情况", level=2)
    standard = "、".join(f"{p.part} {plain(p.points)} 分" for p in s.parts)
    parts = "、".join(f"{p.part} {score_text(p.score)} 分" for p in s.parts)
    para(
        doc,
        f"1.按照财政部《项目支出绩效评价管理办法》（财预〔2020〕10号）规定，单位自评标准是：{standard}。",
    )
    para(
        doc,
        f"经计算，{fig.ref.year} 年度{fig.ref.fund_name}绩效自评价得分为 {score_text(s.total)} 分，"
        f"其中：{parts}，自评结果为“{s.grade}”。",
    )
    if s.self_total is not None:
        para(
            doc,
            f"原自评得分为 {plain(s.self_total)} 分（“{s.self_grade}”），与计算得分相差 "
            f"{signed(s.difference)} 分；各部分得分见下表，计算式列在表后。",
        )
    rows = [
        [p.part, plain(p.points), score_text(p.score), plain(p.self_score), signed(p.difference)]
        for p in s.parts
    ]
    points = sum((p.points for p in s.parts), Decimal(0))
    rows.append([TOTAL, plain(points), score_text(s.total), plain(s.self_total),
                 signed(s.difference)])  # fmt: skip
    _table(doc, ["部分", "满分", "计算得分", "自评得分", "差"], rows, widths=(4.4, 2.6, 3, 3, 2.6))
    para(doc, "计算式：")
    for p in s.parts:
        para(doc, f"{p.part}：{p.formula}")
    heading(doc, "（二）公开情况", level=2)
    para(doc, todo("自评结果公开情况"))


def _missing(doc: DocumentObject, fig: Figures) -> None:
    """附：未计入的项目 — every plan project the figures leave out, with its state."""
    heading(doc, "附：未计入本报告数字的项目", level=1)
    para(doc, f"{fig.status}。以下 {len(fig.missing)} 个计划项目没有{fig.ref.year}年度的当前报送：")
    _table(doc, ["序号", "项目名称", "承担单位", "状态"],
           [[str(p.no), p.name, p.unit, p.state] for p in fig.missing],
           widths=(1.5, 7.7, 4.6, 1.8))  # fmt: skip


def write_docx(path: Path, fig: Figures) -> Path:
    """Write the draft report; every number in it comes from `fig`."""
    doc = Document()
    _setup(doc, fig)
    para(doc, f"{fig.ref.year} 年度{fig.ref.region_name}{fig.ref.fund_name}绩效自评报告",
         style=STYLE_TITLE)  # fmt: skip
    para(doc, "（草稿：数字和格式化语句由 guidefund 根据填报数据生成，"
              f"{todo('……')}处请撰写后删去本段。）")  # fmt: skip
    if not fig.complete:
        warn = para(doc, f"{fig.status}：本草稿的数字只含已提交项目，未计入的 "
                         f"{len(fig.missing)} 个项目列在文末。")  # fmt: skip
        for run in warn.runs:
            run.font.color.rgb, run.bold = RED, True
    for write in (_section_one, _section_two, _section_three, _section_four, _section_five):
        write(doc, fig)
    heading(doc, "六、其他需要说明的问题", level=1)
    para(doc, todo("其他需要说明的问题"))
    if not fig.complete:
        _missing(doc, fig)
    doc.save(str(path))
    return path
