"""The bot's one settings object, read once from the environment or `.env` and passed down."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_API_URL = "https://api.infinipost.co/v1"


def _split_list(value: Any) -> Any:
    """Comma- or space-separated lists, as people write them in `.env` files."""
    if isinstance(value, str):
        return tuple(part for part in value.replace(",", " ").split() if part)
    return value


class Settings(BaseSettings):
    """Every setting of the bot. `.env.example` lists and explains each one."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True, env_ignore_empty=True)

    # Infinipost
    api_key: SecretStr | None = Field(None, validation_alias="INFINIPOST_API_KEY")
    api_url: str = Field(DEFAULT_API_URL, validation_alias="INFINIPOST_API_URL")
    accounts: Annotated[tuple[str, ...], NoDecode] = Field((), validation_alias="BOT_ACCOUNTS")

    # Behaviour
    database: Path = Field(Path("data/bot.db"), validation_alias="BOT_DATABASE")
    default_timezone: str = Field("UTC", validation_alias="BOT_DEFAULT_TIMEZONE")
    confirm_posts: bool = Field(True, validation_alias="BOT_CONFIRM_POSTS")
    log_level: str | None = Field(None, validation_alias="BOT_LOG_LEVEL")  # None: INFO, or WARNING in the console

    @field_validator("accounts", mode="before")
    @classmethod
    def _accounts(cls, value: Any) -> Any:
        return _split_list(value)

    @field_validator("default_timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"{value!r} is not an IANA time zone name such as Europe/Paris") from exc
        return value

    @field_validator("api_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

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
