"""Alerts: 序时进度, year-end execution, missed or overrun indicators, late submissions and
validation warnings, written to the warehouse and deduplicated; on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from guidefund.evaluate.alerts import expected_progress, raise_alerts
from guidefund.intake.samples import generate
from guidefund.intake.template import prefill
from guidefund.records import Finding, Submission
from guidefund.reference import Reference
from guidefund.settings import Settings
from guidefund.warehouse import models as m
from guidefund.warehouse.load import load_batch, start_run

JULY, ANNUAL = "2024-07", "2024"


@pytest.fixture
def db(migrated_warehouse: Engine) -> Engine:
    """An empty warehouse at head (tests/conftest.py: SQLite and PostgreSQL)."""
    return migrated_warehouse


_SAMPLES: dict[int, dict[int, dict[str, Any]]] = {}


def _sample_values(ref: Reference) -> dict[int, dict[str, Any]]:
    if ref.year not in _SAMPLES:
        _SAMPLES[ref.year] = generate(ref, seed=2024)
    return _SAMPLES[ref.year]


def submission(ref: Reference, no: int, period: str, **values: Any) -> Submission:
    """Project `no`'s sample submission for `period`, with `values` changed, as the reader
    returns it; the SHA-256 follows the values, as a file's follows its bytes."""
    project = ref.project(no)
    assert project is not None
    typed = {**prefill(project, ref), **_sample_values(ref)[no], "period": period, **values}
    digest = hashlib.sha256(repr(sorted(typed.items())).encode()).hexdigest()
    return Submission(Path("inbox") / f"{no:03d}_{period}_{digest[:6]}.xlsx", digest, typed)


def load(engine: Engine, ref: Reference, subs: list[Submission], findings=()) -> int:
    run_id = start_run(engine, "nightly-consolidation")
    load_batch(engine, ref, run_id, subs, [], list(findings))
    return run_id


def settings(**changes: Any) -> Settings:
    return Settings(**changes)


def by_rule(alerts: list[dict[str, Any]], rule: str) -> dict[str, dict[str, Any]]:
    return {a["subject"]: a for a in alerts if a["rule"] == rule}


@pytest.mark.parametrize(
    ("period", "expected"),
    [("2024-01", "8.33"), ("2024-03", "25.00"), ("2024-06", "50.00"), ("2024-07", "58.33"),
     ("2024-12", "100.00"), ("2024", "100")],
)  # fmt: skip
def test_expected_progress_is_the_share_of_the_year_elapsed(period: str, expected: str) -> None:
    assert expected_progress(period) == Decimal(expected)


def test_a_project_behind_the_july_progress_is_alerted_with_value_and_threshold(
    db: Engine, ref: Reference
) -> None:
    """July: 序时进度 58.33 %, minus 10 points of tolerance → 48.33 %. Project 3 spent 100 of
    279 (35.84 %); project 4 spent 200 of 300 (66.67 %)."""
    run = load(db, ref, [submission(ref, 3, JULY, funds_spent=Decimal("100.00")),
                         submission(ref, 4, JULY, funds_spent=Decimal("200.00"))])  # fmt: skip
    new = raise_alerts(db, ref, settings(), run, JULY, date(2024, 8, 5))
    lagging = by_rule(new, "execution.progress")
    project = lagging[
        "项目3 中亚农作物种质资源引进中转基地建设（新疆农业科学院农作物品种资源研究所）"
    ]
    assert (project["value"], project["threshold"], project["period"], project["severity"]) == (
        Decimal("35.84"), Decimal("48.33"), JULY, "warning",
    )  # fmt: skip
    assert not any(s.startswith("项目4 ") for s in lagging)
    # In a month the direction and the region are what reported for it: 300 of 279 + 300
    # (51.81 %) is not behind; the unreported projects are not counted as spending nothing.
    assert "类别 区域科技创新体系建设" not in lagging
    assert "新疆维吾尔自治区" not in lagging


def test_in_march_the_same_spending_is_not_behind(db: Engine, ref: Reference) -> None:
    run = load(db, ref, [submission(ref, 3, "2024-03", funds_spent=Decimal("100.00"))])
    new = raise_alerts(db, ref, settings(), run, "2024-03", date(2024, 4, 5))
    assert not any(s.startswith("项目3 ") for s in by_rule(new, "execution.progress"))


def test_the_tolerance_comes_from_settings(db: Engine, ref: Reference) -> None:
    run = load(db, ref, [submission(ref, 3, JULY, funds_spent=Decimal("100.00"))])
    new = raise_alerts(
        db, ref, settings(execution_tolerance_pct=Decimal(30)), run, JULY, date(2024, 8, 5)
    )
    assert not any(s.startswith("项目3 ") for s in by_rule(new, "execution.progress"))


