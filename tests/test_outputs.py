"""The year-end documents from the 136 sample submissions: figures, breakdowns, the 自评表
.xlsx, the report draft .docx, the HTML page and figures.csv/.json, each opened back; then the
flow and `guidefund year-end` end to end."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import pytest
from docx import Document
from docx.shared import RGBColor
from openpyxl import load_workbook
from sqlalchemy import Engine, func, select

from guidefund.evaluate.figures import Figures, collect_figures
from guidefund.flows.year_end import write_reports
from guidefund.intake.batch import read_batch
from guidefund.numbers import plain
from guidefund.records import TOTAL
from guidefund.reference import Reference
from guidefund.settings import Settings
from guidefund.warehouse import models as m
from guidefund.warehouse.db import make_engine, upgrade
from guidefund.warehouse.load import load_batch, start_run
from tests.conftest import REFERENCE_DIR
from tests.office import too_short
from tests.pg import warehouse_url
from tests.seedtext import MISSES, OVERRUNS, SEED_TABLE, allocation_table


def load_samples(engine: Engine, ref: Reference, sample_dir: Path) -> None:
    upgrade(engine)
    subs = read_batch(sorted(sample_dir.glob("*.xlsx")), ref)
    load_batch(engine, ref, start_run(engine, "nightly-consolidation"), subs, [])


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def seeded(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
    ref: Reference, sample_dir: Path,
) -> Iterator[tuple[Figures, Path]]:  # fmt: skip
    """The samples in a warehouse; the figures computed from it and every document written."""
    out = tmp_path_factory.mktemp(f"reports-{request.param}")
    with warehouse_url(request.param, out) as url:
        engine = make_engine(url)
        try:
            load_samples(engine, ref, sample_dir)
            fig = collect_figures(engine, ref, Settings(), "2024")
            write_reports(out / "docs", fig)
            yield fig, out / "docs"
        finally:
            engine.dispose()


def test_every_indicator_equals_the_seed(seeded) -> None:
    fig, _ = seeded
    got = {r.indicator: (r.actual_text, f"{r.completion_pct}") for r in fig.results if r.scored}
    assert got == SEED_TABLE
    over = [r.indicator for r in fig.results if r.needs_explanation and r.completion_pct >= 130]
    missed = [r.indicator for r in fig.results if r.needs_explanation and r.completion_pct < 100]
    assert (over, missed) == (OVERRUNS, MISSES)
    assert (fig.budget[1].source, fig.budget[1].executed, fig.budget[1].rate_pct) == (
        "中央财政资金", Decimal("8314.25"), Decimal("74.99"),
    )  # fmt: skip


def spent_by_direction(sample_dir: Path) -> dict[str, Decimal]:
    """实际支出 summed per direction, computed apart from the code under test: each sample opened
    with openpyxl at the cells template_fields.csv names, each project's direction taken from the
    seed's own 安排资金情况表."""
    with (REFERENCE_DIR / "650000" / "2024" / "template_fields.csv").open(encoding="utf-8") as f:
        where = {r["键"]: (r["工作表"], r["单元格"]) for r in csv.DictReader(f)}
    direction = {row["序号"]: row["类别"] for row in allocation_table().rows}
    sums: dict[str, Decimal] = {}
    for path in sorted(sample_dir.glob("*.xlsx")):
        wb = load_workbook(path, read_only=True, data_only=True)
        no = wb[where["project_no"][0]][where["project_no"][1]].value
        spent = wb[where["funds_spent"][0]][where["funds_spent"][1]].value
        wb.close()
        cat = direction[int(no)]
        sums[cat] = sums.get(cat, Decimal(0)) + Decimal(str(spent))
    return sums


