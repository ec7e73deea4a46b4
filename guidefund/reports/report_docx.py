"""A draft of the written self-evaluation report (.docx) in the seed's own phrasing.

Only the formulaic parts are generated, from the same figures as the 自评表: section 一's budget
sentence and per-direction table, 二's grade distribution, 三's sentence per indicator, 四's
indicators to explain with the units' reasons, 五's scores. Narrative parts are left to staff,
marked 【待补充】.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

from guidefund.cells import clean
from guidefund.evaluate.figures import NOT_REPORTED, Figures
from guidefund.evaluate.scores import score_text, signed
from guidefund.numbers import plain, rounded
from guidefund.records import TOTAL, IndicatorResult, period_label
from guidefund.reports.text import reason_cell, summary_text, with_unit

TODO = "【待补充】"
LETTERS = "abcdefghijklmnopqrstuvwxyz"
FONT = "宋体"


def short(fig: Figures) -> str:
    return fig.text("地区简称", fig.ref.region_name)


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
    return (
        f"{who}，指标值为{target_phrase(r)}，{short(fig)}实际完成值为{actual_phrase(r)}，"
        f"完成率为{plain(r.completion_pct)}%，偏差率为{plain(r.deviation_pct)}%。"
    )


def para(doc: DocumentObject, text: str = "") -> Any:
    """A body paragraph; text from units (their reasons) may hold characters XML cannot."""
    return doc.add_paragraph(clean(text))


def _setup(doc: DocumentObject) -> None:
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.left_margin = section.right_margin = Cm(2.5)
    for name in ("Normal", "Heading 1", "Heading 2", "Heading 3", "Title"):
        style = doc.styles[name]
        style.font.name = FONT
        style.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), FONT)
    doc.styles["Normal"].font.size = Pt(12)


def _table(doc: DocumentObject, header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    table = doc.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, header, strict=True):
        cell.text = clean(text)
        cell.paragraphs[0].runs[0].bold = True
    for row in rows:
        cells = table.add_row().cells
        for cell, text in zip(cells, row, strict=True):
            cell.text = clean(text)


def _section_one(doc: DocumentObject, fig: Figures) -> None:
    ref = fig.ref
    doc.add_heading("一、绩效目标分解下达情况", level=1)
    doc.add_heading("（一）中央下达本省引导资金预算情况", level=2)
    para(
        doc,
        f"{ref.year} 年度，下达的引导资金 {plain(ref.annual_amount)} 万元，支持项目 "
        f"{ref.counts['项目总数']} 个，其中，新上项目 {ref.counts['新上项目数']} 项，结转项目 "
        f"{ref.counts['结转项目数']} 项。",
    )
    doc.add_heading("（二）省内资金安排、分解下达预算和绩效目标情况", level=2)
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
        _table(doc, [by, *header[1:]], body)
        para(
            doc,
        )


def _section_two(doc: DocumentObject, fig: Figures) -> None:
    doc.add_heading("二、组织实施情况", level=1)
    para(doc, f"（一）主管部门职责分工；（二）资金管理情况：{TODO}")
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
    doc.add_heading("三、绩效目标完成情况分析", level=1)
    doc.add_heading("（一）资金投入情况分析", level=2)
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
    doc.add_heading("（二）总体绩效目标完成情况", level=2)
    para(doc, summary_text(fig))
    doc.add_heading("（三）绩效指标完成情况分析", level=2)
    level1s = list(dict.fromkeys(r.level1 for r in fig.results))
    for i, level1 in enumerate(level1s, 1):
        para(doc, f"{i}.{level1}")
        mine = [r for r in fig.results if r.level1 == level1]
        for j, level2 in enumerate(dict.fromkeys(r.level2 for r in mine), 1):
            para(doc, f"（{j}）{level2}")
            for k, r in enumerate(x for x in mine if x.level2 == level2):
                para(doc, f"{LETTERS[k]}.{indicator_sentence(fig, r)}")


def _section_four(doc: DocumentObject, fig: Figures) -> None:
    doc.add_heading("四、偏离绩效目标的原因和下一步改进措施", level=1)
    doc.add_heading(
        "（一）总体目标和绩效指标未完成或超过指标值较多的原因分析，下一步改进措施", level=2
    )
    todo = [r for r in fig.results if r.needs_explanation and r.completion_pct is not None]
    missed = [r for r in todo if r.completion_pct < 100]  # type: ignore[operator]
    over = [r for r in todo if r not in missed]
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
    para(doc, f"3. 下一步改进措施：{TODO}")
    doc.add_heading("（二）政策执行或项目实施中存在的问题、原因分析和改进措施", level=2)
    para(doc, TODO)


def _section_five(doc: DocumentObject, fig: Figures) -> None:
    s = fig.scores
    doc.add_heading("五、绩效自评结果拟应用和公开情况", level=1)
    doc.add_heading("（一）拟应用情况", level=2)
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
            f"{signed(s.difference)} 分；各部分计算式如下表。",
        )
    rows = [
        [p.part, plain(p.points), p.formula, score_text(p.score), plain(p.self_score),
         signed(p.difference)]
        for p in s.parts
    ]  # fmt: skip
    points = sum((p.points for p in s.parts), Decimal(0))
    rows.append(
        [TOTAL, plain(points), "", score_text(s.total), plain(s.self_total), signed(s.difference)]
    )
    _table(doc, ["部分", "满分", "计算式", "得分", "自评得分", "差"], rows)
    doc.add_heading("（二）公开情况", level=2)
    para(doc, TODO)


def write_docx(path: Path, fig: Figures) -> Path:
    """Write the draft report; every number in it comes from `fig`."""
    doc = Document()
    _setup(doc)
    title = doc.add_heading(
        f"{fig.ref.year} 年度{fig.ref.region_name}{fig.ref.fund_name}绩效自评报告", 0
    )
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    para(doc, "（草稿：数字和格式化语句由 guidefund 根据填报数据生成，【待补充】处请撰写。）")
    for write in (_section_one, _section_two, _section_three, _section_four, _section_five):
        write(doc, fig)
    doc.add_heading("六、其他需要说明的问题", level=1)
    para(doc, TODO)
    doc.save(str(path))
    return path
