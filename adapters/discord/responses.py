"""Answers to Discord interactions: deferred at once, then filled in by editing the deferred message.

Discord allows 3 seconds for the first response; the interaction token then lives 15 minutes, so the answer to a
deferred interaction replaces its private "thinking" message, or the preview whose button was pressed. A file the
answer carries (`/posts export`) is attached to it, so that only the person who asked sees it too.
"""

from __future__ import annotations

import io
import logging
from typing import Any

import discord

from adapters.discord.calendar import calendar_view
from adapters.discord.components import ANSWER_FAILURES, reply_view, why
from adapters.discord.embeds import Rendered, reply_message
from bot.model import Reply, ReplyFile

logger = logging.getLogger(__name__)

ALREADY_ACKNOWLEDGED = 40060  # Discord's error code for a second initial response to one interaction


async def defer(interaction: discord.Interaction[Any], *, update: bool = False) -> bool:
    """Acknowledge within Discord's 3 seconds: "thinking", privately; or, for a button, as an update of its message."""
    try:
        if update:
            await interaction.response.defer()
        else:
            await interaction.response.defer(ephemeral=True, thinking=True)
    except ANSWER_FAILURES as exc:
        if isinstance(exc, discord.HTTPException) and exc.code == ALREADY_ACKNOWLEDGED:
            # discord.py sent the callback again after a lost answer, and Discord had taken the first one.
            logger.info("Discord: an interaction was already acknowledged; going on")
            return True
        # 10062 "Unknown interaction": the 3 seconds were over; nothing can reach the user any more.
        logger.warning("Discord: could not acknowledge an interaction (%s)", why(exc))
        return False
    return True


async def fill(interaction: discord.Interaction[Any], reply: Reply) -> None:
    """The answer after a deferral becomes the deferred message itself: the private "thinking" message, or the
    preview whose button was pressed (its buttons then go, unless the answer brings its own)."""
    rendered = reply_message(reply)
    view = calendar_view(reply.calendar) if reply.calendar else reply_view(interaction.user.id, reply)
    try:
        await interaction.edit_original_response(
            content=rendered.content,
            embeds=rendered.embeds,
            view=view,
            allowed_mentions=rendered.mentions,
            attachments=[_file(reply.file)] if reply.file else discord.utils.MISSING,  # MISSING: keeps its own
        )
    except ANSWER_FAILURES as exc:
        logger.warning("Discord: could not send an answer (%s)", why(exc))


async def answer(interaction: discord.Interaction[Any], reply: Reply) -> None:
    """Answer privately, whether or not the interaction was acknowledged already."""
    if interaction.response.is_done():
        await fill(interaction, reply)
        return
    rendered = reply_message(reply)
    try:
        await interaction.response.send_message(
            content=_content(rendered),
            embeds=rendered.embeds,
            ephemeral=True,
            allowed_mentions=rendered.mentions,
            file=_file(reply.file) if reply.file else discord.utils.MISSING,
        )
    except ANSWER_FAILURES as exc:
        logger.warning("Discord: could not send an answer (%s)", why(exc))


def _file(file: ReplyFile) -> discord.File:
    return discord.File(io.BytesIO(file.content), filename=file.name)


def _content(rendered: Rendered) -> str:
    return rendered.content if rendered.content is not None else discord.utils.MISSING