def test_breakdowns_per_direction_type_and_support_mode(seeded, sample_dir: Path) -> None:
    fig, _ = seeded
    spent = spent_by_direction(sample_dir)
    seed = allocation_table()
    directions = {g.group: (g.projects, g.allocation, g.spent) for g in fig.groups["类别"]}
    expected = {
        cat: (sum(1 for r in seed.rows if r["类别"] == cat), budget, spent[cat])
        for cat, budget in seed.directions.items()
    }
    expected[TOTAL] = (len(seed.rows), seed.total, sum(spent.values(), Decimal(0)))
    assert directions == expected
    assert expected[TOTAL][2] == Decimal("8314.25")  # the seed's 全年执行数
    for g in fig.groups["类别"]:
        assert g.execution_pct == (g.spent / g.allocation * 100).quantize(Decimal("0.01"))
    kinds = {g.group: (g.projects, g.allocation) for g in fig.groups["立项类型"]}
    assert kinds == {
        "结转": (48, Decimal(1525)),
        "新上": (88, Decimal(9562)),
        "合计": (136, Decimal(11087)),
    }
    modes = {g.group: (g.projects, g.submitted, g.execution_pct) for g in fig.groups["支持方式"]}
    assert modes == {
        "直接补助": (112, 112, Decimal("74.99")), "后补助": (24, 24, None),
        "合计": (136, 136, Decimal("74.99")),
    }  # fmt: skip


def test_grade_distribution_by_direction(seeded) -> None:
    fig, _ = seeded
    assert {d: (c["优"], c["良"], c["未报"]) for d, c in fig.grades.items()} == {
        "区域科技创新体系建设": (8, 2, 0), "科技创新基地建设": (44, 5, 0),
        "科技成果转移转化": (38, 7, 0), "自由探索类基础研究": (31, 1, 0), "合计": (121, 15, 0),
    }  # fmt: skip


def test_the_units_reasons_are_gathered_under_their_indicators(seeded) -> None:
    fig, _ = seeded
    by_name = {r.indicator: [x.project_no for x in fig.reasons.get(r.no, [])] for r in fig.results}
    assert by_name["促进技术合同成交额"] == [58]
    assert by_name["提供技术咨询/技术服务数量"] == [88]
    assert by_name["培训技术经纪人数量"] == [104]
    assert by_name["转化科技成果数量"] == []


def test_the_self_evaluation_workbook_has_the_attachments_layout(seeded) -> None:
    """Seven columns as the attachment: the left column's blocks, the budget block with its 其中
    row and 0 shown as 0, 一级/二级指标 merged, notes 1–6; every row as tall as its text."""
    _, docs = seeded
    wb = load_workbook(docs / "自评表_新疆_2024.xlsx")
    assert wb.sheetnames == ["区域绩效目标自评表"]
    ws = wb["区域绩效目标自评表"]
    rows = {r[0].row: [c.value for c in r] for r in ws.iter_rows(max_col=7)}
    by_label = {v[3]: (n, v) for n, v in rows.items() if isinstance(v[3], str)}
    money, total = by_label["年度资金总额："]
    assert total[4:7] == [11087, 8314.25, pytest.approx(0.7499)]
    assert by_label["其中：中央财政资金"][1][4:7] == [11087, 8314.25, pytest.approx(0.7499)]
    assert by_label["地方资金"][1][4:7] == [0, 0, 0]
    assert by_label["其他资金"][1][4:7] == [0, 0, 0]
    assert ws.cell(by_label["地方资金"][0], 7).number_format == "0.00%;-0.00%;0"
    assert rows[money - 1][0] == "资金情况（万元）"
    assert rows[money - 1][4:7] == ["全年预算数（A）", "全年执行数（B）", "预算执行率（B/A）"]
    assert rows[3][0] == "项目名称" and rows[5][3] == "新疆维吾尔自治区财政厅、科技厅"
    header = next(n for n, v in rows.items() if v[3] == "三级指标")
    assert rows[header] == ["绩效指标", "一级指标", "二级指标", "三级指标", "指标值",
                            "全年实际完成值", "未完成原因和改进措施"]  # fmt: skip
    contract = next(v for v in rows.values() if v[3] == "促进技术合同成交额")
    assert contract[4:7] == [
        "≥3143 万元", "8868.04 万元",
        "项目58（新疆电子研究所股份有限公司）：签订成交了一项大额技术合同，促进技术合同成交额超出预期。",
    ]  # fmt: skip
    missed = next(v for v in rows.values() if v[3] == "转化科技成果数量")
    assert missed[6] == "【待补充：单位未说明原因，请补充未完成（或超出）原因和改进措施】"
    counted = next(v for v in rows.values() if v[3] == "支持建设科技创新基地项目数量")
    assert (counted[5], counted[6]) == ("39 个（按年度计划统计）", None)
    first = header + 1
    merged = {str(r) for r in ws.merged_cells.ranges}
    assert {
        f"A{money - 1}:C{money + 3}",
        f"A{header}:A{header + 18}",
        f"B{first}:B{first + 5}",
        f"C{first}:C{first + 4}",
        f"B{first + 6}:B{first + 16}",
        f"C{first + 6}:C{first + 10}",
        f"C{first + 11}:C{first + 16}",
    } <= merged
    notes = [v[0] for v in rows.values() if isinstance(v[0], str) and v[0][:2] in
             ("1.", "2.", "3.", "4.", "5.", "6.")]  # fmt: skip
    assert len(notes) == 6 and notes[5].startswith("6. 对未完成绩效目标")
    assert too_short(ws) == []
    assert int(ws.page_setup.paperSize) == 9  # A4 in the OOXML paper-size list
    assert ws.page_setup.orientation == "portrait"
    assert (ws.sheet_properties.pageSetUpPr.fitToPage, ws.page_setup.fitToWidth) == (True, 1)
    assert ws.page_setup.fitToHeight == 1  # this plan fits one page
    assert ws.print_title_rows == f"${header}:${header}"


