"""Both flows end to end under Prefect's test harness, on the 136 sample workbooks, with the
warehouse on SQLite (the default file under the working directory) and on PostgreSQL
(GUIDEFUND_WAREHOUSE_URL naming a fresh schema)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import create_engine, text

from guidefund.reference import Reference

from .pg import postgres_schema
from .seedtext import SEED_TABLE

pytestmark = pytest.mark.prefect


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def warehouse_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Path, str]]:
    """A working directory and the warehouse URL the flows will use there: the default SQLite
    file, or GUIDEFUND_WAREHOUSE_URL set to a new PostgreSQL schema for the module's tests."""
    workdir = tmp_path_factory.mktemp(f"work-{request.param}")
    if request.param == "sqlite":
        with pytest.MonkeyPatch.context() as env:
            env.delenv("GUIDEFUND_WAREHOUSE_URL", raising=False)
            yield workdir, f"sqlite:///{workdir / 'warehouse.sqlite'}"
        return
    with postgres_schema() as url, pytest.MonkeyPatch.context() as env:
        env.setenv("GUIDEFUND_WAREHOUSE_URL", url)
        yield workdir, url


@pytest.fixture(scope="module")
def demo_run(warehouse_url: tuple[Path, str], sample_dir: Path, prefect_harness: None):
    """Samples in an inbox, one negative 实际支出 among them; nightly then year-end."""
    from guidefund.flows.nightly import nightly_consolidation
    from guidefund.flows.year_end import year_end_aggregation

    from .workbooks import set_cell

    workdir, url = warehouse_url
    inbox = workdir / "inbox"
    shutil.copytree(sample_dir, inbox)
    bad = inbox / "bad_negative_spending.xlsx"
    shutil.copy(inbox / "133_新疆大学.xlsx", bad)
    set_cell(bad, "资金情况", "C5", -5)
    nightly = nightly_consolidation(year=2024, workdir=str(workdir))
    year_end = year_end_aggregation(year=2024, workdir=str(workdir))
    return workdir, nightly, year_end, url


def test_nightly_accepts_the_samples_and_rejects_the_negative_spending(demo_run) -> None:
    workdir, nightly, _, _ = demo_run
    assert (nightly.received, nightly.accepted, nightly.rejected, nightly.duplicate) == (
        137,
        136,
        1,
        0,
    )
    assert list(nightly.rejected_files) == ["bad_negative_spending.xlsx"]
    assert (
        "资金情况!C5 [金额不能为负] 实际支出"
        in nightly.rejected_files["bad_negative_spending.xlsx"][0]
    )
    assert nightly.consolidated_findings == []
    assert not any((workdir / "inbox").iterdir())
    assert len(list((workdir / "archive").glob("*.xlsx"))) == 136
    assert (workdir / "quarantine" / "bad_negative_spending.xlsx.errors.xlsx").exists()


def test_nightly_writes_the_consolidated_table_and_raises_year_end_alerts(demo_run) -> None:
    workdir, nightly, _, _ = demo_run
    assert nightly.consolidated_xlsx == str(workdir / "reports" / "汇总表_新疆_2024.xlsx")
    sheet = load_workbook(nightly.consolidated_xlsx)["汇总表"]
    numbers = [
        row[0] for row in sheet.iter_rows(min_row=2, values_only=True) if isinstance(row[0], int)
    ]
    assert numbers == list(range(1, 137))
    assert nightly.new_alerts > 0
    assert Path(nightly.data_docs).parent.name == "runs"


def test_the_rejected_file_is_absent_from_the_warehouse_facts(demo_run) -> None:
    _, _, _, url = demo_run
    engine = create_engine(url)
    with engine.connect() as conn:
        states = dict(
            conn.execute(text("select state, count(*) from submission group by state")).all()
        )
        spent = conn.execute(
            text(
                "select count(*) from fund_execution f join submission s on s.id = f.submission_id "
                "where s.file_name = 'bad_negative_spending.xlsx'"
            )
        ).scalar_one()
    engine.dispose()
    assert states == {"accepted": 136, "rejected": 1}
    assert spent == 0


