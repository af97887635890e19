"""Discord's interaction data as the core's types: /post options as a draft, files as Attachments, and a plain
sentence for an option that did not arrive as the command declares it."""

from __future__ import annotations

from typing import Any, Literal

import discord
from discord import app_commands

from bot.grammar import account_list, media_list
from bot.media.download import file_hosts
from bot.model import Attachment, MediaSource, PostDraft
from bot.texts import option_not_a_choice, option_of_another_kind, option_without_file

DISCORD_FILE_HOSTS = ("cdn.discordapp.com", "media.discordapp.net")


def to_draft(
    *,
    accounts: str | None = None,
    when: str | None = None,
    caption: str | None = None,
    url: str | None = None,
    sound: str | None = None,
    slide_duration: int | None = None,
    content_type: Literal["video", "slideshow"] | None = None,
) -> PostDraft:
    """Typed /post options as the neutral draft the core checks; the caption is kept exactly as typed. Raises
    BadCommand for an accounts option with a quote never closed."""
    return PostDraft(
        media=media_list(url or ""),
        accounts=account_list(accounts or ""),
        when=(when or "").strip() or None,
        sound_url=(sound or "").strip() or None,
        slides=slide_duration,
        content_type=content_type,
        caption=caption or None,
    )


# What each option type must arrive as; discord.py passes values on without checking them.
_OPTION_VALUES: dict[discord.AppCommandOptionType, tuple[type, ...]] = {
    discord.AppCommandOptionType.string: (str,),
    discord.AppCommandOptionType.integer: (int,),
    discord.AppCommandOptionType.number: (int, float),
    discord.AppCommandOptionType.boolean: (bool,),
    discord.AppCommandOptionType.attachment: (discord.Attachment,),
}
_OPTION_WORDS = {
    discord.AppCommandOptionType.string: "text",
    discord.AppCommandOptionType.integer: "a whole number",
    discord.AppCommandOptionType.number: "a number",
    discord.AppCommandOptionType.boolean: "true or false",
}


def malformed_option(interaction: discord.Interaction[Any]) -> str | None:
    """What is wrong with an option of a slash command, said plainly; None when every option is as declared."""
    command = interaction.command
    if not isinstance(command, app_commands.Command):
        return None
    values = dict(iter(interaction.namespace))  # a Namespace answers any attribute, `keys` too: not a mapping
    for parameter in command.parameters:
        name = parameter.display_name
        if name not in values:
            continue
        value, kind = values[name], parameter.type
        wanted = _OPTION_VALUES.get(kind, ())
        if kind is discord.AppCommandOptionType.attachment and not isinstance(value, discord.Attachment):
            return option_without_file(name)
        wrong_bool = isinstance(value, bool) and kind is not discord.AppCommandOptionType.boolean
        if wanted and (not isinstance(value, wanted) or wrong_bool):
            return option_of_another_kind(name, _OPTION_WORDS.get(kind, "another kind of value"), "Discord")
        if parameter.choices and value not in {choice.value for choice in parameter.choices}:
            listed = ", ".join(choice.name for choice in parameter.choices)
            return option_not_a_choice(name, listed, "Discord")
    return None


def to_attachment(file: discord.Attachment, *, api_url: str | None) -> Attachment:
    """A Discord file as an Attachment. Its signed CDN link expires, so the core fetches it while handling.

    Args:
        file: the file as discord.py holds it.
        api_url: DISCORD_API_URL, whose host (a proxy or a test double) may serve the files too.
    """
    return Attachment(
        filename=file.filename,
        url=file.url,
        content_type=file.content_type,
        size=file.size,
        source=file_source(api_url=api_url),
    )


def file_source(*, api_url: str | None) -> MediaSource:
    """Discord's CDN links are signed and need no token; they are fetched from Discord's file hosts only."""
    hosts = file_hosts(DISCORD_FILE_HOSTS, api_url=api_url, api_host="discord.com")
    return MediaSource(allowed_hosts=hosts, bearer_token=None)
