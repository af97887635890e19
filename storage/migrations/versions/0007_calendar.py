"""The calendar: private iCal feeds, and each channel's weekly digest (its setting, and the digests sent)."""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def _time() -> sa.types.TypeEngine[str]:  # fixed-width UTC text, byte order on PostgreSQL
    return sa.String().with_variant(sa.String(collation="C"), "postgresql")


def upgrade() -> None:
    op.create_index("requests_by_update", "requests", ["updated_at"])
    op.create_table(
        "calendar_feeds",
        sa.Column("token_hash", sa.Text, primary_key=True),
        sa.Column("platform", sa.Text, nullable=False),
        sa.Column("workspace_id", sa.Text, nullable=False),
        sa.Column("user_id", sa.Text, nullable=False),
        sa.Column("channels", sa.Text),
        sa.Column("created_at", _time(), nullable=False),
        sa.Column("revoked_at", _time()),
    )
    op.create_index("calendar_feeds_by_user", "calendar_feeds", ["platform", "workspace_id", "user_id"])
    op.create_table(
        "digest_settings",
        sa.Column("platform", sa.Text, primary_key=True),
        sa.Column("workspace_id", sa.Text, primary_key=True),
        sa.Column("channel_id", sa.Text, primary_key=True),
        sa.Column("enabled", sa.Boolean(create_constraint=False), nullable=False),
        sa.Column("weekday", sa.Integer, nullable=False),
        sa.Column("minute", sa.Integer, nullable=False),
        sa.Column("zone", sa.Text, nullable=False),
        sa.Column("updated_at", _time(), nullable=False),
    )
    op.create_table(
        "digests_sent",
        sa.Column("platform", sa.Text, primary_key=True),
        sa.Column("workspace_id", sa.Text, primary_key=True),
        sa.Column("channel_id", sa.Text, primary_key=True),
        sa.Column("due_at", _time(), primary_key=True),
        sa.Column("sent_at", _time(), nullable=False),
    )
