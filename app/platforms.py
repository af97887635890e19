"""The chat platforms `infinipost-bot run` can start. A new platform is one more entry here (and its settings
section in app/settings.py): the core and `serve` stay as they are."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from app.settings import Settings
from bot.core import Core
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
    """

    configured: Callable[[Settings], bool]
    build: Callable[[Core, Settings], Platform]
    check: Callable[[Settings], None] = _nothing_to_check


def _slack(core: Core, settings: Settings) -> Platform:
    from adapters.slack.platform import SlackPlatform  # slack_bolt: only once Slack is configured

    return SlackPlatform(core, settings)


def _discord(core: Core, settings: Settings) -> Platform:
    from adapters.discord.platform import DiscordPlatform  # discord.py: only once Discord is configured

    return DiscordPlatform(core, settings)


PLATFORMS = (
    PlatformEntry(configured=lambda settings: settings.slack_configured, check=Settings.check_slack, build=_slack),
    PlatformEntry(configured=lambda settings: settings.discord_configured, build=_discord),
)


def configured_platforms(settings: Settings) -> list[PlatformEntry]:
    return [entry for entry in PLATFORMS if entry.configured(settings)]
