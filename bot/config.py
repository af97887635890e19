"""The bot's one settings object, read once from the environment or `.env` and passed down."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.dates import zone
from bot.errors import InvalidTime

DEFAULT_API_URL = "https://api.infinipost.co/v1"


def _split_list(value: Any) -> Any:
    """Comma- or space-separated lists, as people write them in `.env` files."""
    if isinstance(value, str):
        return tuple(part for part in value.replace(",", " ").split() if part)
    return value


_IDS = re.compile(r"^\d+(?:\s+\d+)+$")


def _split_names(value: Any) -> Any:
    """Comma-separated names that may contain spaces ("Social Team, 1234567890"); IDs may be space-separated too,
    as every other list setting allows ("123 456")."""
    if isinstance(value, str):
        parts = (part.strip() for part in value.split(","))
        return tuple(name for part in parts if part for name in (part.split() if _IDS.match(part) else [part]))
    return value


class Settings(BaseSettings):
    """Every setting of the bot. `.env.example` lists and explains each one."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True, env_ignore_empty=True)

    # Infinipost
    api_key: SecretStr | None = Field(None, validation_alias="INFINIPOST_API_KEY")
    api_url: str = Field(DEFAULT_API_URL, validation_alias="INFINIPOST_API_URL")
    accounts: Annotated[tuple[str, ...], NoDecode] = Field((), validation_alias="BOT_ACCOUNTS")

    # The bot's own HTTP server: Slack's HTTP mode and, with the local media store, the media links
    http_host: str = Field("0.0.0.0", validation_alias="BOT_HTTP_HOST")  # noqa: S104 - it must be reachable
    http_port: int = Field(3000, validation_alias="BOT_HTTP_PORT", ge=0, le=65535)
    public_url: str | None = Field(None, validation_alias="BOT_PUBLIC_URL")

    # Slack
    slack_bot_token: SecretStr | None = Field(None, validation_alias="SLACK_BOT_TOKEN")
    slack_app_token: SecretStr | None = Field(None, validation_alias="SLACK_APP_TOKEN")
    slack_signing_secret: SecretStr | None = Field(None, validation_alias="SLACK_SIGNING_SECRET")
    slack_api_url: str = Field("https://slack.com/api/", validation_alias="SLACK_API_URL")
    slack_poster_users: Annotated[tuple[str, ...], NoDecode] = Field((), validation_alias="SLACK_POSTER_USERS")
    slack_admin_users: Annotated[tuple[str, ...], NoDecode] = Field((), validation_alias="SLACK_ADMIN_USERS")

    # Discord
    discord_token: SecretStr | None = Field(None, validation_alias="DISCORD_TOKEN")
    discord_guild_ids: Annotated[tuple[int, ...], NoDecode] = Field((), validation_alias="DISCORD_GUILD_IDS")
    discord_allowed_guild_ids: Annotated[tuple[int, ...], NoDecode] = Field(
        (), validation_alias="DISCORD_ALLOWED_GUILD_IDS"
    )
    discord_api_url: str | None = Field(None, validation_alias="DISCORD_API_URL")
    discord_gateway_url: str | None = Field(None, validation_alias="DISCORD_GATEWAY_URL")
    discord_poster_roles: Annotated[tuple[str, ...], NoDecode] = Field((), validation_alias="DISCORD_POSTER_ROLES")

    # Media uploaded in chat, re-hosted where Infinipost can fetch it
    media_store: Literal["local", "s3"] = Field("local", validation_alias="BOT_MEDIA_STORE")
    media_dir: Path = Field(Path("data/media"), validation_alias="BOT_MEDIA_DIR")
    media_secret: SecretStr | None = Field(None, validation_alias="BOT_MEDIA_SECRET")
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
    database: Path = Field(Path("data/bot.db"), validation_alias="BOT_DATABASE")
    # None: UTC on chat platforms; in the console, the zone of the machine it runs on
    default_timezone: str | None = Field(None, validation_alias="BOT_DEFAULT_TIMEZONE")
    confirm_posts: bool = Field(True, validation_alias="BOT_CONFIRM_POSTS")
    log_level: str | None = Field(None, validation_alias="BOT_LOG_LEVEL")  # None: INFO, or WARNING in the console

    @field_validator(
        "accounts",
        "slack_poster_users",
        "slack_admin_users",
        "discord_guild_ids",
        "discord_allowed_guild_ids",
        mode="before",
    )
    @classmethod
    def _lists(cls, value: Any) -> Any:
        return _split_list(value)

    @field_validator("discord_poster_roles", mode="before")
    @classmethod
    def _names(cls, value: Any) -> Any:
        return _split_names(value)

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

    @field_validator(
        "api_url", "public_url", "discord_api_url", "discord_gateway_url", "s3_endpoint_url", "s3_public_url"
    )
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://", "ws://", "wss://")):
            raise ValueError("must be an http(s):// (or, for the gateway, ws(s)://) URL")
        return value.rstrip("/") if value else value

    @field_validator("slack_api_url")
    @classmethod
    def _slack_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/") + "/"

    @property
    def poll_interval(self) -> timedelta:
        return timedelta(seconds=self.poll_seconds)

    @property
    def delay_alert(self) -> timedelta:
        return timedelta(minutes=self.delay_alert_minutes)

    @property
    def slack_configured(self) -> bool:
        return self.slack_bot_token is not None

    @property
    def slack_socket_mode(self) -> bool:
        return self.slack_app_token is not None

    def check_slack(self) -> None:
        """Raise a ValueError naming what is missing for Slack to start."""
        if self.slack_bot_token is None:
            raise ValueError("SLACK_BOT_TOKEN is not set")
        if self.slack_app_token is None and self.slack_signing_secret is None:
            raise ValueError(
                "Slack needs SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET (HTTP mode on BOT_HTTP_PORT)"
            )

    @property
    def media_keep_days_delta(self) -> timedelta:
        return timedelta(days=self.media_keep_days)

    @property
    def discord_configured(self) -> bool:
        return self.discord_token is not None

    @property
    def discord_servers(self) -> tuple[int, ...]:
        """The servers whose members may use the bot (and the operator's API key): those the commands are
        registered in, and those allowed besides when the commands are registered globally."""
        return tuple(dict.fromkeys(self.discord_guild_ids + self.discord_allowed_guild_ids))

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
