"""`guidefund status` and the 汇总表 .xlsx, read from a real warehouse on both dialects."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import Engine

from guidefund.cli import main
from guidefund.evaluate.status import status_summary
from guidefund.reference import Reference
from guidefund.reports.consolidated_xlsx import write_consolidated_xlsx
from guidefund.warehouse.load import finish_run, load_batch, start_run


def _load(engine: Engine, ref: Reference, accepted, rejected=()) -> None:
    run_id = start_run(engine, "nightly")
    load_batch(engine, ref, run_id, list(accepted), list(rejected))
    finish_run(engine, run_id)


@pytest.fixture
def loaded(warehouse: Engine, ref: Reference, make_submission, make_finding) -> Engine:
    """Run 1: projects 1 and 13, project 2 rejected. Run 2: a new version of 13 and a renamed
    copy of project 1's file."""
    bad = make_submission(2, funds_spent=Decimal("400"))
    _load(
        warehouse,
        ref,
        [make_submission(1), make_submission(13, funds_spent=Decimal("20.50"))],
        [(bad, [make_finding(bad.file_name)])],
    )
    _load(
        warehouse,
        ref,
        [
            make_submission(13, file_name="013_v2.xlsx", funds_spent=Decimal("25.25")),
            make_submission(1, file_name="001_copy.xlsx"),
        ],
    )
    return warehouse


@pytest.fixture
def cli(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys):
    """Run `guidefund ARGS --workdir <tmp>` against the test database; (exit code, out, err)."""
    monkeypatch.setenv("GUIDEFUND_WAREHOUSE_URL", database_url)
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path / ".prefect"))

    def run(*args: str) -> tuple[int, str, str]:
        code = main([*args, "--workdir", str(tmp_path / "work")])
        out, err = capsys.readouterr()
        return code, out, err

    return run


def test_status_json_counts_projects_per_state_files_per_state_and_each_direction(
    loaded: Engine, cli
) -> None:
    code, out, _ = cli("status", "--year", "2024", "--json")

    summary = json.loads(out)
    assert code == 1  # plan projects are still missing
    assert {k: summary[k] for k in ("region_code", "year", "period", "projects", "states")} == {
        "region_code": "650000",
        "year": 2024,
        "period": "2024",
        "projects": 136,
        "states": {"submitted": 2, "rejected": 1, "missing": 133},
    }
    assert summary["rejected"] == [2]
    assert summary["missing"] == [n for n in range(3, 137) if n != 13]
    assert summary["submissions"] == {"accepted": 2, "rejected": 1, "superseded": 1}
    assert summary["receipts"] == {"accepted": 3, "duplicate": 1, "rejected": 1}
    assert summary["directions"][1] == {
        "direction": "科技创新基地建设",
        "budget_total": 5324.0,
        "plan_projects": 49,
        "plan_allocation": 5324.0,
        "submitted": 1,
        "submitted_allocation": 30.0,
        "funds_received": 30.0,
        "funds_spent": 25.25,
    }


def test_status_text_names_the_rejected_and_missing_projects_as_ranges(loaded: Engine, cli) -> None:
    code, out, _ = cli("status", "--year", "2024", "--as-of", "2025-01-31")

    lines = out.splitlines()
    assert code == 1
    assert lines[:3] == [
        "新疆维吾尔自治区（650000）2024 年度汇总状态，报告期 2024，截至 2025-01-31"
        "（截止日期 2025-01-31，未到截止日期）",
        "计划项目 136 个：已提交 2，退回待改 1，未提交 133",
        "入库文件：当前版本 2，退回 1，已被替代 1；共收到文件 5 次（接收 3，重复 1，退回 1）",
    ]
    assert (
        "  科技创新基地建设：计划 49 个 / 5,324.00，已提交 1 个 / 30.00，到位 30.00，支出 25.25"
        in lines
    )
    assert lines[-2:] == ["退回待改（1）：序号 2", "未提交（133）：序号 3–12、14–136"]


def test_status_exits_0_once_every_plan_project_has_a_current_version(
    warehouse: Engine, ref: Reference, make_submission, cli
) -> None:
    _load(warehouse, ref, [make_submission(p.no) for p in ref.plan])

    code, out, _ = cli("status", "--year", "2024")

    assert code == 0
    assert "计划项目 136 个：已提交 136，退回待改 0，未提交 0" in out


def test_status_of_a_monthly_period_counts_only_that_period(
    warehouse: Engine, ref: Reference, make_submission, cli
) -> None:
    _load(warehouse, ref, [make_submission(1), make_submission(109, "2024-07")])

    code, out, _ = cli("status", "--year", "2024", "--period", "2024-07", "--json")

    assert code == 1
    assert json.loads(out)["states"] == {"submitted": 1, "rejected": 0, "missing": 135}


def test_status_on_a_warehouse_without_tables_says_to_run_db_upgrade(engine: Engine, cli) -> None:
    with engine.connect():
        pass  # the empty database exists (SQLite creates its file on connect)

    code, out, err = cli("status", "--year", "2024")

    assert (code, out) == (2, "")
    assert "尚未建表：请运行 guidefund db upgrade" in err


def test_db_upgrade_then_status_asks_for_a_nightly_run_of_the_year(engine: Engine, cli) -> None:
    upgraded = cli("db", "upgrade")
    code, out, err = cli("status", "--year", "2024")

    assert upgraded[0] == 0 and "数据库已升级到最新结构" in upgraded[1]
    assert (code, out) == (1, "")
    assert (
        "还没有 新疆维吾尔自治区（650000）2024 年度的计划数据：请先运行 guidefund nightly --year 2024"
        in err
    )