def test_year_end_execution_below_the_minimum_needs_a_reason(db: Engine, ref: Reference) -> None:
    """At year end (90 %): a unit without a stated reason is critical, one with a reason a
    warning, and neither is alerted a second time by the 序时进度 rule."""
    run = load(db, ref, [
        submission(ref, 3, ANNUAL, funds_spent=Decimal("200.00"), deviation_reason=None),
        submission(ref, 4, ANNUAL, funds_spent=Decimal("240.00"), deviation_reason="采购周期长"),
        submission(ref, 5, ANNUAL, funds_spent=Decimal("216.00")),
    ])  # fmt: skip
    new = raise_alerts(db, ref, settings(), run, ANNUAL, date(2024, 12, 31))
    year_end = {a["subject"].split(" ")[0]: a for a in new if a["rule"] == "execution.year_end"}
    assert (year_end["项目3"]["severity"], year_end["项目3"]["value"]) == (
        "critical",
        Decimal("71.68"),
    )
    assert (year_end["项目4"]["severity"], year_end["项目4"]["value"]) == (
        "warning",
        Decimal("80.00"),
    )
    assert "单位说明：采购周期长" in year_end["项目4"]["message"]
    assert "项目5" not in year_end
    assert not [a for a in new if a["rule"] == "execution.progress"]


def test_an_unchanged_alert_is_not_raised_again_and_is_marked_seen(
    db: Engine, ref: Reference
) -> None:
    first = load(db, ref, [submission(ref, 3, JULY, funds_spent=Decimal("100.00"))])
    new_first = raise_alerts(db, ref, settings(), first, JULY, date(2024, 8, 5))
    second = start_run(db, "nightly-consolidation")
    assert raise_alerts(db, ref, settings(), second, JULY, date(2024, 8, 6)) == []
    with db.connect() as conn:
        rows = conn.execute(select(m.Alert.first_run_id, m.Alert.last_seen_run_id)).all()
    assert len(rows) == len(new_first)
    assert set(rows) == {(first, second)}


def test_a_moved_figure_refreshes_the_alert_without_raising_it_again(
    db: Engine, ref: Reference
) -> None:
    first = load(db, ref, [submission(ref, 3, JULY, funds_spent=Decimal("100.00"))])
    raise_alerts(db, ref, settings(), first, JULY, date(2024, 8, 5))
    second = load(db, ref, [submission(ref, 3, JULY, funds_spent=Decimal("120.00"))])
    new = raise_alerts(db, ref, settings(), second, JULY, date(2024, 8, 6))
    assert not any(a["subject"].startswith("项目3 ") for a in new)
    with db.connect() as conn:
        value = conn.execute(
            select(m.Alert.value).where(
                m.Alert.rule == "execution.progress", m.Alert.subject.like("项目3 %")
            )
        ).scalar_one()
    assert value == Decimal("43.01")  # 120 / 279


def test_a_changed_severity_is_a_new_alert(db: Engine, ref: Reference) -> None:
    first = load(db, ref, [submission(ref, 3, ANNUAL, funds_spent=Decimal("200.00"))])
    raise_alerts(db, ref, settings(), first, ANNUAL, date(2024, 12, 31))
    second = load(db, ref, [submission(ref, 3, ANNUAL, funds_spent=Decimal("200.00"),
                                       deviation_reason="设备到货延迟")])  # fmt: skip
    new = raise_alerts(db, ref, settings(), second, ANNUAL, date(2025, 1, 2))
    mine = [a for a in new if a["subject"].startswith("项目3 ")]
    assert [(a["rule"], a["severity"]) for a in mine] == [("execution.year_end", "warning")]


def test_projects_without_an_accepted_annual_report_after_the_deadline(
    db: Engine, ref: Reference
) -> None:
    reported = [submission(ref, p.no, ANNUAL) for p in ref.plan if p.no != 7]
    run = load(db, ref, reported)
    due = settings(submission_deadline=date(2025, 1, 15))
    assert (
        by_rule(raise_alerts(db, ref, due, run, ANNUAL, date(2025, 1, 15)), "submission.missing")
        == {}
    )
    late = by_rule(raise_alerts(db, ref, due, run, ANNUAL, date(2025, 1, 16)), "submission.missing")
    assert list(late) == [
        "项目7 调理番茄制品加工关键技术开发与产业化应用（新疆新康农业发展有限公司）"
    ]
    assert late[next(iter(late))]["severity"] == "critical"
    assert "截止日期 2025-01-15" in late[next(iter(late))]["message"]


