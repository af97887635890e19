"""Discord: application commands with attachment options, a message command with a form, embeds and buttons."""

from adapters.discord.app import DiscordAdapter

__all__ = ["DiscordAdapter"]
