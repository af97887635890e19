"""Roles one replica has at a time, such as the unsharded Discord gateway."""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "leases",
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("holder", sa.Text, nullable=False),
        sa.Column("expires_at", sa.String().with_variant(sa.String(collation="C"), "postgresql"), nullable=False),
    )
