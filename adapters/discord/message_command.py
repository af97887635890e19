"""The message command "Schedule as post": a form for accounts, time and caption, then the message's files are
posted. The form is the interaction's first response, so it opens within Discord's 3 seconds or not at all."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import discord
from discord import app_commands

from adapters.discord.components import ANSWER_FAILURES, ScheduleForm, why
from adapters.discord.dispatch import ANSWER_BUDGET, Dispatcher, Interaction
from adapters.discord.people import PLATFORM
from adapters.discord.responses import answer
from adapters.discord.translation import to_draft
from bot.core import Core
from bot.errors import BotError
from bot.model import PostDraft, Reply
from bot.texts import FORM_ALREADY_SENT, busy, no_files

logger = logging.getLogger(__name__)

MESSAGE_COMMAND = "Schedule as post"
NO_FILES = no_files("use /post with the `media1` (attachment) or `url` option")
BUSY = busy("Discord")


class MessageCommand:
    """Apps → Schedule as post, on a message with files.

    Args:
        dispatcher: runs the core's /post once the form is submitted.
        open_forms: the client's custom_ids of the forms shown and neither submitted nor expired.
    """

    def __init__(self, dispatcher: Dispatcher, *, open_forms: set[str]) -> None:
        self.dispatcher = dispatcher
        self._open_forms = open_forms

    def menu(self) -> app_commands.ContextMenu:
        """The command as Discord's Apps menu of a message shows it."""
        return app_commands.ContextMenu(name=MESSAGE_COMMAND, callback=self.schedule_message)

    @app_commands.guild_only()
    async def schedule_message(self, interaction: Interaction, message: discord.Message) -> None:
        """Apps → Schedule as post: a form for accounts, time and caption, then the message's files are posted."""
        attachments = tuple(self.dispatcher.to_attachment(file) for file in message.attachments)
        if not attachments:
            await answer(interaction, Reply(text=NO_FILES, error=True))
            return
        # One deadline for everything before the form: reading the member's roles may need Discord's REST API.
        deadline = asyncio.get_running_loop().time() + ANSWER_BUDGET
        try:
            async with asyncio.timeout_at(deadline):
                caller = await self.dispatcher.people.caller(interaction)
        except TimeoutError:
            await answer(interaction, Reply(text=BUSY, error=True))
            return
        except BotError as exc:
            await answer(interaction, Reply(text=exc.user_message, error=True))
            return
        if not caller.may_post:
            # Refused before the form rather than after it; the core words the refusal.
            await self.dispatcher.run(interaction, "post", draft=PostDraft(), attachments=attachments)
            return
        try:
            async with asyncio.timeout_at(deadline):
                defaults = ", ".join((await self.dispatcher.core.post_form(caller)).defaults)
        except TimeoutError:
            defaults = ""  # the form must open within 3 seconds; empty accounts mean the defaults anyway
        except BotError as exc:
            await answer(interaction, Reply(text=exc.user_message, error=True))
            return

        async def submitted(submission: discord.Interaction[Any], values: dict[str, str]) -> None:
            # Submitted again while the first is still being handled (its answer was slow): that one answers.
            if not await self.dispatcher.core.first_submission(f"{PLATFORM}:{form.custom_id}"):
                await answer(submission, Reply(text=FORM_ALREADY_SENT))
                return
            try:
                draft = to_draft(accounts=values["accounts"], when=values["when"], caption=values["caption"])
            except BotError as exc:
                await answer(submission, Core.failure_reply(exc, during="the post form"))
                return
            await self.dispatcher.run(submission, "post", draft=draft, attachments=attachments)

        form = ScheduleForm(accounts=defaults, on_submit=submitted, open_forms=self._open_forms)
        try:
            await interaction.response.send_modal(form)
        except ANSWER_FAILURES as exc:
            form.close()
            logger.warning("Discord: could not open the post form (%s)", why(exc))
        except BaseException:
            form.close()
            raise