def test_status_without_a_warehouse_file_says_so_and_creates_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.delenv("GUIDEFUND_WAREHOUSE_URL", raising=False)
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path / ".prefect"))

    code = main(["status", "--year", "2024", "--workdir", str(tmp_path / "work")])

    assert code == 2
    assert "warehouse.sqlite 不存在：请先运行 guidefund nightly" in capsys.readouterr().err
    assert not (tmp_path / "work" / "warehouse.sqlite").exists()


def test_the_consolidated_xlsx_has_one_row_per_plan_project_and_opens_back(
    loaded: Engine, ref: Reference, tmp_path: Path
) -> None:
    path = write_consolidated_xlsx(loaded, ref, tmp_path / "out" / "汇总表_新疆_2024.xlsx")

    wb = load_workbook(path)
    assert wb.sheetnames == ["汇总表", "按类别", "版本历史"]
    ws = wb["汇总表"]
    rows = [[c.value for c in row] for row in ws.iter_rows()]
    assert rows[0][0] == "新疆维吾尔自治区2024年度中央引导地方科技发展资金项目汇总表（报告期 2024）"
    assert rows[1][:6] == ["序号", "项目名称", "申报单位", "类别", "状态", "当前版本"]
    assert len(rows) == 2 + 136 + 1
    by_no = {r[0]: r for r in rows[2:-1]}
    assert by_no[13][4:9] == ["已提交", 2, 1, 0, "013_v2.xlsx"]
    assert isinstance(by_no[13][9], datetime)
    assert by_no[13][10:] == [30, 30, 25.25, 0.8417]
    assert by_no[2][4:10] == ["退回待改", None, 0, 1, "002_2024.xlsx", by_no[2][9]]
    assert by_no[135][4:] == ["未提交", None, 0, 0, None, None, 48, None, None, None]
    assert rows[-1] == ["合计", "计划项目 136 个，已提交 2 个", *[None] * 8,
                        11087, 60, 35.25, 0.0032]  # fmt: skip
    assert ws["K3"].number_format == "#,##0.00" and ws["N3"].number_format == "0.00%"
    directions = [[c.value for c in row] for row in wb["按类别"].iter_rows(min_row=3)]
    assert directions[-1] == ["合计", 11087, 136, 11087, 2, 60, 60, 35.25]
    history = [[c.value for c in row][:5] for row in wb["版本历史"].iter_rows(min_row=3)]
    assert history == [
        [1, "2024", 1, "当前版本", "001_2024.xlsx"],
        [2, "2024", None, "退回", "002_2024.xlsx"],
        [13, "2024", 1, "已被替代", "013_2024.xlsx"],
        [13, "2024", 2, "当前版本", "013_v2.xlsx"],
    ]


def test_status_writes_the_xlsx_it_is_asked_for(loaded: Engine, cli, tmp_path: Path) -> None:
    target = tmp_path / "reports" / "汇总表.xlsx"

    code, out, _ = cli("status", "--year", "2024", "--xlsx", str(target))

    assert code == 1
    assert out.splitlines()[-1] == f"已写出汇总表 {target}"
    assert load_workbook(target)["汇总表"].max_row == 139


def test_the_summary_keeps_money_as_exact_decimals(loaded: Engine, ref: Reference) -> None:
    summary = status_summary(loaded, ref)

    spent = [d["funds_spent"] for d in summary["directions"]]
    assert spent == [Decimal("10.00"), Decimal("25.25"), Decimal("0"), Decimal("0")]


def test_status_against_a_server_that_does_not_answer_says_which_setting_to_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.setenv("GUIDEFUND_WAREHOUSE_URL", "postgresql+psycopg://gf:secret@127.0.0.1:1/x")
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path / ".prefect"))

    code = main(["status", "--year", "2024", "--workdir", str(tmp_path / "work")])

    err = capsys.readouterr().err
    assert code == 2
    assert err.splitlines() == [
        "guidefund status: 数据库无法连接（postgresql+psycopg://gf:***@127.0.0.1:1/x）：连接被拒绝；"
        "请检查 GUIDEFUND_WAREHOUSE_URL 与数据库服务"
    ]


def test_the_consolidated_xlsx_shows_times_in_the_configured_zone_and_prints_landscape(
    loaded: Engine, ref: Reference, tmp_path: Path
) -> None:
    """The warehouse stores UTC; the office reads 北京时间 (8 hours ahead)."""
    from datetime import timedelta

    from sqlalchemy import select

    from guidefund.warehouse import models as m

    with loaded.connect() as conn:
        stored = conn.execute(
            select(m.Submission.received_at).where(m.Submission.file_name == "013_v2.xlsx")
        ).scalar_one()
    path = write_consolidated_xlsx(loaded, ref, tmp_path / "汇总表.xlsx", timezone="Asia/Shanghai")
    wb = load_workbook(path)
    ws = wb["汇总表"]
    assert ws["J2"].value == "接收时间（北京时间）"
    row = next(r for r in ws.iter_rows(min_row=3, values_only=True) if r[0] == 13)
    assert abs((row[9] - (stored + timedelta(hours=8))).total_seconds()) < 1
    assert wb["版本历史"]["F2"].value == "接收时间（北京时间）"
    assert [(s.page_setup.orientation, s.page_setup.fitToWidth, s.print_title_rows)
            for s in wb.worksheets] == [("landscape", 1, "$2:$2")] * 3  # fmt: skip
