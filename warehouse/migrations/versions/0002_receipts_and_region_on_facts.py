"""Receipts (one row per file received per run) and region/year on every fact row.

Existing data is carried over: facts take the region and year of their submission, findings of
their submission or else of their run's submissions, and every stored submission gets the
receipt its run would have written (accepted, rejected, or superseded when a later version came
in the same run). Duplicates received before this revision were only counted in run.duplicate,
so they have no receipt.

Revision ID: 0002
Revises: 0001
Create Date: 2024-12-02

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FACTS = ("fund_execution", "indicator_contribution", "self_evaluation")


def upgrade() -> None:
    op.create_table(
        "receipt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("region_code", sa.String(length=12), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "state IN ('accepted', 'rejected', 'duplicate', 'superseded')",
            name=op.f("ck_receipt_state"),
        ),
        sa.ForeignKeyConstraint(
            ["region_code", "year"],
            ["plan_year.region_code", "plan_year.year"],
            name="fk_receipt_plan_year",
        ),
        sa.ForeignKeyConstraint(["run_id"], ["run.id"], name=op.f("fk_receipt_run_id_run")),
        sa.ForeignKeyConstraint(
            ["submission_id"], ["submission.id"], name=op.f("fk_receipt_submission_id_submission")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_receipt")),
        sa.UniqueConstraint("run_id", "file_name", name=op.f("uq_receipt_run_id_file_name")),
    )
    op.create_index(op.f("ix_receipt_submission_id"), "receipt", ["submission_id"])

    for table in (*FACTS, "finding"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("region_code", sa.String(length=12), nullable=True))
            batch.add_column(sa.Column("year", sa.Integer(), nullable=True))
    _backfill_region()
    for table in (*FACTS, "finding"):
        # On SQLite this rebuilds the table (batch mode); the copied rows are already filled.
        with op.batch_alter_table(table) as batch:
            batch.alter_column("region_code", existing_type=sa.String(length=12), nullable=False)
            batch.alter_column("year", existing_type=sa.Integer(), nullable=False)
            batch.create_foreign_key(
                f"fk_{table}_plan_year",
                "plan_year",
                ["region_code", "year"],
                ["region_code", "year"],
            )
    _backfill_receipts()


def _backfill_region() -> None:
    # Correlated subqueries rather than UPDATE ... FROM: the same statement runs on both dialects.
    for table in FACTS:
        op.execute(
            f"UPDATE {table} SET"
            f" region_code = (SELECT s.region_code FROM submission s WHERE s.id = {table}.submission_id),"
            f" year = (SELECT s.year FROM submission s WHERE s.id = {table}.submission_id)"
        )
    # A finding without a submission belongs to its run's batch, and a batch is one region-year.
    for column in ("region_code", "year"):
        op.execute(
            f"UPDATE finding SET {column} = COALESCE("
            f"(SELECT s.{column} FROM submission s WHERE s.id = finding.submission_id),"
            f"(SELECT MIN(s.{column}) FROM submission s WHERE s.run_id = finding.run_id))"
        )
    orphans = op.get_bind().execute(
        sa.text("SELECT COUNT(*) FROM finding WHERE region_code IS NULL OR year IS NULL")
    )
    if n := orphans.scalar_one():
        raise RuntimeError(
            f"{n} 条 finding 既无对应 submission、其运行也无 submission，无法确定地区和年度；"
            "请先为这些行补上 submission_id 或删除后再升级"
        )


def _backfill_receipts() -> None:
    op.execute(
        "INSERT INTO receipt"
        " (run_id, region_code, year, file_name, sha256, received_at, state, submission_id)"
        " SELECT s.run_id, s.region_code, s.year, s.file_name, s.sha256, s.received_at,"
        " CASE WHEN s.state = 'rejected' THEN 'rejected'"
        "  WHEN EXISTS (SELECT 1 FROM submission n WHERE n.region_code = s.region_code"
        "   AND n.year = s.year AND n.project_no = s.project_no AND n.period = s.period"
        "   AND n.version > s.version AND n.run_id = s.run_id) THEN 'superseded'"
        "  ELSE 'accepted' END,"
        " s.id"
        " FROM submission s ORDER BY s.id"
    )


def downgrade() -> None:
    for table in ("finding", *reversed(FACTS)):
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(f"fk_{table}_plan_year", type_="foreignkey")
            batch.drop_column("year")
            batch.drop_column("region_code")
    op.drop_index(op.f("ix_receipt_submission_id"), table_name="receipt")
    op.drop_table("receipt")
