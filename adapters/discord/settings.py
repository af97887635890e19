"""Discord's section of the settings (DISCORD_*), read with the rest of them."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import Field, SecretStr, ValidationInfo, field_validator
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


def _whole_number(value: Any) -> int | None:
    """A setting's whole number of 0 or more, or None when it is not one ("2", 2; not "two", "-1", 1.5, True)."""
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        return int(value.strip())
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return None


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
    # discord.py's sharding: how many shards the bot has in all, and which of them this process runs (None and
    # empty: one connection, unsharded). Declared in this order: the IDs are checked against the count.
    discord_shard_count: int | None = Field(None, validation_alias="DISCORD_SHARD_COUNT")
    discord_shard_ids: Annotated[tuple[int, ...], NoDecode] = Field((), validation_alias="DISCORD_SHARD_IDS")
    # Unsharded, one replica at a time has the gateway: one that stops renewing its hold loses it after this long.
    discord_gateway_lease_seconds: float = Field(30, validation_alias="DISCORD_GATEWAY_LEASE_SECONDS", gt=0)

    @field_validator("discord_guild_ids", "discord_allowed_guild_ids", mode="before")
    @classmethod
    def _discord_lists(cls, value: Any) -> Any:
        return split_list(value)

    @field_validator("discord_poster_roles", mode="before")
    @classmethod
    def _discord_names(cls, value: Any) -> Any:
        return _split_names(value)

    @field_validator("discord_shard_count", mode="before")
    @classmethod
    def _shard_count(cls, value: Any) -> Any:
        if value is None:
            return value
        count = _whole_number(value)
        if count is None or count < 1:
            raise ValueError("must be the total number of shards, a whole number of 1 or more, such as 2")
        return count

    @field_validator("discord_shard_ids", mode="before")
    @classmethod
    def _shard_id_list(cls, value: Any) -> Any:
        ids = tuple(_whole_number(part) for part in split_list(value))
        if any(shard is None for shard in ids):
            raise ValueError("must be shard numbers separated by commas, such as 0,1")
        return ids

    @field_validator("discord_shard_ids")
    @classmethod
    def _shard_ids(cls, ids: tuple[int, ...], info: ValidationInfo) -> tuple[int, ...]:
        if not ids or "discord_shard_count" not in info.data:  # nothing to check, or the count is wrong itself
            return ids
        count = info.data["discord_shard_count"]
        if count is None:
            raise ValueError(
                "needs DISCORD_SHARD_COUNT, the total number of shards: set it too, or empty DISCORD_SHARD_IDS"
            )
        if wrong := [shard for shard in ids if shard >= count]:
            raise ValueError(
                f"has shard {wrong[0]}, but DISCORD_SHARD_COUNT={count} numbers the shards 0 to {count - 1}: "
                "list only those, or raise DISCORD_SHARD_COUNT"
            )
        if twice := [shard for shard in dict.fromkeys(ids) if ids.count(shard) > 1]:
            raise ValueError(f"lists shard {twice[0]} twice: list each shard once, such as 0,1")
        return ids

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
