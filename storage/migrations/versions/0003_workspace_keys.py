"""Workspaces' own Infinipost keys, sealed with BOT_ENCRYPTION_KEY (`/infinipost connect`)."""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "workspace_keys",
        sa.Column("platform", sa.Text, primary_key=True),
        sa.Column("workspace_id", sa.Text, primary_key=True),
        sa.Column("sealed", sa.Text, nullable=False),
        sa.Column("last4", sa.Text, nullable=False),
        sa.Column("connected_by", sa.Text, nullable=False),
        sa.Column("connected_at", sa.String().with_variant(sa.String(collation="C"), "postgresql"), nullable=False),
    )