def test_the_report_draft_uses_the_seeds_phrasing(seeded) -> None:
    _, docs = seeded
    doc = Document(str(docs / "绩效自评报告_新疆_2024_草稿.docx"))
    text = [p.text for p in doc.paragraphs]
    assert (
        "2024 年度，下达的引导资金 11087 万元，支持项目 136 个，其中，新上项目 88 项，结转项目 48 项。"
        in text
    )
    assert (
        "b.新疆向科技部、财政部备案为转化科技成果数量指标，指标值为≥163项，新疆实际完成值为122项，"
        "完成率为74.85%，偏差率为25.15%。"
    ) in text
    assert (
        "a.新疆向科技部、财政部备案为带动社会投入与引导资金投入比例指标，指标值为≥2，"
        "新疆实际完成值为2.64，完成率为132%，偏差率为32%。"
    ) in text
    assert (
        "a.新疆向科技部、财政部备案为支持建设科技创新基地项目数量指标，指标值为≥39个，"
        "新疆实际完成值为39个（按年度计划统计），完成率为100%，偏差率为0%。"
    ) in text
    end = text.index("3. 下一步改进措施：【待补充：下一步改进措施】")
    four = text[text.index("1. 未完成指标值的指标") : end]
    assert sum(p.startswith("（") for p in four) == 11
    assert (
        "（9）培训技术经纪人数量指标，指标值为≥119人次，新疆实际完成值为808人次，完成率为678.99%，"
        "偏差率为578.99%。偏差原因：项目104（新疆高新人才运营管理有限公司）：超额完成技术经纪人培训工作。"
    ) in four
    assert (
        "经计算，2024 年度中央引导地方科技发展资金绩效自评价得分为 94.59 分，其中：预算执行 7.50 分、"
        "产出指标 47.48 分、效益指标 29.61 分、满意度指标 10.00 分，自评结果为“优”。"
    ) in text
    assert (
        "经综合评议，2024年度新疆实施的136项（含后补助项目24项）引导资金项目，121项评价结果为“优”，15项评价结果为“良”。具体情况如下："
        in text
    )
    directions = [[c.text for c in row.cells] for row in doc.tables[0].rows]
    assert directions[2] == ["科技创新基地建设", "49", "49", "5324", "4007.16", "75.27%"]
    scores = [[c.text for c in row.cells] for row in doc.tables[-1].rows]
    assert scores[0] == ["部分", "满分", "计算得分", "自评得分", "差"]
    assert scores[-1] == ["合计", "100", "94.59", "95", "-0.41"]
    formulas = text[text.index("计算式：") + 1 : text.index("（二）公开情况")]
    assert formulas == [
        "预算执行：10 × min(8314.25/11087, 1) = 7.50（执行率 74.99%）",
        "产出指标：10 × (1 + 122/163 + 1 + 1 + 1) = 47.48（5 项指标）",
        "效益指标：30/11 × (1 + 1 + 1 + 1 + 1 + 1 + 1 + 4203/4906 + 1 + 1 + 1) = 29.61（11 项指标）",
        "满意度指标：10 × (1) = 10.00（1 项指标）",
    ]
    assert (round(doc.sections[0].page_width.cm, 1), round(doc.sections[0].page_height.cm, 1)) == (
        21.0,
        29.7,
    )


