"""The units' web page (issue 15): links stored as hashes, the custody record of each upload,
and the ledger of the units' mail.

Revision ID: 0006_portal
Revises: 0003_intake
Create Date: 2026-12-03

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_portal"
down_revision: str | Sequence[str] | None = "0005_monitoring"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "portal_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("region_code", sa.String(length=12), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("unit", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint("kind IN ('unit', 'office')", name=op.f("ck_portal_link_kind")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_link")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_portal_link_token_hash")),
    )
    op.create_index("ix_portal_link_unit", "portal_link", ["region_code", "year", "unit"])
    op.create_table(
        "portal_upload",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("link_id", sa.Integer(), nullable=False),
        sa.Column("region_code", sa.String(length=12), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("unit", sa.String(length=200), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("file_name", sa.String(length=1024), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("project_no", sa.Integer(), nullable=True),
        sa.Column("verdict", sa.String(length=12), nullable=False),
        sa.Column("problems", sa.Integer(), nullable=False),
        sa.Column("stored_at", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "verdict IN ('accepted', 'rejected', 'other_unit', 'duplicate')",
            name=op.f("ck_portal_upload_verdict"),
        ),
        sa.ForeignKeyConstraint(
            ["link_id"], ["portal_link.id"], name=op.f("fk_portal_upload_link_id_portal_link")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portal_upload")),
    )
    op.create_index("ix_portal_upload_unit", "portal_upload", ["region_code", "year", "unit"])
    op.create_index("ix_portal_upload_sha256", "portal_upload", ["sha256"])
    op.create_table(
        "unit_mail",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("region_code", sa.String(length=12), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("unit", sa.String(length=200), nullable=False),
        sa.Column("item", sa.String(length=100), nullable=False),
        sa.Column("address", sa.String(length=320), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("kind IN ('nightly', 'reminder')", name=op.f("ck_unit_mail_kind")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unit_mail")),
        sa.UniqueConstraint(
            "region_code",
            "year",
            "unit",
            "item",
            name=op.f("uq_unit_mail_region_code_year_unit_item"),
        ),
    )


def downgrade() -> None:
    op.drop_table("unit_mail")
    op.drop_index("ix_portal_upload_sha256", table_name="portal_upload")
    op.drop_index("ix_portal_upload_unit", table_name="portal_upload")
    op.drop_table("portal_upload")
    op.drop_index("ix_portal_link_unit", table_name="portal_link")
    op.drop_table("portal_link")
