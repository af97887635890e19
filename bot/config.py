"""The bot's one settings object, read once from the environment or `.env` and passed down."""

from __future__ import annotations

import hashlib
import socket
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.dates import zone
from bot.errors import InvalidTime
from bot.sealing import check_keys

DEFAULT_API_URL = "https://api.infinipost.co/v1"


def split_list(value: Any) -> Any:
    """Comma- or space-separated lists, as people write them in `.env` files."""
    if isinstance(value, str):
        return tuple(part for part in value.replace(",", " ").split() if part)
    return value


def url_setting(value: str | None) -> str | None:
    """A URL setting as the bot uses it: http(s)://, or ws(s):// for a gateway, without a trailing slash."""
    if value is not None and not value.startswith(("http://", "https://", "ws://", "wss://")):
        raise ValueError("must be an http(s):// (or, for the gateway, ws(s)://) URL")
    return value.rstrip("/") if value else value


class Settings(BaseSettings):
    """The core's settings. Each chat platform adds its own section in its adapter package (SLACK_*, DISCORD_*),
    and the app composes them all into the one object it reads. `.env.example` lists and explains each one."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True, env_ignore_empty=True)

    # Infinipost
    api_key: SecretStr | None = Field(None, validation_alias="INFINIPOST_API_KEY")
    api_url: str = Field(DEFAULT_API_URL, validation_alias="INFINIPOST_API_URL")
    accounts: Annotated[tuple[str, ...], NoDecode] = Field((), validation_alias="BOT_ACCOUNTS")

    # The bot's own HTTP server: Slack's HTTP mode and, with the local media store, the media links
    http_host: str = Field("0.0.0.0", validation_alias="BOT_HTTP_HOST")  # noqa: S104 - it must be reachable
    http_port: int = Field(3000, validation_alias="BOT_HTTP_PORT", ge=0, le=65535)
    public_url: str | None = Field(None, validation_alias="BOT_PUBLIC_URL")

    # Media uploaded in chat, re-hosted where Infinipost can fetch it
    media_store: Literal["local", "s3"] = Field("local", validation_alias="BOT_MEDIA_STORE")
    media_dir: Path = Field(Path("data/media"), validation_alias="BOT_MEDIA_DIR")
    media_secret: SecretStr | None = Field(None, validation_alias="BOT_MEDIA_SECRET")
    # Fernet keys, comma-separated: the first encrypts, all decrypt (bot/sealing.py)
    encryption_key: SecretStr | None = Field(None, validation_alias="BOT_ENCRYPTION_KEY")
    media_link_hours: float = Field(48, validation_alias="BOT_MEDIA_LINK_HOURS", gt=0)
    max_media_mb: float = Field(1024, validation_alias="BOT_MAX_MEDIA_MB", gt=0)
    media_keep_days: float = Field(7, validation_alias="BOT_MEDIA_KEEP_DAYS", ge=0)
    s3_bucket: str | None = Field(None, validation_alias="BOT_S3_BUCKET")
    s3_endpoint_url: str | None = Field(None, validation_alias="BOT_S3_ENDPOINT_URL")
    s3_region: str | None = Field(None, validation_alias="BOT_S3_REGION")
    s3_public_url: str | None = Field(None, validation_alias="BOT_S3_PUBLIC_URL")

    # Tracking posts and telling channels
    poll_seconds: float = Field(60, validation_alias="BOT_POLL_SECONDS", gt=0)
    alerts_channel: str | None = Field(None, validation_alias="BOT_ALERTS_CHANNEL")
    delay_alert_minutes: float = Field(10, validation_alias="BOT_DELAY_ALERT_MINUTES", gt=0)

    # Behaviour
    # An SQLite file, or a PostgreSQL URL (postgresql://user:password@host:5432/database), kept as text: it may
    # carry a password, and nothing prints it.
    database: Path | str = Field(Path("data/bot.db"), validation_alias="BOT_DATABASE")
    # Which replica this is, when several share the database: the same across its restarts, different between them
    replica_id: str = Field(default_factory=socket.gethostname, validation_alias="BOT_REPLICA_ID", min_length=1)
    # How long a replica's claim on work lasts unless renewed: what a replica that died held is taken up by another
    # this long after (renewed every third of it while the work goes on).
    claim_lease_seconds: float = Field(600, validation_alias="BOT_CLAIM_LEASE_SECONDS", ge=3)
    # None: UTC on chat platforms; in the console, the zone of the machine it runs on
    default_timezone: str | None = Field(None, validation_alias="BOT_DEFAULT_TIMEZONE")
    confirm_posts: bool = Field(True, validation_alias="BOT_CONFIRM_POSTS")
    # Approvals, in channels that require them: an approval this close to the post's time (or later) asks the
    # approver for a new time, and the approvers are reminded once this long before it.
    approval_min_lead_minutes: float = Field(5, validation_alias="BOT_APPROVAL_MIN_LEAD_MINUTES", ge=0)
    approval_remind_minutes: float = Field(60, validation_alias="BOT_APPROVAL_REMIND_MINUTES", ge=0)
    # How far ahead each occurrence of a recurring post is created at Infinipost
    recurring_horizon_days: float = Field(7, validation_alias="BOT_RECURRING_HORIZON_DAYS", gt=0, le=60)
    # How long a `/calendar link` opens the calendar page
    calendar_link_hours: float = Field(24, validation_alias="BOT_CALENDAR_LINK_HOURS", gt=0)
    log_level: str | None = Field(None, validation_alias="BOT_LOG_LEVEL")  # None: INFO, or WARNING in the console

    @field_validator("database", mode="before")
    @classmethod
    def _database(cls, value: Any) -> Path | str:
        text = str(value).strip()
        return text if "://" in text else Path(text)

    @property
    def database_file(self) -> Path | None:
        """BOT_DATABASE when it is an SQLite file."""
        return self.database if isinstance(self.database, Path) else None

    @property
    def claim_lease(self) -> timedelta:
        return timedelta(seconds=self.claim_lease_seconds)

    @property
    def data_dir(self) -> Path:
        """Where this replica keeps its own files (the sandbox's posts, downloads under way): beside an SQLite
        database, else `data`."""
        return self.database_file.parent if self.database_file else Path("data")

    @field_validator("accounts", mode="before")
    @classmethod
    def _lists(cls, value: Any) -> Any:
        return split_list(value)

    @field_validator("default_timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value is None:
            return value
        try:
            zone(value)
        except InvalidTime as exc:
            raise ValueError(f"{value!r} is not an IANA time zone name such as Europe/Paris") from exc
        return value

    @field_validator("encryption_key")
    @classmethod
    def _encryption_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            check_keys(value.get_secret_value())
        return value

    @field_validator("api_url", "public_url", "s3_endpoint_url", "s3_public_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        return url_setting(value)

    @property
    def poll_interval(self) -> timedelta:
        return timedelta(seconds=self.poll_seconds)

    @property
    def delay_alert(self) -> timedelta:
        return timedelta(minutes=self.delay_alert_minutes)

    @property
    def media_keep_days_delta(self) -> timedelta:
        return timedelta(days=self.media_keep_days)

    @property
    def api_identity(self) -> str:
        """Which Infinipost, and whose: requests are stamped with it, and only this one's are tracked and changed.
        A key is told by a short hash of it, never the key itself."""
        if self.api_key is None:
            return "sandbox"
        digest = hashlib.sha256(self.api_key.get_secret_value().encode()).hexdigest()[:12]
        return f"{self.api_url} key:{digest}"

    @property
    def uses_sandbox(self) -> bool:
        """No API key: the built-in sandbox stands in for Infinipost."""
        return self.api_key is None


def describe_settings_error(exc: ValidationError) -> str:
    """One line per bad setting, named by its environment variable, never echoing secret values."""
    lines = []
    for error in exc.errors():
        name = ".".join(str(part) for part in error["loc"]) or "settings"
        message = error["msg"].removeprefix("Value error, ")
        lines.append(f"{name.upper()}: {message}")
    return "\n".join(lines)
