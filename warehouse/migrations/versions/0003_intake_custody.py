"""Custody that survives a kill, and rejections keyed on the rules (issue 9).

* receipt: `destination` and `filed_at` make each receipt the journal of where its file goes,
  written in the load's transaction and completed by filing away (or by the next run, when
  this one was killed first); `modified_at` keeps the file's mtime; a partial index finds the
  receipts not filed yet.
* submission: `rules_version`, under which rules a rejection was decided.
* receipt.file_name and finding.file widen to 1024 characters: they are now paths inside the
  inbox. (submission.file_name, the first name its bytes came under, stays 255 and holds a
  shortened path when longer: widening it would mean rebuilding a table others reference,
  which SQLite cannot do with foreign keys on inside a transaction.)

Receipts written before this revision were filed away by their own runs: `filed_at` is set to
their `received_at`.

Revision ID: 0003_intake
Revises: 0002
Create Date: 2026-12-03

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_intake"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAMES = (("receipt", "file_name"), ("finding", "file"))


def upgrade() -> None:
    with op.batch_alter_table("receipt") as batch:
        batch.add_column(sa.Column("modified_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("destination", sa.Text(), nullable=True))
        batch.add_column(sa.Column("filed_at", sa.DateTime(), nullable=True))
    op.execute("UPDATE receipt SET filed_at = received_at")
    op.create_index(
        "ix_receipt_unfiled",
        "receipt",
        ["region_code"],
        sqlite_where=sa.text("filed_at IS NULL"),
        postgresql_where=sa.text("filed_at IS NULL"),
    )
    with op.batch_alter_table("submission") as batch:
        batch.add_column(sa.Column("rules_version", sa.String(length=64), nullable=True))
    for table, column in NAMES:
        with op.batch_alter_table(table) as batch:
            batch.alter_column(
                column, existing_type=sa.String(length=255), type_=sa.String(length=1024)
            )


def _defer_foreign_keys() -> None:
    """SQLite rebuilds a table to change a column's type (batch mode); dropping the old
    `submission` would break the facts' and receipts' references for a moment. Checked at
    commit instead, when the rebuilt table holds every row again."""
    if op.get_bind().dialect.name == "sqlite":
        op.execute("PRAGMA defer_foreign_keys = ON")


def downgrade() -> None:
    for table, column in NAMES:
        with op.batch_alter_table(table) as batch:
            batch.alter_column(
                column, existing_type=sa.String(length=1024), type_=sa.String(length=255)
            )
    with op.batch_alter_table("submission") as batch:
        batch.drop_column("rules_version")
    op.drop_index("ix_receipt_unfiled", table_name="receipt")
    with op.batch_alter_table("receipt") as batch:
        batch.drop_column("filed_at")
        batch.drop_column("destination")
        batch.drop_column("modified_at")
