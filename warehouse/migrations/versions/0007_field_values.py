"""Field values in one long table, and plan versions (issue 11).

Field values: `field_value`, one row per stored submission per
template field, with the value in the typed column of its kind (money, count, rate, text,
date), its unit and its cell.

The values already stored in the fixed columns of fund_execution, indicator_contribution and
self_evaluation are copied into it, one row per column per submission, under the field key the
column was named after; kind, unit and cell are those of the 2024 template the columns were
made for (below, frozen: this revision must migrate the same way whatever the reference files
say later). 是/否 becomes a count of 1 or 0. The fixed tables are kept and still written, so
downgrading drops only field_value (and with it any field that has no fixed column).

Plan versions: `plan_version` (one row per region, year and version of its allocation plan)
and `plan_project` (each version's projects). The plan a warehouse holds becomes version 1 of
its region and year; `project` stays the current version's projects.

Revision ID: 0007_field_values
Revises: 0006_portal
Create Date: 2026-12-03

"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0007_field_values"
down_revision: str | Sequence[str] | None = "0006_portal"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, column = field key, kind, unit, cell) as template_fields.csv of 2024 had them.
COLUMNS = (
    ("fund_execution", "allocation", "money", "万元", "基本信息!C12"),
    ("fund_execution", "funds_received", "money", "万元", "资金情况!C4"),
    ("fund_execution", "funds_spent", "money", "万元", "资金情况!C5"),
    ("fund_execution", "funds_on_time", "money", "万元", "资金情况!C6"),
    ("fund_execution", "self_raised", "money", "万元", "资金情况!C7"),
    ("fund_execution", "local_east_west", "money", "万元", "资金情况!C8"),
    ("fund_execution", "financing", "money", "万元", "资金情况!C9"),
    ("indicator_contribution", "achievements", "int", "项", "绩效指标!C4"),
    ("indicator_contribution", "east_west", "yesno", "", "绩效指标!C5"),
    ("indicator_contribution", "central_local", "yesno", "", "绩效指标!C6"),
    ("indicator_contribution", "hightech_firms", "int", "家", "绩效指标!C7"),
    ("indicator_contribution", "sme_firms", "int", "家", "绩效指标!C8"),
    ("indicator_contribution", "contract_value", "money", "万元", "绩效指标!C9"),
    ("indicator_contribution", "trained_staff", "int", "人次", "绩效指标!C10"),
    ("indicator_contribution", "consulting", "int", "人次", "绩效指标!C11"),
    ("indicator_contribution", "rural", "yesno", "", "绩效指标!C12"),
    ("indicator_contribution", "brokers", "int", "人次", "绩效指标!C13"),
    ("indicator_contribution", "capability", "pct", "%", "绩效指标!C14"),
    ("indicator_contribution", "satisfaction", "pct", "%", "绩效指标!C15"),
    ("self_evaluation", "self_grade", "grade", "", "自评!C4"),
    ("self_evaluation", "deviation_reason", "text", "", "自评!C5"),
    ("self_evaluation", "contact", "text", "", "基本信息!C15"),
    ("self_evaluation", "phone", "text", "", "基本信息!C16"),
    ("self_evaluation", "filled_date", "date", "", "基本信息!C14"),
)
TARGET = {
    "money": "value_money",
    "int": "value_count",
    "yesno": "value_count",
    "pct": "value_rate",
    "date": "value_date",
    "text": "value_text",
    "grade": "value_text",
}


def upgrade() -> None:
    op.create_table(
        "field_value",
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("field_key", sa.String(length=50), nullable=False),
        sa.Column("region_code", sa.String(length=12), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("value_money", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column("value_count", sa.Integer(), nullable=True),
        sa.Column("value_rate", sa.Numeric(precision=12, scale=4), nullable=True),
        sa.Column("value_text", sa.Text(), nullable=True),
        sa.Column("value_date", sa.Date(), nullable=True),
        sa.Column("unit", sa.String(length=20), nullable=True),
        sa.Column("cell", sa.String(length=60), nullable=True),
        sa.ForeignKeyConstraint(
            ["region_code", "year"],
            ["plan_year.region_code", "plan_year.year"],
            name="fk_field_value_plan_year",
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submission.id"],
            name=op.f("fk_field_value_submission_id_submission"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("submission_id", "field_key", name=op.f("pk_field_value")),
    )
    for table, column, kind, unit, cell in COLUMNS:
        value = (
            f"CASE WHEN {column} IS NULL THEN NULL WHEN {column} THEN 1 ELSE 0 END"
            if kind == "yesno"
            else column
        )
        op.execute(
            sa.text(
                f"INSERT INTO field_value (submission_id, field_key, region_code, year, kind,"
                f" {TARGET[kind]}, unit, cell)"
                f" SELECT submission_id, :key, region_code, year, :kind, {value}, :unit, :cell"
                f" FROM {table}"
            ).bindparams(key=column, kind=kind, unit=unit or None, cell=cell)
        )
    _plan_versions()


def _plan_versions() -> None:
    op.create_table(
        "plan_version",
        sa.Column("region_code", sa.String(length=12), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("projects", sa.Integer(), nullable=False),
        sa.Column("allocation", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("added", sa.Integer(), nullable=False),
        sa.Column("removed", sa.Integer(), nullable=False),
        sa.Column("changed", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["region_code", "year"],
            ["plan_year.region_code", "plan_year.year"],
            name="fk_plan_version_plan_year",
        ),
        sa.ForeignKeyConstraint(["run_id"], ["run.id"], name=op.f("fk_plan_version_run_id_run")),
        sa.PrimaryKeyConstraint("region_code", "year", "version", name=op.f("pk_plan_version")),
    )
    op.create_table(
        "plan_project",
        sa.Column("region_code", sa.String(length=12), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("no", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("unit", sa.String(length=200), nullable=False),
        sa.Column("category", sa.String(length=100), nullable=False),
        sa.Column("project_type", sa.String(length=20), nullable=False),
        sa.Column("support_mode", sa.String(length=20), nullable=False),
        sa.Column("allocation", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.ForeignKeyConstraint(
            ["region_code", "year", "version"],
            ["plan_version.region_code", "plan_version.year", "plan_version.version"],
            name="fk_plan_project_plan_version",
        ),
        sa.PrimaryKeyConstraint(
            "region_code", "year", "version", "no", name=op.f("pk_plan_project")
        ),
    )
    now = datetime.now(UTC).replace(tzinfo=None)
    op.execute(
        sa.text(
            "INSERT INTO plan_version (region_code, year, version, recorded_at, run_id, projects,"
            " allocation, added, removed, changed)"
            " SELECT region_code, year, 1, :now, NULL, count(*), sum(allocation), count(*), 0, 0"
            " FROM project GROUP BY region_code, year"
        ).bindparams(sa.bindparam("now", now, type_=sa.DateTime()))
    )
    op.execute(
        "INSERT INTO plan_project (region_code, year, version, no, name, unit, category,"
        " project_type, support_mode, allocation)"
        " SELECT region_code, year, 1, no, name, unit, category, project_type, support_mode,"
        " allocation FROM project"
    )


def downgrade() -> None:
    op.drop_table("plan_project")
    op.drop_table("plan_version")
    op.drop_table("field_value")
