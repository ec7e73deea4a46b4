"""Every submitted value is one row of field_value, keyed by submission and field key, in the
typed column of its kind; revision 0007 moves what the fixed columns held into it unchanged."""

from __future__ import annotations

from decimal import Decimal

from alembic import command
from sqlalchemy import Engine, select, text

from guidefund.reference import Reference
from guidefund.warehouse import models as m
from guidefund.warehouse.db import alembic_config, current_revision, upgrade
from guidefund.warehouse.load import finish_run, load_batch, start_run
from guidefund.warehouse.queries import current_submissions, field_totals

V = m.FieldValue
MIGRATED = (
    "allocation", "funds_received", "funds_spent", "funds_on_time", "self_raised",
    "local_east_west", "financing", "achievements", "east_west", "central_local",
    "hightech_firms", "sme_firms", "contract_value", "trained_staff", "consulting", "rural",
    "brokers", "capability", "satisfaction", "self_grade", "deviation_reason", "contact", "phone",
    "filled_date",
)  # fmt: skip


def _load(engine: Engine, ref: Reference, subs) -> None:
    run_id = start_run(engine, "nightly")
    load_batch(engine, ref, run_id, subs, [])
    finish_run(engine, run_id)


def _field_values(engine: Engine, keys=None) -> list[tuple]:
    columns = [c for c in V.__table__.columns]
    stmt = select(*columns).order_by(V.submission_id, V.field_key)
    if keys is not None:
        stmt = stmt.where(V.field_key.in_(keys))
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(stmt)]


def test_a_submission_is_stored_as_one_typed_row_per_template_field(
    warehouse: Engine, ref: Reference, make_submission
) -> None:
    sub = make_submission(13, funds_spent=Decimal("12.34"), east_west=True, phone=None)

    _load(warehouse, ref, [sub])

    with warehouse.connect() as conn:
        rows = {r.field_key: r for r in conn.execute(select(V))}
    # Every field of template_fields.csv but the submission's own keys (序号, 报告期, 模板版本).
    assert set(rows) == {f.key for f in ref.fields} - {"project_no", "period", "template_version"}
    spent, yes, grade, day, phone = (rows[k] for k in
                                     ("funds_spent", "east_west", "self_grade", "filled_date",
                                      "phone"))  # fmt: skip
    assert (spent.kind, spent.value_money, spent.unit, spent.cell) == (
        "money",
        Decimal("12.34"),
        "万元",
        "资金情况!C5",
    )
    assert (yes.kind, yes.value_count, yes.value_money) == ("yesno", 1, None)
    assert (grade.value_text, day.value_date.isoformat()) == ("优", "2024-12-31")
    assert (phone.value_text, phone.cell) == (None, "基本信息!C16")
    assert rows["satisfaction"].value_rate == Decimal("95.0000")
    assert rows["achievements"].value_count == 1


def test_upgrading_a_warehouse_holding_data_to_0007_moves_every_fixed_column_without_loss(
    warehouse: Engine, ref: Reference, make_submission
) -> None:
    """Stored by this code (fixed columns and field values), taken back to 0003 (field values
    gone, fixed columns kept), migrated again: the migration rebuilds exactly what the load
    wrote, for current, superseded and second-period versions alike."""
    _load(
        warehouse,
        ref,
        [
            make_submission(1, funds_spent=Decimal("1.10")),
            make_submission(13, "2024-07", rural=True, capability=Decimal("80.5")),
        ],
    )
    _load(warehouse, ref, [make_submission(1, file_name="v2.xlsx", funds_spent=Decimal("2.20"),
                                           deviation_reason="设备到货延迟", east_west=None)])  # fmt: skip
    written = _field_values(warehouse, MIGRATED)
    totals = field_totals(warehouse, ref.region_code, ref.year, "2024")
    assert len(written) == 3 * len(MIGRATED)

    with warehouse.begin() as conn:
        command.downgrade(alembic_config(conn), "0006_portal")
    with warehouse.connect() as conn:
        assert current_revision(warehouse) == "0006_portal"
        tables = conn.execute(text("SELECT count(*) FROM fund_execution")).scalar_one()
    upgrade(warehouse)

    assert tables == 3
    assert current_revision(warehouse) == "0007_field_values"
    assert _field_values(warehouse) == written
    assert field_totals(warehouse, ref.region_code, ref.year, "2024") == totals
    assert totals["funds_spent"] == Decimal("2.20")
    [v2, july] = current_submissions(warehouse, ref.region_code, ref.year)
    assert (v2["version"], v2["deviation_reason"], v2["east_west"]) == (2, "设备到货延迟", None)
    assert (july["rural"], july["capability"]) == (True, Decimal("80.5000"))