def test_the_report_draft_is_styled_as_an_official_document(seeded) -> None:
    """Title 方正小标宋简体 二号; headings 黑体 and 楷体 三号, black; body 仿宋 三号 at a fixed
    28 pt; GB/T 9704 margins; one placeholder style, 【待补充：…】."""
    from docx.enum.text import WD_LINE_SPACING
    from docx.oxml.ns import qn

    _, docs = seeded
    doc = Document(str(docs / "绩效自评报告_新疆_2024_草稿.docx"))

    def fonts(style_name: str) -> tuple[str | None, float, object]:
        style = doc.styles[style_name]
        east = style.element.rPr.rFonts.get(qn("w:eastAsia"))
        return east, style.font.size.pt, style.font.color.rgb

    assert fonts("公文标题") == ("方正小标宋简体", 22.0, RGBColor(0, 0, 0))
    assert fonts("公文一级标题") == ("黑体", 16.0, RGBColor(0, 0, 0))
    assert fonts("公文二级标题") == ("楷体", 16.0, RGBColor(0, 0, 0))
    assert fonts("公文正文") == ("仿宋", 16.0, RGBColor(0, 0, 0))
    body = doc.styles["公文正文"].paragraph_format
    assert (body.line_spacing_rule, body.line_spacing.pt) == (WD_LINE_SPACING.EXACTLY, 28.0)
    section = doc.sections[0]
    assert [round(x.cm, 1) for x in (section.top_margin, section.bottom_margin,
            section.left_margin, section.right_margin)] == [3.7, 3.5, 2.8, 2.6]  # fmt: skip
    paragraphs = [p for p in doc.paragraphs if p.text]
    assert paragraphs[0].style.name == "公文标题"
    assert {p.style.name for p in paragraphs} == {
        "公文标题",
        "公文一级标题",
        "公文二级标题",
        "公文正文",
    }
    assert [p.text for p in paragraphs if p.style.name == "公文一级标题"][:2] == [
        "一、绩效目标分解下达情况", "二、组织实施情况",
    ]  # fmt: skip
    every = "\n".join(p.text for p in doc.paragraphs)
    assert every.count("【") == every.count("【待补充：") >= 8
    assert "单位未说明原因，请补充原因和改进措施" not in every.replace(
        "【待补充：单位未说明原因", ""
    )