def test_year_end_reproduces_the_seed_attachment_table(demo_run) -> None:
    _, _, year_end, _ = demo_run
    got = {
        r.indicator: (r.actual_text, f"{r.completion_pct}") for r in year_end.results if r.scored
    }
    assert got == SEED_TABLE
    by_name = {r.indicator: r for r in year_end.results}
    assert by_name["区域科技创新能力"].actual_text == "稳步提升"
    assert by_name["支持央地协同重大科技项目数量"].completion_pct is None
    assert by_name["培训从事技术创新服务人员数量"].deviation_pct == Decimal("14.33")
    missed = sorted(
        r.indicator for r in year_end.results if r.needs_explanation and r.completion_pct < 100
    )
    over = [r for r in year_end.results if r.needs_explanation and r.completion_pct >= 130]
    assert missed == ["培训从事技术创新服务人员数量", "转化科技成果数量"]
    assert len(over) == 9


def test_year_end_budget_block_is_exact(demo_run) -> None:
    _, _, year_end, _ = demo_run
    central = next(b for b in year_end.budget if b.source == "中央财政资金")
    assert (central.budget, central.executed, central.rate_pct) == (
        Decimal(11087),
        Decimal("8314.25"),
        Decimal("74.99"),
    )


def test_year_end_writes_xlsx_csv_and_json_that_open_back(demo_run, ref: Reference) -> None:
    workdir, _, year_end, _ = demo_run
    reports = workdir / "reports"
    # The year-end flow writes more documents (issue 5, tested in test_outputs.py); these three
    # are the ones this end-to-end run opens back.
    written = {p.name for p in year_end.files}
    assert {"indicators.json", "自评表_新疆_2024.csv", "自评表_新疆_2024.xlsx"} <= written
    assert all((reports / name).is_file() for name in written)
    data = json.loads((reports / "indicators.json").read_text(encoding="utf-8"))
    assert (data["complete"], data["submitted"]) == (True, 136)
    row = next(d for d in data["indicators"] if d["indicator"] == "转化科技成果数量")
    assert (
        row["target"],
        row["actual"],
        row["completion_pct"],
        row["deviation_pct"],
        row["needs_explanation"],
    ) == (163, 122, 74.85, 25.15, True)
    ws = load_workbook(reports / "自评表_新疆_2024.xlsx")["区域绩效目标自评表"]
    values = [[c.value for c in row] for row in ws.iter_rows(min_row=1, max_row=ws.max_row)]
    central = next(r for r in values if r[3] == "其中：中央财政资金")
    assert central[4:7] == [11087, 8314.25, pytest.approx(0.7499)]
    indicator = next(r for r in values if r[3] == "促进技术合同成交额")
    assert indicator[4:6] == ["≥3143 万元", "8868.04 万元"]
    # 一级指标 merged down the rows of its indicators, as in the attachment
    first = next(i for i, r in enumerate(values, start=1) if r[1] == "产出指标")
    outputs = sum(1 for t in ref.targets if t.level1 == "产出指标")
    assert f"B{first}:B{first + outputs - 1}" in {str(r) for r in ws.merged_cells.ranges}


def test_running_the_nightly_flow_again_changes_nothing(demo_run, sample_dir: Path) -> None:
    from guidefund.flows.nightly import nightly_consolidation

    workdir, _, _, url = demo_run
    shutil.copy(next(sample_dir.glob("046_*.xlsx")), workdir / "inbox" / "again.xlsx")
    again = nightly_consolidation(year=2024, workdir=str(workdir))
    assert (again.received, again.accepted, again.duplicate, again.superseded) == (1, 0, 1, 0)
    engine = create_engine(url)
    with engine.connect() as conn:
        assert conn.execute(text("select count(*) from fund_execution")).scalar_one() == 136
        # The file was received again: one more receipt, recorded as a duplicate of 046's.
        receipts = conn.execute(
            text(
                "select r.state, s.file_name from receipt r join submission s"
                " on s.id = r.submission_id where r.file_name = 'again.xlsx'"
            )
        ).all()
        assert [tuple(r) for r in receipts] == [("duplicate", next(sample_dir.glob("046_*")).name)]
        assert conn.execute(text("select count(*) from receipt")).scalar_one() == 138
    engine.dispose()


def test_indicators_json_command_prints_what_the_report_holds(
    demo_run, ref: Reference, capsys
) -> None:
    from guidefund.cli import main

    workdir, _, _, _ = demo_run
    assert main(["indicators", "--year", "2024", "--json", "--workdir", str(workdir)]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == json.loads(
        (workdir / "reports" / "indicators.json").read_text(encoding="utf-8")
    )
    assert len(printed["indicators"]) == len(ref.targets)
