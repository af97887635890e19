"""The schema every database had when PostgreSQL came: what the SQLite-only releases built in nine steps.

A database from such a release is not changed by this revision; it is only marked as having it.
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _time() -> sa.types.TypeEngine[str]:  # fixed-width UTC text, byte order on PostgreSQL
    return sa.String().with_variant(sa.String(collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "requests",
        sa.Column("id", ROW_ID, primary_key=True, autoincrement=True),
        sa.Column("platform", sa.Text, nullable=False),
        sa.Column("workspace_id", sa.Text, nullable=False),
        sa.Column("channel_id", sa.Text, nullable=False),
        sa.Column("user_id", sa.Text, nullable=False),
        sa.Column("user_name", sa.Text, nullable=False),
        sa.Column("command_text", sa.Text, nullable=False),
        sa.Column("request_json", sa.Text, nullable=False),
        sa.Column("scheduled_time", _time()),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("confirm_token", sa.Text, unique=True),
        sa.Column("error", sa.Text),
        sa.Column("created_at", _time(), nullable=False),
        sa.Column("updated_at", _time(), nullable=False),
        sa.Column("sent_at", _time()),
        sa.Column("announcement_ref", sa.Text),
        sa.Column("next_reconcile_at", _time()),
        sa.Column("reconcile_attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("api", sa.Text, nullable=False, server_default=""),
        sa.Column("claimed_by", sa.Text),
        sa.Column("claimed_until", _time()),
    )
    op.create_index("requests_by_channel", "requests", ["platform", "workspace_id", "channel_id", "id"])
    op.create_index("requests_by_state", "requests", ["state"])
    op.create_index("requests_by_api_state", "requests", ["api", "state"])
    op.create_table(
        "posts",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("request_id", ROW_ID, sa.ForeignKey("requests.id"), nullable=False),
        sa.Column("account_id", sa.Text, nullable=False),
        sa.Column("account_label", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("scheduled_time", _time()),
        sa.Column("posted_at", _time()),
        sa.Column("created_at", _time(), nullable=False),
        sa.Column("updated_at", _time(), nullable=False),
        sa.Column("next_check_at", _time()),
        sa.Column("checks", sa.Integer, nullable=False, server_default="0"),
        sa.Column("delay_warned", sa.Boolean(create_constraint=False), nullable=False, server_default=sa.false()),
        sa.Column("claimed_by", sa.Text),
        sa.Column("claimed_until", _time()),
    )
    op.create_index("posts_by_request", "posts", ["request_id"])
    where = sa.text("next_check_at IS NOT NULL")
    op.create_index("posts_due", "posts", ["next_check_at"], sqlite_where=where, postgresql_where=where)
    op.create_table(
        "user_settings",
        sa.Column("platform", sa.Text, primary_key=True),
        sa.Column("workspace_id", sa.Text, primary_key=True),
        sa.Column("user_id", sa.Text, primary_key=True),
        sa.Column("timezone", sa.Text),
        sa.Column("updated_at", _time(), nullable=False),
    )
    op.create_table(
        "channel_settings",
        sa.Column("platform", sa.Text, primary_key=True),
        sa.Column("workspace_id", sa.Text, primary_key=True),
        sa.Column("channel_id", sa.Text, primary_key=True),
        sa.Column("default_accounts", sa.Text, nullable=False, server_default="[]"),
        sa.Column("allowed_accounts", sa.Text),
        sa.Column("updated_at", _time(), nullable=False),
    )
    op.create_table(
        "aliases",
        sa.Column("platform", sa.Text, primary_key=True),
        sa.Column("workspace_id", sa.Text, primary_key=True),
        sa.Column("alias", sa.Text, primary_key=True),
        sa.Column("account_id", sa.Text, nullable=False),
        sa.Column("created_by", sa.Text, nullable=False),
        sa.Column("created_at", _time(), nullable=False),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", ROW_ID, primary_key=True, autoincrement=True),
        sa.Column("at", _time(), nullable=False),
        sa.Column("platform", sa.Text, nullable=False),
        sa.Column("workspace_id", sa.Text, nullable=False),
        sa.Column("channel_id", sa.Text, nullable=False),
        sa.Column("user_id", sa.Text, nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("request_id", ROW_ID),
        sa.Column("detail", sa.Text, nullable=False, server_default="{}"),
    )
    op.create_table(
        "notices",
        sa.Column("id", ROW_ID, primary_key=True, autoincrement=True),
        sa.Column("created_at", _time(), nullable=False),
        sa.Column("platform", sa.Text, nullable=False),
        sa.Column("workspace_id", sa.Text, nullable=False),
        sa.Column("channel_id", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("request_id", ROW_ID, sa.ForeignKey("requests.id")),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("state", sa.Text, nullable=False, server_default="pending"),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", _time(), nullable=False),
        sa.Column("delivered_at", _time()),
        sa.Column("last_error", sa.Text),
        sa.Column("claimed_by", sa.Text),
        sa.Column("claimed_until", _time()),
    )
    for name, column, state in (
        ("notices_pending", "next_attempt_at", "pending"),
        ("notices_sending", "id", "sending"),
    ):
        only = sa.text(f"state = '{state}'")
        op.create_index(name, "notices", [column], sqlite_where=only, postgresql_where=only)
    op.create_index("notices_by_request", "notices", ["request_id"])
    op.create_table(
        "media",
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("sha256", sa.Text, nullable=False),
        sa.Column("content_type", sa.Text, nullable=False),
        sa.Column("size", ROW_ID, nullable=False),
        sa.Column("created_at", _time(), nullable=False),
    )
    op.create_table(
        "request_media",
        sa.Column("request_id", ROW_ID, sa.ForeignKey("requests.id"), primary_key=True),
        sa.Column("media_key", sa.Text, primary_key=True),
    )
    op.create_index("request_media_by_key", "request_media", ["media_key"])
    op.create_table(
        "seen_once",
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("expires_at", _time(), nullable=False),
    )
    op.create_index("seen_once_by_expiry", "seen_once", ["expires_at"])
    op.create_table(
        "installations",
        sa.Column("platform", sa.Text, primary_key=True),
        sa.Column("organization_id", sa.Text, primary_key=True),
        sa.Column("workspace_id", sa.Text, primary_key=True),
        sa.Column("sealed", sa.Text, nullable=False),
        sa.Column("installed_at", _time(), nullable=False),
    )
