"""Discord's section of the settings (DISCORD_*), read with the rest of them."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import NoDecode

from bot.config import Settings, split_list, url_setting

_IDS = re.compile(r"^\d+(?:\s+\d+)+$")


def _split_names(value: Any) -> Any:
    """Comma-separated names that may contain spaces ("Social Team, 1234567890"); IDs may be space-separated too,
    as every other list setting allows ("123 456")."""
    if isinstance(value, str):
        parts = (part.strip() for part in value.split(","))
        return tuple(name for part in parts if part for name in (part.split() if _IDS.match(part) else [part]))
    return value


class DiscordSettings(Settings):
    """The core's settings and Discord's: what the Discord adapter reads."""

    discord_token: SecretStr | None = Field(None, validation_alias="DISCORD_TOKEN")
    discord_guild_ids: Annotated[tuple[int, ...], NoDecode] = Field((), validation_alias="DISCORD_GUILD_IDS")
    discord_allowed_guild_ids: Annotated[tuple[int, ...], NoDecode] = Field(
        (), validation_alias="DISCORD_ALLOWED_GUILD_IDS"
    )
    discord_api_url: str | None = Field(None, validation_alias="DISCORD_API_URL")
    discord_gateway_url: str | None = Field(None, validation_alias="DISCORD_GATEWAY_URL")
    discord_poster_roles: Annotated[tuple[str, ...], NoDecode] = Field((), validation_alias="DISCORD_POSTER_ROLES")

    @field_validator("discord_guild_ids", "discord_allowed_guild_ids", mode="before")
    @classmethod
    def _discord_lists(cls, value: Any) -> Any:
        return split_list(value)

    @field_validator("discord_poster_roles", mode="before")
    @classmethod
    def _discord_names(cls, value: Any) -> Any:
        return _split_names(value)

    @field_validator("discord_api_url", "discord_gateway_url")
    @classmethod
    def _discord_url(cls, value: str | None) -> str | None:
        return url_setting(value)

    @property
    def discord_configured(self) -> bool:
        return self.discord_token is not None

    @property
    def discord_servers(self) -> tuple[int, ...]:
        """The servers whose members may use the bot (and the operator's API key): those the commands are
        registered in, and those allowed besides when the commands are registered globally."""
        return tuple(dict.fromkeys(self.discord_guild_ids + self.discord_allowed_guild_ids))
