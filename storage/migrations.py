"""Named, ordered schema migrations, each applied once in its own transaction and recorded in `_migrations`.

Add a migration by appending to MIGRATIONS; never edit one that has shipped.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import aiosqlite

logger = logging.getLogger(__name__)

MIGRATIONS: list[tuple[str, tuple[str, ...]]] = [
    (
        "0001_requests_posts_settings",
        (
            """CREATE TABLE requests (
                id INTEGER PRIMARY KEY,
                platform TEXT NOT NULL,
                workspace_id TEXT NOT NULL,
                channel_id TEXT NOT NULL,
                user_id TEXT NOT NULL,
                user_name TEXT NOT NULL,
                command_text TEXT NOT NULL,
                request_json TEXT NOT NULL,
                scheduled_time TEXT,
                state TEXT NOT NULL,
                confirm_token TEXT UNIQUE,
                error TEXT,
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL,
                sent_at TEXT,
                announcement_ref TEXT
            )""",
            "CREATE INDEX requests_by_channel ON requests (platform, workspace_id, channel_id, id)",
            "CREATE INDEX requests_by_state ON requests (state)",
            """CREATE TABLE posts (
                id TEXT PRIMARY KEY,
                request_id INTEGER NOT NULL REFERENCES requests (id),
                account_id TEXT NOT NULL,
                account_label TEXT NOT NULL,
                status TEXT NOT NULL,
                scheduled_time TEXT,
                posted_at TEXT,
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL
            )""",
            "CREATE INDEX posts_by_request ON posts (request_id)",
            """CREATE TABLE user_settings (
                platform TEXT NOT NULL,
                workspace_id TEXT NOT NULL,
                user_id TEXT NOT NULL,
                timezone TEXT,
                updated_at TEXT NOT NULL,
                PRIMARY KEY (platform, workspace_id, user_id)
            )""",
            """CREATE TABLE channel_settings (
                platform TEXT NOT NULL,
                workspace_id TEXT NOT NULL,
                channel_id TEXT NOT NULL,
                default_accounts TEXT NOT NULL DEFAULT '[]',
                allowed_accounts TEXT,
                updated_at TEXT NOT NULL,
                PRIMARY KEY (platform, workspace_id, channel_id)
            )""",
            """CREATE TABLE aliases (
                platform TEXT NOT NULL,
                workspace_id TEXT NOT NULL,
                alias TEXT NOT NULL,
                account_id TEXT NOT NULL,
                created_by TEXT NOT NULL,
                created_at TEXT NOT NULL,
                PRIMARY KEY (platform, workspace_id, alias)
            )""",
            """CREATE TABLE audit_log (
                id INTEGER PRIMARY KEY,
                at TEXT NOT NULL,
                platform TEXT NOT NULL,
                workspace_id TEXT NOT NULL,
                channel_id TEXT NOT NULL,
                user_id TEXT NOT NULL,
                action TEXT NOT NULL,
                request_id INTEGER,
                detail TEXT NOT NULL DEFAULT '{}'
            )""",
        ),
    ),
    (
        "0002_notice_outbox",
        (
            """CREATE TABLE notices (
                id INTEGER PRIMARY KEY,
                created_at TEXT NOT NULL,
                platform TEXT NOT NULL,
                workspace_id TEXT NOT NULL,
                channel_id TEXT NOT NULL,
                kind TEXT NOT NULL,
                request_id INTEGER REFERENCES requests (id),
                payload TEXT NOT NULL,
                state TEXT NOT NULL DEFAULT 'pending',
                attempts INTEGER NOT NULL DEFAULT 0,
                next_attempt_at TEXT NOT NULL,
                delivered_at TEXT,
                last_error TEXT
            )""",
            "CREATE INDEX notices_pending ON notices (next_attempt_at) WHERE state = 'pending'",
        ),
    ),
    (
        "0003_media",
        (
            """CREATE TABLE media (
                key TEXT PRIMARY KEY,
                sha256 TEXT NOT NULL,
                content_type TEXT NOT NULL,
                size INTEGER NOT NULL,
                created_at TEXT NOT NULL
            )""",
            """CREATE TABLE request_media (
                request_id INTEGER NOT NULL REFERENCES requests (id),
                media_key TEXT NOT NULL,
                PRIMARY KEY (request_id, media_key)
            )""",
            "CREATE INDEX request_media_by_key ON request_media (media_key)",
        ),
    ),
    (
        "0004_post_tracking",
        (
            "ALTER TABLE posts ADD COLUMN next_check_at TEXT",
            "ALTER TABLE posts ADD COLUMN checks INTEGER NOT NULL DEFAULT 0",
            "ALTER TABLE posts ADD COLUMN delay_warned INTEGER NOT NULL DEFAULT 0",
            "UPDATE posts SET next_check_at = COALESCE(scheduled_time, created_at) "
            "WHERE status NOT IN ('posted', 'failed', 'cancelled')",
            "CREATE INDEX posts_due ON posts (next_check_at) WHERE next_check_at IS NOT NULL",
            "ALTER TABLE requests ADD COLUMN next_reconcile_at TEXT",
            "ALTER TABLE requests ADD COLUMN reconcile_attempts INTEGER NOT NULL DEFAULT 0",
            "UPDATE requests SET next_reconcile_at = updated_at WHERE state = 'unconfirmed'",
        ),
    ),
    (
        "0005_request_api",
        (
            # Which Infinipost a request went to: "sandbox", or the API's URL. Older rows ('') count for any.
            "ALTER TABLE requests ADD COLUMN api TEXT NOT NULL DEFAULT ''",
            "CREATE INDEX requests_by_api_state ON requests (api, state)",
        ),
    ),
    (
        "0006_notice_lookups",
        (
            # Delivered notices stay in the table: the outbox's every-round look for notices caught mid-delivery,
            # and the check for a request's pending announcement, must not scan all of them.
            "CREATE INDEX notices_sending ON notices (id) WHERE state = 'sending'",
            "CREATE INDEX notices_by_request ON notices (request_id)",
        ),
    ),
    (
        "0007_seen_once",
        (
            # One-time keys (the signatures of Slack requests already handled), kept until a replay of the request
            # could no longer pass the signature check: a replay is refused after a restart too.
            "CREATE TABLE seen_once (key TEXT PRIMARY KEY, expires_at TEXT NOT NULL)",
            "CREATE INDEX seen_once_by_expiry ON seen_once (expires_at)",
        ),
    ),
    (
        "0008_claims",
        (
            # Several replicas on one database: a row being worked on names the replica that claimed it and until
            # when. Another replica takes it only once the claim has expired (a replica that died holds none).
            "ALTER TABLE posts ADD COLUMN claimed_by TEXT",
            "ALTER TABLE posts ADD COLUMN claimed_until TEXT",
            "ALTER TABLE requests ADD COLUMN claimed_by TEXT",
            "ALTER TABLE requests ADD COLUMN claimed_until TEXT",
            "ALTER TABLE notices ADD COLUMN claimed_by TEXT",
            "ALTER TABLE notices ADD COLUMN claimed_until TEXT",
        ),
    ),
    (
        "0009_installations",
        (
            # The workspaces (workspace_id '') or whole organizations (organization_id '' outside one) that
            # installed the app through OAuth; `sealed` is the platform's record with its tokens, encrypted.
            """CREATE TABLE installations (
                platform TEXT NOT NULL,
                organization_id TEXT NOT NULL,
                workspace_id TEXT NOT NULL,
                sealed TEXT NOT NULL,
                installed_at TEXT NOT NULL,
                PRIMARY KEY (platform, organization_id, workspace_id)
            )""",
        ),
    ),
    (
        "0010_workspace_keys",
        (
            # A workspace's (server's) own Infinipost API key, sealed with BOT_ENCRYPTION_KEY; only its last four
            # characters are kept in clear, to show back.
            """CREATE TABLE workspace_keys (
                platform TEXT NOT NULL,
                workspace_id TEXT NOT NULL,
                sealed TEXT NOT NULL,
                last4 TEXT NOT NULL,
                connected_by TEXT NOT NULL,
                connected_at TEXT NOT NULL,
                PRIMARY KEY (platform, workspace_id)
            )""",
        ),
    ),
]


async def migrate(db: aiosqlite.Connection) -> list[str]:
    """Apply every migration the database has not seen; return the names applied now."""
    await db.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
    async with db.execute("SELECT name FROM _migrations") as cursor:
        done = {row[0] async for row in cursor}
    applied = []
    for name, statements in MIGRATIONS:
        if name in done:
            continue
        await db.execute("BEGIN IMMEDIATE")
        try:
            for statement in statements:
                await db.execute(statement)
            await db.execute(
                "INSERT INTO _migrations (name, applied_at) VALUES (?, ?)",
                (name, datetime.now(UTC).isoformat()),
            )
        except BaseException:
            await db.execute("ROLLBACK")
            raise
        await db.execute("COMMIT")
        logger.info("applied migration %s", name)
        applied.append(name)
    return applied