class Charts(HTMLParser):
    """The chart elements of the page, by their data-* attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.svg: list[str] = []
        self.items: list[tuple[str, str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "svg":
            self.svg.append(a["id"])
        elif tag in ("rect", "line") and "class" in a:
            self.items.append((self.svg[-1], a["class"], a))


def test_the_html_page_charts_the_figures(seeded) -> None:
    _, docs = seeded
    page = (docs / "绩效自评_新疆_2024.html").read_text(encoding="utf-8")
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "<script" not in page
    charts = Charts()
    charts.feed(page)
    assert charts.svg == ["completion", "execution", "grades"]
    bars = {
        a["data-indicator"]: a["data-value"]
        for s, c, a in charts.items
        if s == "completion" and c == "bar"
    }
    assert bars == {name: plain(Decimal(pct)) for name, (_, pct) in SEED_TABLE.items()}
    lines = sorted(
        a["data-pct"] for s, c, a in charts.items if s == "completion" and c == "ref-line"
    )
    assert lines == ["100", "130"]
    executions = {
        a["data-group"]: a["data-value"]
        for s, c, a in charts.items
        if s == "execution" and c == "bar"
    }
    assert executions == {"区域科技创新体系建设": "72.94", "科技创新基地建设": "75.27",
                          "科技成果转移转化": "72.15", "自由探索类基础研究": "89.59", "合计": "74.99"}  # fmt: skip
    grades = {
        (a["data-direction"], a["data-grade"]): a["data-count"]
        for s, c, a in charts.items
        if c == "seg"
    }
    assert grades == {("区域科技创新体系建设", "优"): "8", ("区域科技创新体系建设", "良"): "2",
                      ("科技创新基地建设", "优"): "44", ("科技创新基地建设", "良"): "5",
                      ("科技成果转移转化", "优"): "38", ("科技成果转移转化", "良"): "7",
                      ("自由探索类基础研究", "优"): "31", ("自由探索类基础研究", "良"): "1"}  # fmt: skip


def test_the_same_figures_as_csv_and_json(seeded) -> None:
    _, docs = seeded
    data = json.loads((docs / "figures.json").read_text(encoding="utf-8"))
    row = next(d for d in data["indicators"] if d["indicator"] == "培训从事技术创新服务人员数量")
    assert (row["actual"], row["completion_pct"], row["deviation_pct"], row["reasons"]) == (
        4203, 85.67, 14.33, [],
    )  # fmt: skip
    assert (data["scores"]["total"], data["scores"]["self_total"], data["scores"]["difference"]) == (
        94.59, 95, -0.41,
    )  # fmt: skip
    assert data["grades"]["合计"]["优"] == 121
    with (docs / "figures.csv").open(encoding="utf-8-sig", newline="") as f:
        rows = [tuple(r) for r in csv.reader(f)]
    assert rows[0] == ("表", "对象", "项目", "值", "单位")
    assert ("得分", "合计", "得分", "94.59", "分") in rows
    assert ("指标", "转化科技成果数量", "完成率", "74.85", "%") in rows
    assert ("类别", "科技创新基地建设", "实际支出", "4007.16", "万元") in rows
    assert ("等级分布", "合计", "良", "15", "个") in rows


# --- the flow and the command, under Prefect ---------------------------------------------------


@pytest.mark.prefect
def test_guidefund_year_end_writes_every_document_and_prints_the_scores(
    tmp_path: Path, ref: Reference, sample_dir: Path, prefect_harness: None, capsys
) -> None:
    from guidefund.cli import main

    work = tmp_path / "work"
    engine = make_engine(f"sqlite:///{work / 'warehouse.sqlite'}")
    load_samples(engine, ref, sample_dir)
    out = tmp_path / "out"
    assert main(["year-end", "--year", "2024", "--workdir", str(work), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "  合计：7.50 + 47.48 + 29.61 + 10.00 = 94.59 分，等级“优”" in printed
    assert "  自评：8 + 49 + 28 + 10 = 95 分，等级“优”；计算得分与自评相差 -0.41 分" in printed
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["自评表_新疆_2024.xlsx", "自评表_新疆_2024.csv", "indicators.json", "绩效自评报告_新疆_2024_草稿.docx",
         "绩效自评_新疆_2024.html", "figures.csv", "figures.json"]
    )  # fmt: skip
    assert all(
        f"已写出 {out / name}" in printed for name in ("figures.json", "绩效自评_新疆_2024.html")
    )
    with engine.connect() as conn:
        raised = dict(conn.execute(select(m.Alert.rule, func.count()).group_by(m.Alert.rule)).all())
        run = conn.execute(select(m.Run.flow_name, m.Run.status).order_by(m.Run.id.desc())).first()
    assert (raised["indicator.overrun"], raised["indicator.miss"]) == (9, 2)
    assert tuple(run) == ("year-end-aggregation", "succeeded")


# --- an incomplete year: every output says so ---------------------------------------------------


@pytest.fixture(scope="module")
def partial(tmp_path_factory: pytest.TempPathFactory, ref: Reference, sample_dir: Path):
    """The first 40 samples only: 96 plan projects without an annual report."""
    out = tmp_path_factory.mktemp("partial")
    engine = make_engine(f"sqlite:///{out / 'warehouse.sqlite'}")
    upgrade(engine)
    subs = read_batch(sorted(sample_dir.glob("*.xlsx"))[:40], ref)
    load_batch(engine, ref, start_run(engine, "nightly-consolidation"), subs, [])
    fig = collect_figures(engine, ref, Settings(), "2024")
    write_reports(out / "docs", fig)
    yield fig, out / "docs", out
    engine.dispose()


STATUS = "未完成汇总（已提交 40 / 计划 136）"


def test_an_incomplete_year_is_counted_and_its_missing_projects_named(partial) -> None:
    fig, _, _ = partial
    assert (fig.complete, fig.status, fig.planned) == (False, STATUS, 136)
    assert [p.no for p in fig.missing] == list(range(41, 137))
    assert {p.state for p in fig.missing} == {"未提交"}


def test_every_data_file_of_an_incomplete_year_carries_the_mark(partial) -> None:
    _, docs, _ = partial
    with (docs / "自评表_新疆_2024.csv").open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == [STATUS, "表中数字只含已提交项目"]
    assert rows[-96][0] == "41" and rows[-1][0] == "136"
    data = json.loads((docs / "indicators.json").read_text(encoding="utf-8"))
    assert (data["complete"], data["status"], data["planned"], data["submitted"]) == (
        False, STATUS, 136, 40,
    )  # fmt: skip
    assert [m["no"] for m in data["missing"]] == list(range(41, 137))
    counted = [d["indicator"] for d in data["indicators"] if d["plan_counted"]]
    assert counted == ["支持建设科技创新基地项目数量", "支持区域创新载体项目数量"]
    figures = json.loads((docs / "figures.json").read_text(encoding="utf-8"))
    assert (figures["status"], len(figures["missing"])) == (STATUS, 96)


def test_the_draft_and_the_page_of_an_incomplete_year_say_so_and_list_the_missing(partial) -> None:
    _, docs, _ = partial
    doc = Document(str(docs / "绩效自评报告_新疆_2024_草稿.docx"))
    assert doc.sections[0].header.paragraphs[0].text == STATUS
    text = [p.text for p in doc.paragraphs]
    assert f"{STATUS}：本草稿的数字只含已提交项目，未计入的 96 个项目列在文末。" in text
    assert text[-2] == "附：未计入本报告数字的项目"
    appendix = [[c.text for c in row.cells] for row in doc.tables[-1].rows]
    assert appendix[0] == ["序号", "项目名称", "承担单位", "状态"]
    assert [row[0] for row in appendix[1:]] == [str(n) for n in range(41, 137)]
    page = (docs / "绩效自评_新疆_2024.html").read_text(encoding="utf-8")
    assert f'<p class="incomplete" id="status">{STATUS}：' in page
    assert page.count("<td>未提交</td>") == 96


def test_an_empty_warehouse_gives_a_marked_draft_not_a_complete_looking_one(
    tmp_path: Path, ref: Reference
) -> None:
    """Nothing submitted: the plan-counted indicator still reads 100 %, and says it counts the
    plan; the score of an empty year is marked as incomplete."""
    from guidefund.reports.text import actual_cell, summary_text

    engine = make_engine(f"sqlite:///{tmp_path / 'empty.sqlite'}")
    upgrade(engine)
    from guidefund.warehouse.load import load_reference_data

    with engine.begin() as conn:
        load_reference_data(conn, ref)
    fig = collect_figures(engine, ref, Settings(), "2024")
    engine.dispose()
    assert fig.status == "未完成汇总（已提交 0 / 计划 136）"
    base = next(r for r in fig.results if r.indicator == "支持建设科技创新基地项目数量")
    assert (base.completion_pct, actual_cell(base)) == (
        Decimal("100.00"),
        "39 个（按年度计划统计）",
    )
    assert "（未完成汇总（已提交 0 / 计划 136），以下数字只含已提交项目）" in summary_text(fig)


def test_guidefund_indicators_exits_1_while_projects_are_missing(partial, capsys) -> None:
    from guidefund.cli import main

    _, _, out = partial
    code = main(["indicators", "--year", "2024", "--json", "--workdir", str(out)])
    printed = json.loads(capsys.readouterr().out)
    assert (code, printed["status"], printed["submitted"]) == (1, STATUS, 40)


@pytest.mark.prefect
def test_guidefund_year_end_over_an_empty_warehouse_exits_1_and_says_so(
    tmp_path: Path, prefect_harness: None, capsys
) -> None:
    from guidefund.cli import main

    work, out = tmp_path / "work", tmp_path / "out"
    code = main(["year-end", "--year", "2024", "--workdir", str(work), "--out", str(out)])
    printed = capsys.readouterr().out.splitlines()
    assert code == 1
    assert printed[1] == "未完成汇总（已提交 0 / 计划 136）：以下数字只含已提交项目。"
    assert "  未计入的项目（136 个）：序号 1–136" in printed
    assert len(list(out.iterdir())) == 7
