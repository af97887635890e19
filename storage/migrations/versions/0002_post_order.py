"""Posts keep their place among their request's explicitly: PostgreSQL has no rowid to order them by."""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("posts", sa.Column("position", sa.Integer, nullable=False, server_default="0"))
    if op.get_bind().dialect.name == "sqlite":  # the order they had: the order they were written in
        op.execute("UPDATE posts SET position = rowid")
