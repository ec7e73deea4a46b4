"""The reporting calendar at an as-of date: which periods a run evaluates, and when each is due.

A year's `reporting_calendar.csv` lists its periods (月报, 运行监控, 年报), each with a due date
and whether every plan project must send it. A run judges, as of its date:

* the periods that received accepted data in that run (a late report is judged the night it
  comes);
* the current month: the latest month that holds accepted data or is past its due date (an
  older month's figures are superseded by the newer year-to-date ones, so its alerts close);
* the annual period once annual reports arrived or the 年报 is past due; so nothing annual is
  said before then;
* and, for missing reports only, every period past its due date that every plan project must
  send (运行监控, the 年报, …): they stay open until the reports come.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from guidefund.reference import ANNUAL_REPORT, Due, Reference
from guidefund.settings import Settings


def schedule(ref: Reference, settings: Settings) -> list[Due]:
    """The year's periods with their due dates, the annual report's override applied."""
    annual = str(ref.year)
    found = list(ref.calendar)
    if not any(d.period == annual for d in found):
        found.append(Due(annual, ANNUAL_REPORT, date(ref.year + 1, 1, 31), True))
    if settings.submission_deadline is not None:
        found = [
            Due(d.period, d.kind, settings.submission_deadline, d.every_project)
            if d.period == annual else d
            for d in found
        ]  # fmt: skip
    return found


def due_of(ref: Reference, settings: Settings, period: str) -> Due | None:
    """The calendar's entry for `period`, or None when the calendar does not list it."""
    return next((d for d in schedule(ref, settings) if d.period == period), None)


def periods_to_check(
    ref: Reference,
    settings: Settings,
    as_of: date,
    reported: Iterable[str],
    tonight: Iterable[str] = (),
) -> list[str]:
    """The periods a run judges in full as of `as_of` (see the module's docstring), given the
    periods holding accepted data (`reported`) and those that received some in this run
    (`tonight`); without a calendar, the annual period alone (as before it existed). Months
    first, in order, then the year."""
    annual = str(ref.year)
    if not ref.calendar:
        return [annual]
    mine = {p for p in reported if p == annual or p.startswith(f"{ref.year}-")}
    past = {d.period for d in schedule(ref, settings) if as_of > d.due}
    chosen = {p for p in tonight if p in mine}
    months = {p for p in mine | past if p != annual}
    if months:
        chosen.add(max(months))
    if annual in mine or annual in past:
        chosen.add(annual)
    return sorted(chosen, key=lambda p: (p == annual, p))


def obligatory_past_due(ref: Reference, settings: Settings, as_of: date) -> list[str]:
    """The periods every plan project must send whose due date has passed by `as_of`: their
    missing reports are alerted whatever else the run judges."""
    return [d.period for d in schedule(ref, settings) if d.every_project and as_of > d.due]


def no_calendar_note(ref: Reference) -> str:
    """The one line a run prints for a year without a calendar; empty when it has one."""
    if ref.calendar:
        return ""
    return (
        f"{ref.year} 年度没有报送日历（reporting_calendar.csv）：只检查年度报告，"
        "月度报送不单独预警；需要事中监控时请按 README「During the year」添加该文件"
    )