def test_the_default_deadline_is_the_end_of_january_after_the_plan_year(
    db: Engine, ref: Reference
) -> None:
    run = load(db, ref, [submission(ref, 3, ANNUAL)])
    assert (
        by_rule(
            raise_alerts(db, ref, settings(), run, ANNUAL, date(2025, 1, 31)), "submission.missing"
        )
        == {}
    )
    late = by_rule(
        raise_alerts(db, ref, settings(), run, ANNUAL, date(2025, 2, 1)), "submission.missing"
    )
    assert len(late) == len(ref.plan) - 1


def test_warning_findings_of_current_submissions_become_alerts(db: Engine, ref: Reference) -> None:
    old = submission(ref, 6, ANNUAL, self_raised=Decimal("1.00"))
    warn = Finding(old.file_name, "资金情况", "C7", "self_raised", "自筹及带动社会投入", "1.00",
                   "enterprise_match", "企业项目自筹应不低于引导资金的2倍", "warning")  # fmt: skip
    first = load(db, ref, [old], [warn])
    alerts = raise_alerts(db, ref, settings(), first, ANNUAL, date(2024, 12, 31))
    raised = [a for a in alerts if a["rule"] == "validation.enterprise_match"]
    assert [(a["subject"], a["value"], a["severity"]) for a in raised] == [
        (f"项目6 {old.file_name} 资金情况!C7", Decimal("1.00"), "warning")
    ]
    # A newer version without the warning supersedes the file: its warning is stale.
    second = load(db, ref, [submission(ref, 6, ANNUAL, self_raised=Decimal("900.00"))])
    again = raise_alerts(db, ref, settings(), second, ANNUAL, date(2024, 12, 31))
    assert not [a for a in again if a["rule"].startswith("validation.")]
    with db.connect() as conn:
        seen = conn.execute(
            select(m.Alert.last_seen_run_id).where(m.Alert.rule == "validation.enterprise_match")
        ).scalar_one()
    assert seen == first


def test_the_seed_year_raises_nine_overruns_and_two_misses(db: Engine, ref: Reference) -> None:
    run = load(db, ref, [submission(ref, p.no, ANNUAL) for p in ref.plan])
    new = raise_alerts(db, ref, settings(), run, ANNUAL, date(2024, 12, 31))
    missed = by_rule(new, "indicator.miss")
    over = by_rule(new, "indicator.overrun")
    assert sorted(missed) == ["指标 培训从事技术创新服务人员数量", "指标 转化科技成果数量"]
    assert len(over) == 9
    assert (missed["指标 转化科技成果数量"]["value"], missed["指标 转化科技成果数量"]["threshold"]) == (
        Decimal("74.85"), Decimal("100"),
    )  # fmt: skip
    assert over["指标 培训技术经纪人数量"]["value"] == Decimal("678.99")
    assert by_rule(new, "execution.year_end")["新疆维吾尔自治区"]["value"] == Decimal("74.99")


def test_in_june_year_to_date_sums_are_projected_to_the_year(db: Engine, ref: Reference) -> None:
    """The seed's annual figures reported as of June project to twice as much: 转化科技成果数量
    122 → 244 of 163 (149.69 %) is on course to overrun, not to miss."""
    run = load(db, ref, [submission(ref, p.no, "2024-06") for p in ref.plan])
    new = raise_alerts(db, ref, settings(), run, "2024-06", date(2024, 7, 3))
    over = by_rule(new, "indicator.overrun")
    assert over["指标 转化科技成果数量"]["value"] == Decimal("149.69")
    assert "按截至 2024-06 的累计数推算全年" in over["指标 转化科技成果数量"]["message"]
    assert "指标 转化科技成果数量" not in by_rule(new, "indicator.miss")


def test_alerts_are_listed_in_project_number_order_not_as_text(
    migrated_warehouse, ref: Reference
) -> None:
    """项目2 before 项目10 before 项目108 (a text sort gives 10, 108, 2)."""
    from guidefund.warehouse.alerts import alert_rows, record_alerts
    from guidefund.warehouse.load import load_reference_data

    with migrated_warehouse.begin() as conn:
        load_reference_data(conn, ref)

    run_id = start_run(migrated_warehouse, "nightly-consolidation")
    rows = [
        {"region_code": ref.region_code, "year": ref.year, "period": "2024", "subject": f"项目{n} 某项目",
         "rule": "submission.missing", "value": None, "threshold": None, "severity": "critical",
         "message": "未提交", "dedup_key": f"k{n}"}
        for n in (108, 10, 2, 109, 11, 1)
    ]  # fmt: skip
    record_alerts(migrated_warehouse, run_id, rows)
    subjects = [a["subject"] for a in alert_rows(migrated_warehouse, run_id=run_id)]
    assert subjects == [f"项目{n} 某项目" for n in (1, 2, 10, 11, 108, 109)]
