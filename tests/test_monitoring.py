"""A year played night by night (issue 16): monthly reports made in code, some slow, some on
track, one late, one corrected, then the annual reports; every night's open alerts are compared
with the set this test computes on its own from what was sent and the calendar."""

from __future__ import annotations

import shutil
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from guidefund.evaluate.alerts import alert_periods, listed, raise_alerts
from guidefund.records import Submission
from guidefund.reference import Reference, load_reference
from guidefund.settings import Settings
from guidefund.warehouse.alerts import open_alerts
from guidefund.warehouse.load import finish_run, load_batch, start_run
from tests.conftest import REFERENCE_DIR
from tests.test_alerts import submission

YEAR = 2024
ANNUAL = str(YEAR)
MUST_REPORT = {"2024-06", ANNUAL}  # the mid-year 运行监控 and the 年报
ANNUAL_DUE = date(2025, 1, 31)
CENT = Decimal("0.01")


def due_of(period: str) -> date:
    """The calendar this test writes: a month is due on the 10th of the next month."""
    if period == ANNUAL:
        return ANNUAL_DUE
    month = int(period[5:])
    return date(YEAR + month // 12, month % 12 + 1, 10)


def write_calendar(year_dir: Path) -> None:
    lines = ["报告期,类型,截止日期,全部项目须报送"]
    for month in range(1, 13):
        period = f"{YEAR}-{month:02d}"
        kind = "运行监控" if period in MUST_REPORT else "月报"
        lines.append(f"{period},{kind},{due_of(period)},{'是' if period in MUST_REPORT else '否'}")
    lines.append(f"{ANNUAL},年报,{ANNUAL_DUE},是")
    (year_dir / "reporting_calendar.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture(scope="module")
def year_ref(tmp_path_factory: pytest.TempPathFactory) -> Reference:
    root = tmp_path_factory.mktemp("reference")
    shutil.copytree(REFERENCE_DIR / "650000" / ANNUAL, root / ANNUAL)
    write_calendar(root / ANNUAL)
    return load_reference(root, YEAR)


# ------------------------------------------------------------------ the year, as data


@dataclass(frozen=True)
class Sent:
    """One report sent: project, period, what it says it spent, and its stated reason."""

    no: int
    period: str
    spent: Decimal
    reason: str | None = None


def cents(x: Decimal) -> Decimal:
    return x.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass
class Scenario:
    ref: Reference

    def __post_init__(self) -> None:
        funded = [p for p in self.ref.plan if p.allocation > 0]
        self.reporters = [p.no for p in funded[:20]]
        self.slow = set(self.reporters[:5])  # spend a tenth of the 序时进度
        self.late = self.reporters[10]  # sends June on 5 August
        self.corrector = self.reporters[0]  # slow in September, corrects it on 6 October
        self.annual_slow = {self.reporters[0]: None, self.reporters[1]: "设备到货延迟"}
        self.alloc = {p.no: p.allocation for p in self.ref.plan}

    def month_report(self, no: int, month: int, on_track: bool) -> Sent:
        share = Decimal(month) / 12 if on_track else Decimal(month) / 120
        return Sent(no, f"{YEAR}-{month:02d}", cents(self.alloc[no] * share))

    def nights(self) -> dict[date, list[Sent]]:
        """What arrives on each night: a month's reports on the 3rd of the next month."""
        sent: dict[date, list[Sent]] = defaultdict(list)
        for month in range(1, 13):
            night = date(YEAR + month // 12, month % 12 + 1, 3)
            for no in self.reporters:
                if month == 6 and no == self.late:
                    continue
                sent[night].append(self.month_report(no, month, no not in self.slow))
        sent[date(YEAR, 8, 5)].append(self.month_report(self.late, 6, True))
        sent[date(YEAR, 10, 6)].append(self.month_report(self.corrector, 9, True))
        for no in self.reporters:
            spent = {self.reporters[0]: Decimal("0.5"), self.reporters[1]: Decimal("0.6")}.get(
                no, Decimal("0.95")
            )
            reason = self.annual_slow.get(no)
            sent[date(YEAR + 1, 1, 15)].append(
                Sent(no, ANNUAL, cents(self.alloc[no] * spent), reason)
            )
        return sent


def as_submission(ref: Reference, s: Sent) -> Submission:
    """The report as read: sum indicators 0 (so every one falls short, predictably), rates on
    target, the money as sent."""
    a = ref.project(s.no).allocation  # type: ignore[union-attr]
    zeros = {t.field: Decimal(0) if ref.field(t.field).kind == "money" else 0
             for t in ref.targets if t.rule == "sum"}  # fmt: skip
    money = {"funds_received": a, "funds_spent": s.spent, "funds_on_time": a, "self_raised": a * 2}
    return submission(ref, s.no, s.period, **{**zeros, **money}, capability=Decimal(100),
                      satisfaction=Decimal(100), deviation_reason=s.reason)  # fmt: skip


# ------------------------------------------------------------------ what must be open


Key = tuple[str, str, str, str, str]  # period, rule, severity, level, project 序号 or subject


def progress(period: str) -> Decimal:
    return Decimal(100) if period == ANNUAL else cents(Decimal(int(period[5:]) * 100) / 12)


def checked(current: dict[tuple[int, str], Sent], tonight: set[str], night: date) -> set[str]:
    """The periods judged in full: tonight's, the latest month with reports or past due, the
    annual one once it has reports or is past due."""
    with_data = {period for _, period in current}
    past = {p for p in [*(f"{YEAR}-{m:02d}" for m in range(1, 13)), ANNUAL] if night > due_of(p)}
    months = {p for p in with_data | past if p != ANNUAL}
    latest = {max(months)} if months else set()
    return tonight | latest | ((with_data | past) & {ANNUAL})


def expected(
    ref: Reference, current: dict[tuple[int, str], Sent], tonight: set[str], night: date
) -> set[Key]:
    """The open alerts as of `night`, from the reports current then and the calendar alone."""
    plan = {p.no: p for p in ref.plan}
    periods = checked(current, tonight, night)
    out: set[Key] = set()
    sums = [t for t in ref.targets if t.rule == "sum" and t.target is not None]
    for period in periods:
        mine = {no: s for (no, p), s in current.items() if p == period}
        annual = period == ANNUAL
        floor = Decimal(90) if annual else progress(period) - 10
        for no, s in mine.items():
            alloc = plan[no].allocation
            if s.spent * 100 < floor * alloc:
                if annual:
                    severity = "warning" if s.reason else "critical"
                    out.add((period, "execution.year_end", severity, "project", str(no)))
                else:
                    out.add((period, "execution.progress", "warning", "project", str(no)))
        groups: dict[str, list[int]] = defaultdict(list)
        for p in ref.plan:
            if annual or p.no in mine:
                groups[f"类别 {p.category}"].append(p.no)
                groups[ref.region_name].append(p.no)
        for subject, nos in groups.items():
            alloc = sum((plan[n].allocation for n in nos), Decimal(0))
            spent = sum((mine[n].spent for n in nos if n in mine), Decimal(0))
            if alloc and spent * 100 < floor * alloc:
                level = "region" if subject == ref.region_name else "direction"
                rule = "execution.year_end" if annual else "execution.progress"
                severity = "critical" if annual else "warning"
                out.add((period, rule, severity, level, subject))
        if mine:
            rule, severity = (
                ("indicator.miss", "critical") if annual else ("indicator.projection", "warning")
            )
            out |= {(period, rule, severity, "indicator", f"指标 {t.name}") for t in sums}
    for period in MUST_REPORT:
        if night > due_of(period):
            sent = {no for no, p in current if p == period}
            severity = "critical" if period == ANNUAL else "warning"
            out |= {(period, "submission.missing", severity, "project", str(p.no))
                    for p in ref.plan if p.no not in sent}  # fmt: skip
    return out


def keys(alerts: list[dict[str, Any]]) -> set[Key]:
    return {
        (a["period"], a["rule"], a["severity"], a["level"],
         str(a["project"]) if a["project"] is not None else a["subject"])
        for a in alerts
    }  # fmt: skip


# ------------------------------------------------------------------ the play


def days(first: date, last: date) -> Iterator[date]:
    while first <= last:
        yield first
        first += timedelta(days=1)


@pytest.fixture(scope="module")
def played(year_ref: Reference, tmp_path_factory: pytest.TempPathFactory):
    """Every night from 1 January to the end of the next February: the night's reports loaded,
    the alerts raised as of that night (the nightly flow's own functions), the open ones kept."""
    from sqlalchemy import event

    from guidefund.warehouse.db import make_engine, upgrade

    ref = year_ref
    engine: Engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('year')}/w.sqlite")
    # 1,300 commits: not waiting for the disk at each keeps the year at seconds. Durability is
    # not what this test is about (tests/faults is).
    event.listen(engine, "connect", lambda conn, _: conn.execute("PRAGMA synchronous=OFF"))
    upgrade(engine)
    settings = Settings(reference_dir=ref.year_dir.parent)
    scenario = Scenario(ref)
    arriving = scenario.nights()
    current: dict[tuple[int, str], Sent] = {}
    nights: dict[date, tuple[set[Key], set[Key], list[str]]] = {}
    raised: dict[date, set[Key]] = {}
    for night in days(date(YEAR, 1, 1), date(YEAR + 1, 2, 28)):
        run = start_run(engine, "nightly-consolidation", ref.region_code, YEAR)
        sent = arriving.get(night, [])
        if sent:
            load_batch(engine, ref, run, [as_submission(ref, s) for s in sent], [])
            current.update({(s.no, s.period): s for s in sent})
        periods = alert_periods(engine, ref, settings, night, run_id=run)
        new = keys(listed(raise_alerts(engine, ref, settings, run, periods, night), ref))
        finish_run(engine, run)
        found = listed(open_alerts(engine, ref.region_code, YEAR), ref)
        assert {a["as_of"] for a in found} <= {night}
        tonight = {s.period for s in sent}
        assert sorted(periods) == sorted(checked(current, tonight, night)), night
        nights[night] = (keys(found), expected(ref, current, tonight, night), periods)
        raised[night] = new
    yield scenario, nights, raised
    engine.dispose()


def test_every_night_the_open_alerts_are_exactly_those_the_calendar_and_reports_imply(
    played,
) -> None:
    _, nights, _ = played
    wrong = {night: (sorted(got - want)[:3], sorted(want - got)[:3])
             for night, (got, want, _) in nights.items() if got != want}  # fmt: skip
    assert wrong == {}
    assert len(nights) == 425  # 366 nights of 2024, 59 of 2025


def test_nothing_annual_and_nothing_critical_before_the_year_ends(played) -> None:
    _, nights, _ = played
    for night, (got, _, periods) in nights.items():
        if night <= date(YEAR, 12, 31):
            assert ANNUAL not in periods, night
            assert not [k for k in got if k[2] == "critical" or k[0] == ANNUAL], night
    # The annual reports of 15 January bring the annual period in, with its critical misses.
    assert ANNUAL in nights[date(YEAR + 1, 1, 15)][2]
    assert ANNUAL not in nights[date(YEAR + 1, 1, 14)][2]


def test_each_slow_project_is_alerted_in_the_period_it_reported(played) -> None:
    scenario, nights, _ = played
    july_3 = nights[date(YEAR, 7, 3)][0]
    slow_june = {
        k[4] for k in july_3 if k[:2] == ("2024-06", "execution.progress") and k[3] == "project"
    }
    assert slow_june == {str(n) for n in scenario.slow}
    # Nothing about June the night before its reports came.
    assert not [k for k in nights[date(YEAR, 7, 2)][0] if k[0] == "2024-06"]


def test_a_missing_report_appears_the_day_after_its_due_date_and_a_late_one_closes_it(
    played, year_ref: Reference
) -> None:
    scenario, nights, _ = played

    def missing(night: date) -> set[str]:
        return {k[4] for k in nights[night][0] if k[:2] == ("2024-06", "submission.missing")}

    assert missing(date(YEAR, 7, 10)) == set()  # due that day
    reporting = set(scenario.reporters) - {scenario.late}
    assert missing(date(YEAR, 7, 11)) == {str(p.no) for p in year_ref.plan if p.no not in reporting}
    assert str(scenario.late) in missing(date(YEAR, 8, 4))
    assert str(scenario.late) not in missing(date(YEAR, 8, 5))
    # Months nobody must report are never "missing".
    assert not [k for k in nights[date(YEAR, 12, 31)][0]
                if k[1] == "submission.missing" and k[0] != "2024-06"]  # fmt: skip
    # The annual report is critical, the day after 31 January.
    assert not [k for k in nights[ANNUAL_DUE][0] if k[:2] == (ANNUAL, "submission.missing")]
    late_annual = [k for k in nights[ANNUAL_DUE + timedelta(days=1)][0]
                   if k[:2] == (ANNUAL, "submission.missing")]  # fmt: skip
    assert {k[2] for k in late_annual} == {"critical"}
    assert len(late_annual) == len(year_ref.plan) - len(scenario.reporters)


def test_an_older_month_closes_when_a_newer_one_is_current(played) -> None:
    """May's slow projects are open until June's reports come (3 July), then June's are."""
    _, nights, _ = played
    assert {k[0] for k in nights[date(YEAR, 7, 2)][0]} == {"2024-05"}
    assert {k[0] for k in nights[date(YEAR, 7, 3)][0]} == {"2024-06"}
    # June must be sent by every project: in December only its missing reports are still open.
    june = {k[1] for k in nights[date(YEAR, 12, 31)][0] if k[0] == "2024-06"}
    assert june == {"submission.missing"}


def test_a_corrected_report_closes_its_alert(played) -> None:
    scenario, nights, _ = played
    mine = ("2024-09", "execution.progress", "warning", "project", str(scenario.corrector))
    assert mine in nights[date(YEAR, 10, 5)][0]
    assert mine not in nights[date(YEAR, 10, 6)][0]


# ------------------------------------------------------------------ the calendar file


def test_the_2024_calendar_is_monthly_with_the_annual_report_due_31_january(ref: Reference) -> None:
    assert [(d.period, d.kind, d.due, d.every_project) for d in ref.calendar][5:7] == [
        ("2024-06", "运行监控", date(2024, 7, 10), False),
        ("2024-07", "月报", date(2024, 8, 10), False),
    ]
    assert (ref.calendar[-1].period, ref.calendar[-1].due, ref.calendar[-1].every_project) == (
        ANNUAL, ANNUAL_DUE, True,
    )  # fmt: skip
    assert len(ref.calendar) == 13


def test_a_malformed_calendar_is_refused_naming_file_row_and_column(tmp_path: Path) -> None:
    from guidefund.reference import ReferenceError

    shutil.copytree(REFERENCE_DIR / "650000" / ANNUAL, tmp_path / ANNUAL)
    (tmp_path / ANNUAL / "reporting_calendar.csv").write_text(
        "报告期,类型,截止日期,全部项目须报送\n"
        "2024-06,季报,2024-07-10,是\n"
        "2024-13,月报,2024-07-10,是\n"
        "2024-07,月报,7月10日,是\n"
        "2024-08,月报,2024-09-10,必须\n"
        "2024-09,月报,2024-10-10,否\n2024-09,月报,2024-10-12,否\n",
        encoding="utf-8",
    )
    with pytest.raises(ReferenceError) as refused:
        load_reference(tmp_path, YEAR)
    assert refused.value.problems == [
        "reporting_calendar.csv 第 2 行 类型：'季报' 应为 月报、运行监控、年报 之一",
        "reporting_calendar.csv 第 3 行 报告期：'2024-13' 应为 2024（年报）或 2024-01 … 2024-12（月份）",
        "reporting_calendar.csv 第 4 行 截止日期：'7月10日' 不是日期（应为 YYYY-MM-DD）",
        "reporting_calendar.csv 第 5 行 全部项目须报送：'必须' 应为 是 或 否",
        "reporting_calendar.csv 报告期 2024-09 出现多次",
    ]


def test_a_year_without_a_calendar_checks_the_annual_period_as_before_and_says_so(
    tmp_path: Path,
) -> None:
    """Without reporting_calendar.csv, July is judged as before the calendar existed: the
    annual period alone (so the issue's 16 annual alerts of July would stand), due 31 January
    or GUIDEFUND_SUBMISSION_DEADLINE; one line says so."""
    from guidefund.evaluate.calendar import no_calendar_note, periods_to_check, schedule

    shutil.copytree(REFERENCE_DIR / "650000" / ANNUAL, tmp_path / ANNUAL)
    (tmp_path / ANNUAL / "reporting_calendar.csv").unlink()
    bare = load_reference(tmp_path, YEAR)
    settings = Settings(reference_dir=tmp_path)
    assert bare.calendar == ()
    assert periods_to_check(bare, settings, date(YEAR, 7, 3), ["2024-06"], ["2024-06"]) == [ANNUAL]
    assert [(d.period, d.due) for d in schedule(bare, settings)] == [(ANNUAL, ANNUAL_DUE)]
    moved = Settings(reference_dir=tmp_path, submission_deadline=date(2025, 2, 15))
    assert [(d.period, d.due) for d in schedule(bare, moved)] == [(ANNUAL, date(2025, 2, 15))]
    assert no_calendar_note(bare).startswith("2024 年度没有报送日历（reporting_calendar.csv）")
    assert no_calendar_note(load_reference(REFERENCE_DIR, YEAR)) == ""


def test_an_alert_is_new_once_however_many_nights_it_stays_open(played) -> None:
    """Deduplicated across nights: each open alert was raised as new on exactly one night
    (the slow June projects on 3 July, the missing June reports on 11 July), never again while
    it stayed open."""
    _, nights, raised = played
    first: dict[Key, list[date]] = defaultdict(list)
    for night, new in raised.items():
        for key in new:
            first[key].append(night)
    reopened = {k: v for k, v in first.items() if len(v) > 1}
    # An alert that closed and came back is new again; in this year only the late project's
    # June alerts could, and they do not.
    assert reopened == {}
    missing_june = {k for k, v in first.items() if k[:2] == ("2024-06", "submission.missing")}
    assert {first[k][0] for k in missing_june} == {date(YEAR, 7, 11)}
    slow_june = {
        k for k in first if k[:2] == ("2024-06", "execution.progress") and k[3] == "project"
    }
    assert {first[k][0] for k in slow_june} == {date(YEAR, 7, 3)}
