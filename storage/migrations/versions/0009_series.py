"""Recurring posts: a request's rule, each occurrence's series and place, and the series themselves."""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _time() -> sa.types.TypeEngine[str]:  # fixed-width UTC text, byte order on PostgreSQL
    return sa.String().with_variant(sa.String(collation="C"), "postgresql")


def upgrade() -> None:
    op.add_column("requests", sa.Column("recurrence", sa.Text))
    op.add_column("requests", sa.Column("series_id", ROW_ID))
    op.add_column("requests", sa.Column("occurrence", sa.Integer))
    op.create_index("requests_one_occurrence", "requests", ["series_id", "occurrence"], unique=True)
    op.create_table(
        "series",
        sa.Column("request_id", ROW_ID, sa.ForeignKey("requests.id"), primary_key=True),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("created", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_at", _time()),
        sa.Column("updated_at", _time(), nullable=False),
    )
    where = sa.text("next_at IS NOT NULL")
    op.create_index("series_due", "series", ["next_at"], sqlite_where=where, postgresql_where=where)
