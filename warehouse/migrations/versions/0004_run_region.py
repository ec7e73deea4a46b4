"""A run names the region and year it worked on (issue 11).

* run: `region_code` and `year`, so the weekly digest of one region reads the latest runs of
  that region and year only, never another region's alerts. Runs recorded before this revision
  leave them empty (NULL): they were single-region runs and are matched by no region's digest
  once that region has run again.

Revision ID: 0004_run_region
Revises: 0003_intake
Create Date: 2026-12-03

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_run_region"
down_revision: str | Sequence[str] | None = "0003_intake"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("run") as batch:
        batch.add_column(sa.Column("region_code", sa.String(12), nullable=True))
        batch.add_column(sa.Column("year", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("run") as batch:
        batch.drop_column("year")
        batch.drop_column("region_code")
