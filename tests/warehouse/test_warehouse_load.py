"""Loading batches: idempotent, versioned, duplicate-aware, receipted and all-or-nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import Engine, select

from guidefund.reference import Reference
from guidefund.warehouse import models as m
from guidefund.warehouse.load import (
    LoadResult,
    finish_run,
    load_batch,
    start_run,
    store_indicator_results,
)
from guidefund.warehouse.queries import current_submissions

S, R = m.Submission, m.Receipt


def _history(engine: Engine) -> list[tuple[int | None, str | None, int | None, str, str]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(S.project_no, S.period, S.version, S.state, S.file_name).order_by(S.id)
        )
        return [tuple(r) for r in rows]  # type: ignore[misc]


def _run(engine: Engine, run_id: int) -> dict[str, object]:
    with engine.connect() as conn:
        row = conn.execute(select(m.Run.__table__).where(m.Run.id == run_id)).one()._mapping
        keys = ("status", "received", "accepted", "rejected", "duplicate", "superseded")
        return {k: row[k] for k in keys}


def _receipts(engine: Engine, run_id: int) -> list[tuple[str, str, str | None]]:
    """(file, state at receipt, the stored submission's file) of one run, in receipt order."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(R.file_name, R.state, S.file_name)
            .outerjoin(S, S.id == R.submission_id)
            .where(R.run_id == run_id)
            .order_by(R.id)
        )
        return [tuple(r) for r in rows]  # type: ignore[misc]


def _load(engine: Engine, ref: Reference, accepted, rejected=(), findings=()) -> LoadResult:
    run_id = start_run(engine, "nightly")
    result = load_batch(engine, ref, run_id, list(accepted), list(rejected), list(findings))
    finish_run(engine, run_id)
    return result


def test_the_same_inbox_loaded_twice_adds_duplicate_receipts_and_nothing_else(
    warehouse: Engine, ref: Reference, make_submission, make_finding, row_counts
) -> None:
    accepted = [make_submission(no) for no in (1, 13, 61, 109)]
    bad = make_submission(2, funds_spent=Decimal("400"))
    rejected = [(bad, [make_finding(bad.file_name)])]
    warnings = [make_finding("013_2024.xlsx", rule="spent_rate", severity="warning")]

    first = _load(warehouse, ref, accepted, rejected, warnings)
    counts = row_counts(warehouse)
    second = _load(warehouse, ref, accepted, rejected, warnings)

    assert first == LoadResult(received=5, accepted=4, rejected=1, duplicate=0, superseded=0)
    assert second == LoadResult(
        received=5,
        accepted=0,
        rejected=0,
        duplicate=5,
        superseded=0,
        duplicates=("001_2024.xlsx", "013_2024.xlsx", "061_2024.xlsx", "109_2024.xlsx",
                    "002_2024.xlsx"),
    )  # fmt: skip
    assert {k: counts[k] for k in ("submission", "fund_execution", "finding", "receipt")} == {
        "submission": 5,
        "fund_execution": 4,
        "finding": 2,
        "receipt": 5,
    }
    # The files were received again: five more receipts, and not one more row anywhere else.
    assert row_counts(warehouse) == {**counts, "receipt": 10}
    assert _receipts(warehouse, 2) == [
        ("001_2024.xlsx", "duplicate", "001_2024.xlsx"),
        ("013_2024.xlsx", "duplicate", "013_2024.xlsx"),
        ("061_2024.xlsx", "duplicate", "061_2024.xlsx"),
        ("109_2024.xlsx", "duplicate", "109_2024.xlsx"),
        ("002_2024.xlsx", "duplicate", "002_2024.xlsx"),
    ]
    assert _run(warehouse, 2) == {
        "status": "succeeded",
        "received": 5,
        "accepted": 0,
        "rejected": 0,
        "duplicate": 5,
        "superseded": 0,
    }


def test_a_changed_resubmission_becomes_version_2_and_version_1_is_superseded(
    warehouse: Engine, ref: Reference, make_submission
) -> None:
    _load(warehouse, ref, [make_submission(13)])
    result = _load(
        warehouse, ref, [make_submission(13, file_name="013_v2.xlsx", funds_spent=Decimal("25"))]
    )

    assert (result.accepted, result.superseded) == (1, 1)
    assert _history(warehouse) == [
        (13, "2024", 1, "superseded", "013_2024.xlsx"),
        (13, "2024", 2, "accepted", "013_v2.xlsx"),
    ]
    [current] = current_submissions(warehouse, ref.region_code, ref.year)
    assert (current["version"], current["funds_spent"]) == (2, Decimal("25.00"))


def test_a_third_version_supersedes_the_second_and_history_keeps_all_facts(
    warehouse: Engine, ref: Reference, make_submission, row_counts
) -> None:
    for spent in ("1", "2", "3"):
        _load(warehouse, ref, [make_submission(13, "2024", f"v{spent}.xlsx", funds_spent=spent)])

    assert [(v, s) for _, _, v, s, _ in _history(warehouse)] == [
        (1, "superseded"),
        (2, "superseded"),
        (3, "accepted"),
    ]
    assert row_counts(warehouse)["fund_execution"] == 3


