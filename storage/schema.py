"""The bot's tables, defined once for SQLite and PostgreSQL (SQLAlchemy Core). Migrations under
storage/migrations/versions change a database from one version of this to the next; they are frozen, this is
the present.

Times are fixed-width UTC text on both (`UtcTime`), as the bot has always stored them: string order is time order,
and a database made by an earlier release reads as it was written.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    text,
)
from sqlalchemy.types import TypeEngine

from bot.records import from_utc_text, utc_text


class UtcTime(TypeDecorator[datetime]):
    """An aware datetime kept as fixed-width UTC text. On PostgreSQL the text compares byte by byte (collation
    "C"), so that no locale's rules can reorder two times."""

    impl = String
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(String(collation="C"))
        return dialect.type_descriptor(String())

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> str | None:
        return utc_text(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> datetime | None:
        return from_utc_text(value)


# Row ids: 64-bit on PostgreSQL; on SQLite `INTEGER PRIMARY KEY`, the rowid itself, as databases already have it.
RowId = BigInteger().with_variant(Integer(), "sqlite")

metadata = MetaData()

requests = Table(
    "requests",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("platform", Text, nullable=False),
    Column("workspace_id", Text, nullable=False),
    Column("channel_id", Text, nullable=False),
    Column("user_id", Text, nullable=False),
    Column("user_name", Text, nullable=False),
    Column("command_text", Text, nullable=False),
    Column("request_json", Text, nullable=False),
    Column("scheduled_time", UtcTime),
    Column("state", Text, nullable=False),
    Column("confirm_token", Text, unique=True),
    Column("error", Text),
    Column("created_at", UtcTime, nullable=False),
    Column("updated_at", UtcTime, nullable=False),
    Column("sent_at", UtcTime),
    Column("announcement_ref", Text),
    Column("next_reconcile_at", UtcTime),
    Column("reconcile_attempts", Integer, nullable=False, server_default="0"),
    # Which Infinipost a request went to: "sandbox", or the API's URL. Older rows ('') count for any.
    Column("api", Text, nullable=False, server_default=""),
    Column("claimed_by", Text),
    Column("claimed_until", UtcTime),
    # In a channel that requires approval: whom it waits for and its steps (JSON), and when the bot must next look
    # at it while it waits (to remind the approvers, then to let it expire).
    Column("approval", Text),
    Column("approval_due", UtcTime),
    # A recurring post: the request it was asked as keeps its rule (bot/recurrence.py, JSON); each occurrence is a
    # request of its own, naming its series (the asked request) and its place in it, which only one can take.
    Column("recurrence", Text),
    Column("series_id", RowId),
    Column("occurrence", Integer),
    Index("requests_by_channel", "platform", "workspace_id", "channel_id", "id"),
    Index("requests_by_state", "state"),
    Index("requests_by_api_state", "api", "state"),
    Index("requests_by_update", "updated_at"),  # the channels active lately, for their weekly digests
    Index("requests_one_occurrence", "series_id", "occurrence", unique=True),
    Index(
        "requests_approval_due",
        "approval_due",
        sqlite_where=text("approval_due IS NOT NULL"),
        postgresql_where=text("approval_due IS NOT NULL"),
    ),
)

posts = Table(
    "posts",
    metadata,
    Column("id", Text, primary_key=True),
    Column("request_id", RowId, ForeignKey("requests.id"), nullable=False),
    Column("account_id", Text, nullable=False),
    Column("account_label", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("scheduled_time", UtcTime),
    Column("posted_at", UtcTime),
    Column("created_at", UtcTime, nullable=False),
    Column("updated_at", UtcTime, nullable=False),
    Column("next_check_at", UtcTime),
    Column("checks", Integer, nullable=False, server_default="0"),
    Column("delay_warned", Boolean(create_constraint=False), nullable=False, server_default=text("false")),
    Column("claimed_by", Text),
    Column("claimed_until", UtcTime),
    # A post's place among its request's, as the create call answered them.
    Column("position", Integer, nullable=False, server_default="0"),
    Index("posts_by_request", "request_id"),
    Index(
        "posts_due",
        "next_check_at",
        sqlite_where=text("next_check_at IS NOT NULL"),
        postgresql_where=text("next_check_at IS NOT NULL"),
    ),
)

user_settings = Table(
    "user_settings",
    metadata,
    Column("platform", Text, primary_key=True),
    Column("workspace_id", Text, primary_key=True),
    Column("user_id", Text, primary_key=True),
    Column("timezone", Text),
    Column("updated_at", UtcTime, nullable=False),
)

channel_settings = Table(
    "channel_settings",
    metadata,
    Column("platform", Text, primary_key=True),
    Column("workspace_id", Text, primary_key=True),
    Column("channel_id", Text, primary_key=True),
    Column("default_accounts", Text, nullable=False, server_default="[]"),
    Column("allowed_accounts", Text),
    Column("approvers", Text),  # JSON; none: posts need no approval
    Column("authors_may_approve", Boolean(create_constraint=False), nullable=False, server_default=text("false")),
    Column("slots", Text),  # JSON [[weekday, minute], ...]: the channel's posting slots, in `slots_zone`
    Column("slots_zone", Text),
    Column("updated_at", UtcTime, nullable=False),
)

aliases = Table(
    "aliases",
    metadata,
    Column("platform", Text, primary_key=True),
    Column("workspace_id", Text, primary_key=True),
    Column("alias", Text, primary_key=True),
    Column("account_id", Text, nullable=False),
    Column("created_by", Text, nullable=False),
    Column("created_at", UtcTime, nullable=False),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("at", UtcTime, nullable=False),
    Column("platform", Text, nullable=False),
    Column("workspace_id", Text, nullable=False),
    Column("channel_id", Text, nullable=False),
    Column("user_id", Text, nullable=False),
    Column("action", Text, nullable=False),
    Column("request_id", RowId),
    Column("detail", Text, nullable=False, server_default="{}"),
)

notices = Table(
    "notices",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("created_at", UtcTime, nullable=False),
    Column("platform", Text, nullable=False),
    Column("workspace_id", Text, nullable=False),
    Column("channel_id", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("request_id", RowId, ForeignKey("requests.id")),
    Column("payload", Text, nullable=False),
    Column("state", Text, nullable=False, server_default="pending"),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", UtcTime, nullable=False),
    Column("delivered_at", UtcTime),
    Column("last_error", Text),
    Column("claimed_by", Text),
    Column("claimed_until", UtcTime),
    # Delivered notices stay in the table: the outbox's every-round looks must not scan all of them.
    Index(
        "notices_pending",
        "next_attempt_at",
        sqlite_where=text("state = 'pending'"),
        postgresql_where=text("state = 'pending'"),
    ),
    Index("notices_sending", "id", sqlite_where=text("state = 'sending'"), postgresql_where=text("state = 'sending'")),
    Index("notices_by_request", "request_id"),
)

# Each channel's turn for new messages (a token bucket), shared by the replicas that deliver to it. `at` is
# seconds since the epoch: the time the bucket last counted a message.
channel_pacing = Table(
    "channel_pacing",
    metadata,
    Column("platform", Text, primary_key=True),
    Column("workspace_id", Text, primary_key=True),
    Column("channel_id", Text, primary_key=True),
    Column("tokens", Float, nullable=False),
    Column("at", Float, nullable=False),
)

media = Table(
    "media",
    metadata,
    Column("key", Text, primary_key=True),
    Column("sha256", Text, nullable=False),
    Column("content_type", Text, nullable=False),
    Column("size", BigInteger().with_variant(Integer(), "sqlite"), nullable=False),
    Column("created_at", UtcTime, nullable=False),
)

request_media = Table(
    "request_media",
    metadata,
    Column("request_id", RowId, ForeignKey("requests.id"), primary_key=True),
    Column("media_key", Text, primary_key=True),
    Index("request_media_by_key", "media_key"),
)

# One-time keys (the signatures of Slack requests already handled, form submissions), kept until a replay could
# no longer pass the signature check: a replay is refused after a restart, and by every replica.
seen_once = Table(
    "seen_once",
    metadata,
    Column("key", Text, primary_key=True),
    Column("expires_at", UtcTime, nullable=False),
    Index("seen_once_by_expiry", "expires_at"),
)

# The workspaces (workspace_id '') or whole organizations (organization_id '' outside one) that installed the
# app through OAuth; `sealed` is the platform's record with its tokens, encrypted by the core.
# A workspace's (server's) own Infinipost API key, sealed with BOT_ENCRYPTION_KEY; only its last four characters
# are kept in clear, to show back.
workspace_keys = Table(
    "workspace_keys",
    metadata,
    Column("platform", Text, primary_key=True),
    Column("workspace_id", Text, primary_key=True),
    Column("sealed", Text, nullable=False),
    Column("last4", Text, nullable=False),
    Column("connected_by", Text, nullable=False),
    Column("connected_at", UtcTime, nullable=False),
)

# Roles one replica has at a time (the unsharded Discord gateway): who has it, and until when unless renewed.
leases = Table(
    "leases",
    metadata,
    Column("name", Text, primary_key=True),
    Column("holder", Text, nullable=False),
    Column("expires_at", UtcTime, nullable=False),
)

installations = Table(
    "installations",
    metadata,
    Column("platform", Text, primary_key=True),
    Column("organization_id", Text, primary_key=True),
    Column("workspace_id", Text, primary_key=True),
    Column("sealed", Text, nullable=False),
    Column("installed_at", UtcTime, nullable=False),
)

# Private calendar feeds (`/calendar ical`): a hash of each feed's secret (the secret itself is only in its URL),
# whose feed it is, and which channels it may show (their IDs as JSON; NULL: every channel of the workspace).
calendar_feeds = Table(
    "calendar_feeds",
    metadata,
    Column("token_hash", Text, primary_key=True),
    Column("platform", Text, nullable=False),
    Column("workspace_id", Text, nullable=False),
    Column("user_id", Text, nullable=False),
    Column("channels", Text),
    Column("created_at", UtcTime, nullable=False),
    Column("revoked_at", UtcTime),
    Index("calendar_feeds_by_user", "platform", "workspace_id", "user_id"),
)

# Each channel's weekly digest, where it was changed from the default (Monday 09:00): its weekday (0 is Monday),
# its local time in minutes, the zone those are in, or off.
digest_settings = Table(
    "digest_settings",
    metadata,
    Column("platform", Text, primary_key=True),
    Column("workspace_id", Text, primary_key=True),
    Column("channel_id", Text, primary_key=True),
    Column("enabled", Boolean(create_constraint=False), nullable=False),
    Column("weekday", Integer, nullable=False),
    Column("minute", Integer, nullable=False),
    Column("zone", Text, nullable=False),
    Column("updated_at", UtcTime, nullable=False),
)

# The digests written to the outbox: one row per channel and due time, inserted with the digest's notice, so that
# neither a restart nor a second replica sends a week's digest twice.
digests_sent = Table(
    "digests_sent",
    metadata,
    Column("platform", Text, primary_key=True),
    Column("workspace_id", Text, primary_key=True),
    Column("channel_id", Text, primary_key=True),
    Column("due_at", UtcTime, primary_key=True),
    Column("sent_at", UtcTime, nullable=False),
)

# A slot taken by a /post still being read or previewed: one row per account and instant, which only one /post can
# insert, so that two racing for one slot never get the same. It lapses at `until`; by then the request is stored
# with that time, which is what later allocations look at.
slot_claims = Table(
    "slot_claims",
    metadata,
    Column("platform", Text, primary_key=True),
    Column("workspace_id", Text, primary_key=True),
    Column("account_id", Text, primary_key=True),
    Column("at", UtcTime, primary_key=True),
    Column("until", UtcTime, nullable=False),
)

# Each recurring post while it lives: its asked request (whose rule and content it repeats), how many occurrences
# were created, and when the next one is due (NULL once it is done or stopped).
series = Table(
    "series",
    metadata,
    Column("request_id", RowId, ForeignKey("requests.id"), primary_key=True),
    Column("state", Text, nullable=False),  # active, stopped or done
    Column("created", Integer, nullable=False, server_default="0"),
    Column("next_at", UtcTime),
    Column("updated_at", UtcTime, nullable=False),
    Index(
        "series_due", "next_at", sqlite_where=text("next_at IS NOT NULL"), postgresql_where=text("next_at IS NOT NULL")
    ),
)
