"""Every printed form as a finance office prints it: converted once by LibreOffice to PDF (one
run for all documents), then its pages counted and its text read back. Nothing may be cut off:
every indicator name, the whole 总体目标, every project name and every problem must be in the
PDF's text, and no text cell may need more height than its rows give."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook

from guidefund.evaluate.figures import collect_figures
from guidefund.evaluate.monitoring import monitoring
from guidefund.expectations import rule_names
from guidefund.flows.year_end import write_reports
from guidefund.intake.batch import all_findings, batch_findings, read_batch
from guidefund.intake.outliers import Thresholds
from guidefund.intake.template import write_templates
from guidefund.reference import Reference
from guidefund.reports.consolidated_xlsx import write_consolidated_xlsx
from guidefund.reports.feedback_xlsx import write_feedback
from guidefund.reports.monitoring_xlsx import write_monitoring_xlsx
from guidefund.reports.selfeval_xlsx import write_xlsx
from guidefund.settings import Settings
from guidefund.warehouse.db import make_engine, upgrade
from guidefund.warehouse.load import load_batch, start_run
from tests import office
from tests.quirks import edit

# A 总体目标 as long as a province might write: the table must run on to a second page.
LONG_GOAL = "".join(
    f"第{i}项：围绕区域创新体系建设，加快关键核心技术攻关，推动科技成果转化。" for i in range(1, 61)
)
LONGEST_NAME = 106  # the plan's longest project name, 65 characters


def warehouse(path: Path, ref: Reference, files: list[Path]):  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    load_batch(engine, ref, start_run(engine, "nightly-consolidation"), read_batch(files, ref), [])
    return engine


@pytest.fixture(scope="module")
def printed(tmp_path_factory: pytest.TempPathFactory, ref: Reference, sample_dir: Path):
    """Every form written from the samples (all 136, and the first 40 only), then printed."""
    work = tmp_path_factory.mktemp("printed")
    samples = sorted(sample_dir.glob("*.xlsx"))
    engine = warehouse(work / "full.sqlite", ref, samples)
    fig = collect_figures(engine, ref, Settings(), "2024")
    write_reports(work / "full", fig)
    long = replace(fig, ref=replace(ref, texts={**ref.texts, "总体目标": LONG_GOAL}))
    write_xlsx(work / "long.xlsx", long)
    consolidated = write_consolidated_xlsx(engine, ref, work / "汇总表.xlsx")
    mon = monitoring(engine, ref, Settings(), "2024", date(2025, 2, 1))
    monitor = write_monitoring_xlsx(work / "运行监控表_2024.xlsx", mon)
    engine.dispose()
    partial_engine = warehouse(work / "partial.sqlite", ref, samples[:40])
    partial = collect_figures(partial_engine, ref, Settings(), "2024")
    write_reports(work / "partial", partial)
    partial_engine.dispose()
    [template] = write_templates(ref, work / "templates", only=[LONGEST_NAME])
    documents = {
        "selfeval": work / "full" / "自评表_新疆_2024.xlsx",
        "long": work / "long.xlsx",
        "partial": work / "partial" / "自评表_新疆_2024.xlsx",
        "report": work / "full" / "绩效自评报告_新疆_2024_草稿.docx",
        "partial_report": work / "partial" / "绩效自评报告_新疆_2024_草稿.docx",
        "template": template,
        "consolidated": consolidated,
        "monitor": monitor,
        "errors": feedback(work, ref, samples[132]),
    }
    return documents, office.to_pdf(documents, work / "print"), fig, partial


def feedback(work: Path, ref: Reference, source: Path) -> Path:
    """errors.xlsx of a file with several problems, as the nightly run writes it."""
    bad = work / "133_bad.xlsx"
    bad.write_bytes(source.read_bytes())
    edit(bad, "资金情况", C4=1, C5=-5, C6=2)
    edit(bad, "绩效指标", C15=1, C14=150)
    edit(bad, "基本信息", C15=None)
    subs = read_batch([bad], ref)
    found = batch_findings(subs, ref, Thresholds.of(Settings()), [])
    return write_feedback(
        work / "133_bad.xlsx.errors.xlsx", all_findings(subs[0], found.get(0, []))
    )


def test_the_self_evaluation_table_prints_whole_on_one_page(printed, ref: Reference) -> None:
    documents, pdfs, fig, _ = printed
    assert office.pages(pdfs["selfeval"]) == 1
    text = office.flat(office.text(pdfs["selfeval"]))
    for r in fig.results:
        assert office.flat(r.indicator) in text, r.indicator
    assert office.flat(ref.text("总体目标")) in text
    for i in range(1, 7):
        assert office.flat(ref.text(f"注{i}")) in text
    for label in (
        "资金情况（万元）",
        "预算执行率（B/A）",
        "服务对象满意度指标",
        "其中：中央财政资金",
    ):
        assert label in text
    ws = load_workbook(documents["selfeval"]).active
    assert office.too_short(ws) == []


def test_a_long_goal_runs_on_to_a_second_page_and_is_printed_whole(printed) -> None:
    documents, pdfs, _, _ = printed
    assert office.pages(pdfs["long"]) == 2
    assert office.flat(LONG_GOAL) in office.flat(office.text(pdfs["long"]))
    assert office.too_short(load_workbook(documents["long"]).active) == []


def test_an_incomplete_year_says_so_on_the_table_and_lists_what_is_missing(
    printed, ref: Reference
) -> None:
    documents, pdfs, _, partial = printed
    status = "未完成汇总（已提交 40 / 计划 136）"
    first = office.flat(office.text(pdfs["partial"], 1, 1))
    assert office.flat(status) in first
    everything = office.flat(office.text(pdfs["partial"]))
    for p in ref.plan[40:]:
        assert office.flat(p.name) in everything, p.no
    wb = load_workbook(documents["partial"])
    assert wb.sheetnames == ["区域绩效目标自评表", "未提交项目"]
    listed = [row[0] for row in wb["未提交项目"].iter_rows(min_row=3, values_only=True)]
    assert listed == list(range(41, 137))
    assert [office.too_short(ws) for ws in wb.worksheets] == [[], []]
    assert [p.no for p in partial.missing] == list(range(41, 137))


def test_the_report_draft_prints_on_a4_with_its_formulas_whole(printed) -> None:
    _, pdfs, fig, _ = printed
    text = office.flat(office.text(pdfs["report"]))
    for part in fig.scores.parts:
        assert office.flat(f"{part.part}：{part.formula}") in text
    assert "【待补充：下一步改进措施】" in text
    info = office.text(pdfs["report"], 1, 1)
    assert "绩效自评报告" in info
    assert 8 <= office.pages(pdfs["report"]) <= 14


def test_every_page_of_an_incomplete_draft_carries_the_mark(printed) -> None:
    _, pdfs, _, _ = printed
    pdf = pdfs["partial_report"]
    status = "未完成汇总（已提交40/计划136）"
    for page in range(1, office.pages(pdf) + 1):
        assert status in office.flat(office.text(pdf, page, page)), page
    assert "附：未计入本报告数字的项目" in office.flat(office.text(pdf))


def test_the_template_shows_the_whole_project_name_one_page_per_sheet(
    printed, ref: Reference
) -> None:
    """Five sheets (填报说明 and four to fill), each on one A4 page: 9 pages before."""
    documents, pdfs, _, _ = printed
    project = ref.project(LONGEST_NAME)
    assert project is not None
    assert office.pages(pdfs["template"]) == 5
    info = office.flat(office.text(pdfs["template"], 2, 2))
    assert office.flat(project.name) in info
    assert office.flat(project.unit) in info
    instructions = office.flat(office.text(pdfs["template"], 1, 1))
    assert "7.请勿改动工作表名称和标签文字；填好后将本文件交回科技厅。" in instructions
    assert office.flat(f"项目：{project.no} {project.name}") in instructions
    wb = load_workbook(documents["template"])
    assert {ws.title: office.too_short(ws) for ws in wb.worksheets} == {
        ws.title: [] for ws in wb.worksheets
    }


def test_the_feedback_prints_in_chinese_with_every_problem_and_no_rule_id(printed) -> None:
    documents, pdfs, _, _ = printed
    ws = load_workbook(documents["errors"]).active
    cells = [str(c.value) for row in ws.iter_rows() for c in row if c.value is not None]
    ids = set(rule_names())
    assert [c for c in cells if c in ids or any(i in c for i in ids if "_" in i or "." in i)] == []
    messages = [row[6] for row in ws.iter_rows(min_row=5, values_only=True)]
    assert len(messages) == 4
    text = office.flat(office.text(pdfs["errors"]))
    for message in messages:
        assert office.flat(message) in text
    assert office.pages(pdfs["errors"]) == 1
    assert office.too_short(ws) == []
    assert ws.page_setup.orientation == "landscape"


def test_the_consolidated_table_prints_every_name_on_a_few_landscape_pages(
    printed, ref: Reference
) -> None:
    documents, pdfs, _, _ = printed
    text = office.flat(office.text(pdfs["consolidated"]))
    for p in ref.plan:
        assert office.flat(p.name) in text, p.no
    sheets = load_workbook(documents["consolidated"]).worksheets
    assert [ws.page_setup.orientation for ws in sheets] == ["landscape"] * 3
    assert [office.too_short(ws) for ws in sheets] == [[], [], []]
    assert office.pages(pdfs["consolidated"]) <= 14  # 28 before


def test_the_monitoring_table_prints_every_project_and_indicator_on_landscape_pages(
    printed, ref: Reference
) -> None:
    """The 运行监控表 of the sample year: every project name, every 三级指标 and its as-of
    heading in the printed text; each sheet landscape, one page wide, nothing cut off."""
    documents, pdfs, _, _ = printed
    text = office.flat(office.text(pdfs["monitor"]))
    for p in ref.plan:
        assert office.flat(p.name) in text, p.no
    for t in ref.targets:
        assert office.flat(t.name) in text, t.no
    assert office.flat("数据截至 2025-02-01，截止日期 2025-01-31，已逾期") in text
    sheets = load_workbook(documents["monitor"]).worksheets
    assert [ws.page_setup.orientation for ws in sheets] == ["landscape"] * 4
    assert [office.too_short(ws) for ws in sheets] == [[], [], [], []]
    assert office.pages(pdfs["monitor"]) <= 10  # 9 measured (LibreOffice 7.4)
