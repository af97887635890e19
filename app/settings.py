"""The one settings object the app reads: the core's, and each chat platform's section."""

from __future__ import annotations

from adapters.discord.settings import DiscordSettings
from adapters.slack.settings import SlackSettings


# pydantic takes the fields of the last base first: in this order, a bad setting is listed core, Slack, Discord.
class Settings(DiscordSettings, SlackSettings):
    """Every setting of the bot, read once from the environment or `.env`. `.env.example` lists and explains
    each one; a new chat platform adds its section as one more base here."""
