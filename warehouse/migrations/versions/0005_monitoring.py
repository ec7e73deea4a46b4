"""In-year monitoring (issue 16): what an alert is about and the date it was judged as of.

* alert.as_of: the as-of date of the run that last raised the alert (its message and figures
  are as of that day);
* alert.level: project / direction / region / indicator / submission;
* alert.project_no: the plan 序号 of a project's alert, else NULL.

Alerts stored before this revision keep NULL in all three: the next run that raises them again
fills them in.

Revision ID: 0005_monitoring
Revises: 0003_intake
Create Date: 2026-12-03

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_monitoring"
down_revision: str | Sequence[str] | None = "0004_run_region"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("alert") as batch:
        batch.add_column(sa.Column("as_of", sa.Date(), nullable=True))
        batch.add_column(sa.Column("level", sa.String(length=12), nullable=True))
        batch.add_column(sa.Column("project_no", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("alert") as batch:
        batch.drop_column("project_no")
        batch.drop_column("level")
        batch.drop_column("as_of")