def test_a_file_whose_content_is_stored_is_recorded_as_a_duplicate(
    warehouse: Engine, ref: Reference, make_submission
) -> None:
    _load(warehouse, ref, [make_submission(61)])
    renamed = make_submission(61, file_name="061_again.xlsx")

    result = _load(warehouse, ref, [renamed])

    assert result == LoadResult(1, 0, 0, 1, 0, duplicates=("061_again.xlsx",))
    assert _run(warehouse, 2)["duplicate"] == 1
    assert _history(warehouse) == [(61, "2024", 1, "accepted", "061_2024.xlsx")]


def test_two_copies_of_one_file_in_a_batch_store_it_once(
    warehouse: Engine, ref: Reference, make_submission
) -> None:
    copies = [make_submission(61), make_submission(61, file_name="copy of 061.xlsx")]

    result = _load(warehouse, ref, copies)

    assert result == LoadResult(2, 1, 0, 1, 0, duplicates=("copy of 061.xlsx",))
    assert _history(warehouse) == [(61, "2024", 1, "accepted", "061_2024.xlsx")]


def test_two_versions_in_one_batch_keep_the_later_as_current(
    warehouse: Engine, ref: Reference, make_submission
) -> None:
    batch = [
        make_submission(1, file_name="a.xlsx"),
        make_submission(1, file_name="b.xlsx", brokers=3),
    ]

    result = _load(warehouse, ref, batch)

    assert (result.accepted, result.superseded) == (2, 1)
    assert _history(warehouse) == [
        (1, "2024", 1, "superseded", "a.xlsx"),
        (1, "2024", 2, "accepted", "b.xlsx"),
    ]


def test_annual_and_monthly_reports_of_a_project_are_versioned_separately(
    warehouse: Engine, ref: Reference, make_submission
) -> None:
    _load(warehouse, ref, [make_submission(1, "2024-07"), make_submission(1, "2024")])

    assert _history(warehouse) == [
        (1, "2024-07", 1, "accepted", "001_2024-07.xlsx"),
        (1, "2024", 1, "accepted", "001_2024.xlsx"),
    ]


def test_a_rejected_file_is_stored_with_its_findings_and_no_facts(
    warehouse: Engine, ref: Reference, make_submission, make_finding, row_counts
) -> None:
    bad = make_submission(2, funds_spent=Decimal("400"))
    problems = [make_finding(bad.file_name), make_finding(bad.file_name, rule="on_time_le_alloc")]

    result = _load(warehouse, ref, [], [(bad, problems)], problems)

    assert result == LoadResult(1, 0, 1, 0, 0)
    assert _history(warehouse) == [(2, "2024", None, "rejected", "002_2024.xlsx")]
    counts = row_counts(warehouse)
    assert (counts["finding"], counts["fund_execution"]) == (2, 0)
    with warehouse.connect() as conn:
        linked = conn.execute(select(m.Finding.submission_id, m.Finding.rule)).all()
    assert sorted(linked) == [(1, "on_time_le_alloc"), (1, "spent_le_received")]


def test_a_rejected_file_without_a_project_number_is_still_recorded(
    warehouse: Engine, ref: Reference, make_submission, make_finding
) -> None:
    unreadable = make_submission(5, file_name="scan.xlsx", project_no="十二", period=None)

    result = _load(warehouse, ref, [], [(unreadable, [make_finding("scan.xlsx")])])

    assert result.rejected == 1
    assert _history(warehouse) == [(None, None, None, "rejected", "scan.xlsx")]


def test_an_accepted_submission_without_project_and_period_is_refused(
    warehouse: Engine, ref: Reference, make_submission, row_counts
) -> None:
    before = row_counts(warehouse)
    with pytest.raises(ValueError, match="needs project_no and period"):
        _load(warehouse, ref, [make_submission(5, period=None)])
    assert row_counts(warehouse) == before


def test_money_and_typed_values_come_back_exactly_as_loaded(
    warehouse: Engine, ref: Reference, make_submission
) -> None:
    sub = make_submission(
        37, funds_spent=Decimal("265.99"), self_raised=Decimal("1234567890123.45"),
        satisfaction=Decimal("97.1234"), east_west=True, deviation_reason="设备到货延迟",
    )  # fmt: skip

    _load(warehouse, ref, [sub])

    [row] = current_submissions(warehouse, ref.region_code, ref.year)
    expected = {k: v for k, v in sub.values.items() if k in row}
    assert {k: row[k] for k in expected} == expected
    assert row["allocation"] == Decimal("266")
    assert isinstance(row["self_raised"], Decimal) and str(row["self_raised"]) == "1234567890123.45"
    assert (row["filled_date"].isoformat(), row["east_west"]) == ("2024-12-31", True)


