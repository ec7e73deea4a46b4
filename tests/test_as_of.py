"""The as-of date (issue 16): a run belongs to its day in GUIDEFUND_TIMEZONE, and the nightly
deployment's parameters replay a night as of its date, across the UTC/Asia-Shanghai boundary."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from guidefund.cli import main
from guidefund.flows import deploy
from guidefund.settings import Settings, local_today
from tests.conftest import REFERENCE_DIR


@pytest.mark.parametrize(
    ("utc", "shanghai"),
    [
        (datetime(2024, 6, 30, 15, 59, tzinfo=UTC), date(2024, 6, 30)),  # 23:59 in Beijing
        (datetime(2024, 6, 30, 16, 0, tzinfo=UTC), date(2024, 7, 1)),  # 00:00 on the 1st
        (datetime(2024, 6, 30, 17, 0, tzinfo=UTC), date(2024, 7, 1)),  # 01:00 on the 1st
        (datetime(2024, 12, 31, 18, 0, tzinfo=UTC), date(2025, 1, 1)),  # new year in Beijing
    ],
)
def test_a_run_belongs_to_its_day_in_the_configured_time_zone(
    utc: datetime, shanghai: date
) -> None:
    assert local_today("Asia/Shanghai", utc) == shanghai
    assert local_today("UTC", utc) == utc.date()


def test_as_of_must_be_a_date(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["alerts", "--as-of", "2024-13-01"])
    assert stopped.value.code == 2
    assert "'2024-13-01' 不是日期，应为 YYYY-MM-DD" in capsys.readouterr().err


def _reference(root: Path) -> Path:
    """The 2024 reference with a calendar whose mid-year report is due on 30 June and must come
    from every project."""
    shutil.copytree(REFERENCE_DIR / "650000" / "2024", root / "2024")
    (root / "2024" / "reporting_calendar.csv").write_text(
        "报告期,类型,截止日期,全部项目须报送\n2024-06,运行监控,2024-06-30,是\n2024,年报,2025-01-31,是\n",
        encoding="utf-8",
    )
    return root


@pytest.mark.prefect
def test_the_nightly_deployment_replays_a_night_as_of_its_beijing_date(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, prefect_harness: None
) -> None:
    """The schedule's 01:00 run of 1 July (Beijing) starts at 17:00 UTC on 30 June: as of its
    Beijing date the June report is overdue for every project; as of the UTC date it is not."""
    from guidefund.flows.nightly import nightly_consolidation

    monkeypatch.setenv("GUIDEFUND_REFERENCE_DIR", str(_reference(tmp_path / "reference")))
    monkeypatch.delenv("GUIDEFUND_WAREHOUSE_URL", raising=False)
    workdir = tmp_path / "work"
    (workdir / "inbox").mkdir(parents=True)
    settings = Settings(workdir=workdir, nightly_cron="0 1 * * *")
    (plan,) = [p for p in deploy.plans(settings) if p.name == "nightly-consolidation"]
    assert plan.parameters == {"workdir": str(workdir.resolve()), "region": "", "as_of": None}
    (start,) = deploy.next_runs(plan, 1, datetime(2024, 6, 30, 12, 0, tzinfo=UTC))
    assert start.astimezone(UTC) == datetime(2024, 6, 30, 17, 0, tzinfo=UTC)
    beijing, utc = local_today(plan.timezone, start), start.astimezone(UTC).date()
    assert (beijing, utc) == (date(2024, 7, 1), date(2024, 6, 30))

    # As a deployment's parameters arrive: JSON, the date as ISO text.
    before = nightly_consolidation(**{**plan.parameters, "as_of": utc.isoformat()})
    assert (before.as_of, before.periods, before.new_alerts) == ("2024-06-30", [], 0)

    after = nightly_consolidation(**{**plan.parameters, "as_of": beijing.isoformat()})
    assert (after.as_of, after.periods) == ("2024-07-01", ["2024-06"])
    assert after.new_alerts == 136  # every plan project's June report is missing

    from guidefund.evaluate.alerts import listed
    from guidefund.reference import load_reference
    from guidefund.warehouse.alerts import open_alerts
    from guidefund.warehouse.db import make_engine

    engine = make_engine(f"sqlite:///{workdir / 'warehouse.sqlite'}")
    try:
        ref = load_reference(tmp_path / "reference", 2024)
        alerts = listed(open_alerts(engine, ref.region_code, 2024), ref)
    finally:
        engine.dispose()
    assert {(a["period"], a["rule"], a["severity"], a["level"]) for a in alerts} == {
        ("2024-06", "submission.missing", "warning", "project")
    }
    assert sorted(a["project"] for a in alerts) == list(range(1, 137))
    assert {a["as_of"] for a in alerts} == {date(2024, 7, 1)}
    assert (
        "截至 2024-07-01 仍无已接收的 2024-06 报告期填报（截止日期 2024-06-30）"
        in alerts[0]["message"]
    )


@pytest.mark.prefect
def test_the_digest_is_dated_as_of_its_parameter(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, prefect_harness: None
) -> None:
    """The execution-alerts deployment's as_of dates the digest (an empty warehouse: nothing
    open, and it says so)."""
    from guidefund.flows.digest import execution_alerts

    monkeypatch.delenv("GUIDEFUND_WAREHOUSE_URL", raising=False)
    monkeypatch.delenv("GUIDEFUND_NOTIFY_URL", raising=False)
    workdir = tmp_path / "work"
    settings = Settings(workdir=workdir)
    (plan,) = [p for p in deploy.plans(settings) if p.name == "execution-alerts"]
    digest = execution_alerts(**{**plan.parameters, "as_of": "2024-07-08"})
    assert digest.as_of == date(2024, 7, 8)
    assert (
        digest.title
        == "guidefund 每周预警摘要（新疆维吾尔自治区 650000 2024，截至 2024-07-08）：未关闭 0 条，本周新增 0 条"
    )
    assert digest.title in (workdir / "alerts.log").read_text(encoding="utf-8")
