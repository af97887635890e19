"""The chat platforms `infinipost-bot run` can start. A new platform is one more entry here (and its settings
section in app/settings.py): the core and `serve` stay as they are."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from app.settings import Settings
from bot.core import Core
from bot.held_platform import Role
from bot.platform import Platform


def _nothing_to_check(settings: Settings) -> None:
    pass


@dataclass(frozen=True, kw_only=True)
class PlatformEntry:
    """A platform the app knows: whether the settings ask for it, what they lack, and how to build it.

    Args:
        configured: whether the settings name this platform (its token is set).
        check: raises ValueError naming what a configured platform still lacks, before anything starts.
        build: the platform's adapter around the core; it imports the platform's library, an optional extra.
        single: the role, if the settings make the platform one that only one replica may run at a time (a
            gateway connection that is not sharded); the replicas then take turns through the database.
    """

    name: str
    configured: Callable[[Settings], bool]
    build: Callable[[Core, Settings], Platform]
    check: Callable[[Settings], None] = _nothing_to_check
    single: Callable[[Settings], Role | None] = lambda settings: None


def _slack(core: Core, settings: Settings) -> Platform:
    from adapters.slack.platform import SlackPlatform  # slack_bolt: only once Slack is configured

    return SlackPlatform(core, settings)


def _discord(core: Core, settings: Settings) -> Platform:
    from adapters.discord.platform import DiscordPlatform  # discord.py: only once Discord is configured

    return DiscordPlatform(core, settings)


PLATFORMS = (
    PlatformEntry(
        name="slack", configured=lambda settings: settings.slack_configured, check=Settings.check_slack, build=_slack
    ),
    PlatformEntry(
        name="discord",
        configured=lambda settings: settings.discord_configured,
        build=_discord,
        # Without shards, Discord sends each event to every connection: one replica connects at a time.
        single=lambda settings: (
            Role("discord gateway", timedelta(seconds=settings.discord_gateway_lease_seconds))
            if settings.discord_shard_count is None
            else None
        ),
    ),
)


def configured_platforms(settings: Settings) -> list[PlatformEntry]:
    return [entry for entry in PLATFORMS if entry.configured(settings)]