def test_indicator_results_are_stored_once_per_run_and_indicator(
    warehouse: Engine, ref: Reference
) -> None:
    from guidefund.records import IndicatorResult

    def result(no: int, actual: str, completion: str) -> IndicatorResult:
        t = ref.targets[no - 1]
        return IndicatorResult(
            no=t.no, level1=t.level1, level2=t.level2, indicator=t.name, operator=t.operator,
            target=t.target, target_text=t.target_text, unit=t.unit, rule=t.rule,
            actual=Decimal(actual), actual_text=actual, completion_pct=Decimal(completion),
            deviation_pct=abs(Decimal(completion) - 100), needs_explanation=True,
        )  # fmt: skip

    run_id = start_run(warehouse, "year-end")
    store_indicator_results(warehouse, ref, run_id, [result(2, "100", "61.35")])
    stored = store_indicator_results(
        warehouse, ref, run_id, [result(2, "163", "100.00"), result(7, "1000.00", "50000.00")]
    )

    IR = m.IndicatorResult
    with warehouse.connect() as conn:
        rows = conn.execute(
            select(
                IR.indicator_no, IR.indicator_name, IR.period, IR.actual, IR.completion_pct
            ).order_by(IR.indicator_no)
        ).all()
    assert stored == 2
    assert [tuple(r) for r in rows] == [
        (2, "转化科技成果数量", "2024", Decimal("163"), Decimal("100")),
        (7, "带动社会投入与引导资金投入比例", "2024", Decimal("1000"), Decimal("50000")),
    ]


def test_every_file_received_ends_in_exactly_one_receipt_state(
    warehouse: Engine, ref: Reference, make_submission, make_finding
) -> None:
    _load(warehouse, ref, [make_submission(61)])
    bad = make_submission(2, funds_spent=Decimal("400"))
    batch = [
        make_submission(13, file_name="013_a.xlsx"),
        make_submission(13, file_name="013_b.xlsx", brokers=4),
        make_submission(61, file_name="061_again.xlsx"),
        make_submission(1),
        make_submission(1, file_name="copy of 001.xlsx"),
    ]

    result = _load(warehouse, ref, batch, [(bad, [make_finding(bad.file_name)])])

    assert _receipts(warehouse, 2) == [
        ("013_a.xlsx", "superseded", "013_a.xlsx"),
        ("013_b.xlsx", "accepted", "013_b.xlsx"),
        ("061_again.xlsx", "duplicate", "061_2024.xlsx"),
        ("001_2024.xlsx", "accepted", "001_2024.xlsx"),
        ("copy of 001.xlsx", "duplicate", "001_2024.xlsx"),
        ("002_2024.xlsx", "rejected", "002_2024.xlsx"),
    ]
    assert result == LoadResult(6, 3, 1, 2, 1, duplicates=("061_again.xlsx", "copy of 001.xlsx"))
    assert _run(warehouse, 2) == {
        "status": "succeeded",
        "received": 6,
        "accepted": 3,
        "rejected": 1,
        "duplicate": 2,
        "superseded": 1,
    }


def test_a_receipt_keeps_the_state_at_receipt_and_joins_to_the_current_one(
    warehouse: Engine, ref: Reference, make_submission
) -> None:
    _load(warehouse, ref, [make_submission(13)])
    _load(warehouse, ref, [make_submission(13, file_name="013_v2.xlsx", brokers=2)])

    with warehouse.connect() as conn:
        rows = conn.execute(
            select(R.run_id, R.file_name, R.state, S.state, S.version)
            .join(S, S.id == R.submission_id)
            .order_by(R.id)
        ).all()
    assert [tuple(r) for r in rows] == [
        (1, "013_2024.xlsx", "accepted", "superseded", 1),
        (2, "013_v2.xlsx", "accepted", "accepted", 2),
    ]


def test_a_retried_load_in_the_same_run_receives_each_file_once(
    warehouse: Engine, ref: Reference, make_submission, make_finding, row_counts
) -> None:
    """A load task retried after its commit (e.g. the acknowledgement was lost) must not turn
    the run's own files into duplicates: the archive step would then drop them."""
    bad = make_submission(2, funds_spent=Decimal("400"))
    batch = [make_submission(1), make_submission(13)]
    rejected = [(bad, [make_finding(bad.file_name)])]
    run_id = start_run(warehouse, "nightly")
    first = load_batch(warehouse, ref, run_id, batch, rejected)
    counts = row_counts(warehouse)

    retried = load_batch(warehouse, ref, run_id, batch, rejected)

    assert retried == first == LoadResult(3, 2, 1, 0, 0)
    assert row_counts(warehouse) == counts
    assert _run(warehouse, run_id)["received"] == 3


def test_a_batch_naming_one_file_twice_is_refused_before_anything_is_stored(
    warehouse: Engine, ref: Reference, make_submission, row_counts
) -> None:
    before = row_counts(warehouse)
    twice = [make_submission(1, file_name="a.xlsx"), make_submission(13, file_name="a.xlsx")]

    with pytest.raises(ValueError, match="文件名重复：a.xlsx"):
        _load(warehouse, ref, twice)

    assert row_counts(warehouse) == before
