"""Posting slots: each channel's, and the slots taken by a /post while it is read or previewed."""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def _time() -> sa.types.TypeEngine[str]:  # fixed-width UTC text, byte order on PostgreSQL
    return sa.String().with_variant(sa.String(collation="C"), "postgresql")


def upgrade() -> None:
    op.add_column("channel_settings", sa.Column("slots", sa.Text))
    op.add_column("channel_settings", sa.Column("slots_zone", sa.Text))
    op.create_table(
        "slot_claims",
        sa.Column("platform", sa.Text, primary_key=True),
        sa.Column("workspace_id", sa.Text, primary_key=True),
        sa.Column("account_id", sa.Text, primary_key=True),
        sa.Column("at", _time(), primary_key=True),
        sa.Column("until", _time(), nullable=False),
    )
