"""What the warehouse knows about bytes and where files went (issue 9, items 5 and 6; issue 10,
item 3), on SQLite and PostgreSQL: known bytes are looked up before parsing, a rejection counts
only under the rules it was decided by, duplicates known in advance only get receipts, and each
receipt is the journal entry filing away completes."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from sqlalchemy import Engine, select, text

from guidefund.records import Submission
from guidefund.reference import Reference
from guidefund.warehouse import models as m
from guidefund.warehouse.custody import Known, known_bytes, rejection_of, unfiled
from guidefund.warehouse.db import upgrade
from guidefund.warehouse.load import (
    LoadResult,
    finish_run,
    load_batch,
    mark_filed,
    short_name,
    start_run,
)

S, R = m.Submission, m.Receipt


def _load(engine: Engine, ref: Reference, *args, **kwargs) -> LoadResult:  # type: ignore[no-untyped-def]
    run_id = start_run(engine, "nightly")
    result = load_batch(engine, ref, run_id, *args, **kwargs)
    finish_run(engine, run_id)
    return result


def bare(sub: Submission, name: str) -> Submission:
    return Submission(path=Path("inbox") / name, sha256=sub.sha256, name=name)


def test_known_bytes_are_accepted_ones_and_rejected_ones_under_the_same_rules(
    warehouse: Engine, ref: Reference, make_submission, make_finding
) -> None:
    good, bad = make_submission(1), make_submission(2, funds_spent=Decimal("400"))
    where = {good.file_name: f"archive/{good.sha256}.xlsx", bad.file_name: "quarantine/002.xlsx"}
    _load(warehouse, ref, [good], [(bad, [make_finding(bad.file_name)])], rules_version="r1",
          destinations=where)  # fmt: skip

    same = known_bytes(warehouse, ref.region_code, ref.year, "r1")
    assert same == {
        good.sha256: Known(1, "accepted", f"archive/{good.sha256}.xlsx"),
        bad.sha256: Known(2, "rejected", "quarantine/002.xlsx"),
    }
    assert set(known_bytes(warehouse, ref.region_code, ref.year, "r2")) == {good.sha256}
    assert known_bytes(warehouse, ref.region_code, 2025, "r1") == {}


def test_a_rejected_file_sent_again_under_new_rules_is_validated_again_and_can_be_accepted(
    warehouse: Engine, ref: Reference, make_submission, make_finding, row_counts
) -> None:
    sub = make_submission(13)
    _load(warehouse, ref, [], [(sub, [make_finding(sub.file_name)])], rules_version="r1")
    again = _load(warehouse, ref, [sub], [], rules_version="r1")  # same rules: a duplicate
    assert (again.duplicate, again.accepted) == (1, 0)

    fixed = _load(warehouse, ref, [sub], [], rules_version="r2")  # reference data corrected

    assert (fixed.received, fixed.accepted, fixed.duplicate) == (1, 1, 0)
    with warehouse.connect() as conn:
        stored = conn.execute(select(S.id, S.state, S.version, S.rules_version)).all()
        receipts = conn.execute(select(R.state, R.submission_id).order_by(R.id)).all()
    assert [tuple(r) for r in stored] == [(1, "accepted", 1, "r2")]
    assert [tuple(r) for r in receipts] == [("rejected", 1), ("duplicate", 1), ("accepted", 1)]
    assert row_counts(warehouse)["fund_execution"] == 1


def test_a_rejected_file_rejected_again_under_new_rules_keeps_one_submission_with_new_findings(
    warehouse: Engine, ref: Reference, make_submission, make_finding
) -> None:
    sub = make_submission(13)
    _load(warehouse, ref, [], [(sub, [make_finding(sub.file_name)])], rules_version="r1")
    second = make_finding(sub.file_name, rule="another_rule")
    result = _load(warehouse, ref, [], [(sub, [second])], rules_version="r2")

    assert (result.rejected, result.duplicate) == (1, 0)
    assert [f.rule for f in rejection_of(warehouse, 1)] == ["another_rule"]
    with warehouse.connect() as conn:
        assert conn.execute(select(S.rules_version)).scalars().all() == ["r2"]


def test_duplicates_known_before_parsing_only_get_receipts(
    warehouse: Engine, ref: Reference, make_submission, row_counts
) -> None:
    sub = make_submission(61)
    _load(warehouse, ref, [sub], [])
    before = row_counts(warehouse)

    result = _load(warehouse, ref, [], [], duplicates=[bare(sub, "unit/061 again.xlsx")],
                   destinations={"unit/061 again.xlsx": "archive/x.xlsx"})  # fmt: skip

    assert result == LoadResult(1, 0, 0, 1, 0, duplicates=("unit/061 again.xlsx",))
    assert row_counts(warehouse) == {**before, "receipt": before["receipt"] + 1}
    with warehouse.connect() as conn:
        row = conn.execute(
            select(R.state, R.submission_id, R.destination).where(R.run_id == 2)
        ).one()
    assert tuple(row) == ("duplicate", 1, "archive/x.xlsx")


def test_a_receipt_waits_to_be_filed_until_marked(
    warehouse: Engine, ref: Reference, make_submission
) -> None:
    a, b = make_submission(1), make_submission(2)
    where = {a.file_name: "archive/a.xlsx", b.file_name: "archive/b.xlsx"}
    _load(warehouse, ref, [a, b], [], destinations=where)
    assert [(u.file_name, u.destination) for u in unfiled(warehouse, ref.region_code)] == [
        (a.file_name, "archive/a.xlsx"),
        (b.file_name, "archive/b.xlsx"),
    ]
    mark_filed(warehouse, 1, [a.file_name])
    assert [u.file_name for u in unfiled(warehouse, ref.region_code)] == [b.file_name]
    assert unfiled(warehouse, "640000") == []


def test_a_path_longer_than_the_submission_column_is_shortened_there_and_whole_on_the_receipt(
    warehouse: Engine, ref: Reference, make_submission
) -> None:
    name = "单位" * 100 + "/" + "很长的文件名" * 40 + ".xlsx"
    sub = make_submission(5, file_name=name)
    sub.name = name
    _load(warehouse, ref, [sub], [])
    with warehouse.connect() as conn:
        stored = conn.execute(select(S.file_name)).scalar_one()
        receipt = conn.execute(select(R.file_name)).scalar_one()
    assert (receipt, stored) == (name, short_name(name))
    assert len(stored) == 255 and stored.endswith(".xlsx") and stored != name


def test_receipts_from_before_custody_count_as_filed(engine: Engine) -> None:
    upgrade(engine, "0002")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO region VALUES ('650000', '新疆')"))
        conn.execute(text("INSERT INTO plan_year VALUES ('650000', 2024, 'f', 1, 1, 0)"))
        conn.execute(text("INSERT INTO run (id, flow_name, started_at, status, received, accepted,"
                          " rejected, duplicate, superseded) VALUES (1, 'n', '2024-12-01', "
                          "'succeeded', 1, 0, 0, 1, 0)"))  # fmt: skip
        conn.execute(text("INSERT INTO receipt (run_id, region_code, year, file_name, sha256,"
                          " received_at, state) VALUES (1, '650000', 2024, 'a.xlsx', 'x',"
                          " '2024-12-01 02:00:00', 'duplicate')"))  # fmt: skip
    upgrade(engine)
    with engine.connect() as conn:
        filed = conn.execute(text("SELECT filed_at FROM receipt")).scalar_one()
    assert str(filed).startswith("2024-12-01 02:00:00")
