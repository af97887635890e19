"""Approvals: whom a channel's posts wait for, and where each request stands with its approvers."""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _time() -> sa.types.TypeEngine[str]:  # fixed-width UTC text, byte order on PostgreSQL
    return sa.String().with_variant(sa.String(collation="C"), "postgresql")


def upgrade() -> None:
    op.add_column("requests", sa.Column("approval", sa.Text))
    op.add_column("requests", sa.Column("approval_due", _time()))
    where = sa.text("approval_due IS NOT NULL")
    op.create_index("requests_approval_due", "requests", ["approval_due"], sqlite_where=where, postgresql_where=where)
    op.add_column("channel_settings", sa.Column("approvers", sa.Text))
    op.add_column(
        "channel_settings",
        sa.Column(
            "authors_may_approve",
            sa.Boolean(create_constraint=False),
            nullable=False,
            server_default=sa.text("false"),
        ),
    )
