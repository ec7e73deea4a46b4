"""`guidefund monitor` (the 运行监控表) and `guidefund alerts` on the issue's own case: on
2024-07-03 twenty units sent their June reports (序时进度 50 %), five of them having spent 10 %
of their allocation, the other fifteen 50 %."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import Engine

from guidefund.cli import main
from guidefund.evaluate.alerts import alert_periods, raise_alerts
from guidefund.reference import Reference
from guidefund.settings import Settings
from guidefund.warehouse.load import finish_run, load_batch, start_run
from tests import office
from tests.test_monitoring import Sent, as_submission

JUNE, AS_OF = "2024-06", date(2024, 7, 3)
CENT = Decimal("0.01")


def cents(x: Decimal) -> Decimal:
    return x.quantize(CENT, rounding=ROUND_HALF_UP)


@pytest.fixture(scope="module")
def june(tmp_path_factory: pytest.TempPathFactory, ref: Reference):
    """The warehouse of a working directory after the night of 3 July: June's twenty reports,
    the alerts raised as of that night."""
    from guidefund.warehouse.db import make_engine, upgrade

    workdir = tmp_path_factory.mktemp("june")
    engine: Engine = make_engine(f"sqlite:///{workdir / 'warehouse.sqlite'}")
    upgrade(engine)
    funded = [p for p in ref.plan if p.allocation > 0][:20]
    slow = {p.no for p in funded[:5]}
    sent = [Sent(p.no, JUNE, cents(p.allocation * (Decimal("0.1") if p.no in slow else Decimal("0.5"))))
            for p in funded]  # fmt: skip
    run = start_run(engine, "nightly-consolidation", ref.region_code, ref.year)
    load_batch(engine, ref, run, [as_submission(ref, s) for s in sent], [])
    settings = Settings(workdir=workdir)
    raise_alerts(
        engine, ref, settings, run, alert_periods(engine, ref, settings, AS_OF, run_id=run), AS_OF
    )
    finish_run(engine, run)
    engine.dispose()
    return workdir, {s.no: s for s in sent}, slow


@pytest.fixture
def cli(june, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    workdir = june[0]
    monkeypatch.delenv("GUIDEFUND_WAREHOUSE_URL", raising=False)
    monkeypatch.setenv("PREFECT_HOME", str(workdir / ".prefect"))

    def run(*args: str) -> tuple[int, str]:
        code = main([*args, "--workdir", str(workdir)])
        return code, capsys.readouterr().out

    return run


def test_the_open_alerts_are_the_slow_projects_and_projections_of_june_nothing_annual(
    june, cli, ref: Reference
) -> None:
    _, sent, slow = june
    code, out = cli("alerts", "--json")
    alerts = json.loads(out)
    assert code == 1
    assert {a["period"] for a in alerts} == {JUNE}
    assert {a["severity"] for a in alerts} == {"warning"}
    slow_alerts = [
        a for a in alerts if a["rule"] == "execution.progress" and a["level"] == "project"
    ]
    assert sorted(a["project"] for a in slow_alerts) == sorted(slow)
    first = min(slow)
    mine = next(a for a in slow_alerts if a["project"] == first)
    expected_rate = cents(sent[first].spent * 100 / ref.project(first).allocation)  # type: ignore[union-attr]
    assert (mine["value"], mine["threshold"], mine["as_of"]) == (
        float(expected_rate),
        40,
        "2024-07-03",
    )
    assert set(mine) >= {"period", "rule", "severity", "level", "project", "subject", "value",
                         "threshold", "message"}  # fmt: skip
    # Directions and the region are judged on what was reported: (5 × 10 % + 15 × 50 %) of
    # their allocations; those below 40 % are alerted, independently computed here.
    alloc: dict[str, Decimal] = defaultdict(Decimal)
    spent: dict[str, Decimal] = defaultdict(Decimal)
    for no, s in sent.items():
        p = ref.project(no)
        assert p is not None
        for key in (f"类别 {p.category}", ref.region_name):
            alloc[key] += p.allocation
            spent[key] += s.spent
    behind = {k for k in alloc if spent[k] * 100 < 40 * alloc[k]}
    assert {a["subject"] for a in alerts if a["level"] in ("direction", "region")} == behind
    projections = [a for a in alerts if a["level"] == "indicator"]
    assert projections and {a["rule"] for a in projections} == {"indicator.projection"}
    assert all("预计难以完成" in a["message"] and "× 12/6" in a["message"] for a in projections)


def test_alerts_as_of_a_later_day_add_nothing_before_the_due_date_and_nothing_annual(cli) -> None:
    """June's reports are due on 10 July in the 2024 calendar, and none is obligatory: as of
    11 July the same alerts stand, and the annual period is not judged."""
    code, out = cli("alerts", "--json", "--as-of", "2024-07-11")
    alerts = json.loads(out)
    assert {(a["period"], a["as_of"]) for a in alerts} == {(JUNE, "2024-07-11")}
    code, out = cli("alerts", "--period", "2024")
    assert "共 0 条" in out and code == 0


def test_the_monitoring_table_opens_back_with_the_june_figures(
    june, cli, ref: Reference, tmp_path: Path
) -> None:
    _, sent, slow = june
    code, out = cli("monitor", "--period", JUNE, "--as-of", "2024-07-03", "--out", str(tmp_path))
    assert code == 1  # five projects behind
    assert "数据截至 2024-07-03" in out and "未报送 116 个项目" in out
    wb = load_workbook(tmp_path / "运行监控表_2024-06.xlsx")
    assert wb.sheetnames == ["运行监控表", "方向与全区", "指标", "未报送"]
    ws = wb["运行监控表"]
    title = ws["A1"].value
    assert (
        "报告期 2024-06，序时进度 50%，数据截至 2024-07-03，截止日期 2024-07-10，未到截止日期"
        in title
    )
    rows = {int(str(r[0]).split(" ")[0]): r for r in ws.iter_rows(min_row=3, values_only=True)}
    assert len(rows) == len(ref.plan)
    first = min(slow)
    p = ref.project(first)
    assert p is not None
    rate = cents(sent[first].spent * 100 / p.allocation)
    assert rows[first][3:10] == (
        float(p.allocation), float(p.allocation), float(sent[first].spent),
        pytest.approx(float(rate) / 100), 0.5, pytest.approx(float(rate - 50)), "已报送",
    )  # fmt: skip
    unreported = next(no for no in rows if no not in sent)
    assert rows[unreported][4:7] == (None, None, None) and rows[unreported][9] == "未报送"

    region = list(wb["方向与全区"].iter_rows(min_row=3, values_only=True))[-1]
    total_alloc = sum((ref.project(n).allocation for n in sent), Decimal(0))  # type: ignore[union-attr]
    total_spent = sum((s.spent for s in sent.values()), Decimal(0))
    assert region[:6] == (f"合计（{ref.region_name}）", len(ref.plan), 20, float(total_alloc),
                          float(total_alloc), float(total_spent))  # fmt: skip

    indicators = list(
        wb["指标"].iter_rows(min_row=3, max_row=2 + len(ref.targets), values_only=True)
    )
    assert [r[3] for r in indicators] == [t.name for t in ref.targets]
    sums = {r[3]: r for r in indicators if r[6] is not None}
    assert set(sums) == {t.name for t in ref.targets if t.rule == "sum"}
    targeted = {t.name for t in ref.targets if t.rule == "sum" and t.target is not None}
    assert {r[8] for name, r in sums.items() if name in targeted} == {"否"}  # every sum is 0

    missing = list(wb["未报送"].iter_rows(min_row=3, values_only=True))
    assert [r[0] for r in missing] == sorted(set(p.no for p in ref.plan) - set(sent))
    for ws in wb.worksheets:
        assert office.too_short(ws) == [], ws.title
        assert (ws.page_setup.orientation, ws.page_setup.fitToWidth, ws.print_title_rows) == (
            "landscape", 1, "$2:$2",
        )  # fmt: skip
    html = (tmp_path / "运行监控表_2024-06.html").read_text(encoding="utf-8")
    assert "数据截至 2024-07-03" in html and 'id="not-reported"' in html
    assert "http" not in html.replace("http-equiv", "")


def test_status_states_its_as_of_date_and_whether_the_period_is_due(cli) -> None:
    code, out = cli("status", "--period", JUNE, "--as-of", "2024-07-10")
    assert "报告期 2024-06，截至 2024-07-10（截止日期 2024-07-10，未到截止日期）" in out
    code, out = cli("status", "--period", JUNE, "--as-of", "2024-07-11", "--json")
    summary = json.loads(out)
    assert (summary["as_of"], summary["due"], summary["overdue"]) == (
        "2024-07-11",
        "2024-07-10",
        True,
    )
