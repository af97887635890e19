"""Every Discord interaction's way to the core and back: refused for a server the operator did not name, or
deferred, handed to the core as a Command with its caller, and answered by editing the deferred message."""

from __future__ import annotations

from typing import Any

import discord

from adapters.discord.components import DiscordClient, more_arguments
from adapters.discord.people import DiscordPeople, place_of
from adapters.discord.responses import answer, defer, fill
from adapters.discord.translation import to_attachment
from bot.core import Core
from bot.errors import BotError
from bot.model import Attachment, Command, PostDraft, Reply

ANSWER_BUDGET = 2.0  # of Discord's 3 seconds, for answers that cannot be deferred

Interaction = discord.Interaction[DiscordClient]


class Dispatcher:
    """Runs the core's commands for the slash commands, the post form and the preview's buttons.

    Args:
        core: the bot's core.
        people: who is calling: a member's roles, read from the gateway's cache or Discord's REST API.
        api_url: DISCORD_API_URL, whose host may serve attached files too (see `to_attachment`).
    """

    def __init__(self, core: Core, *, people: DiscordPeople, api_url: str | None) -> None:
        self.core = core
        self.people = people
        self._api_url = api_url

    async def run(
        self,
        interaction: discord.Interaction[Any],
        name: str,
        *,
        text: str = "",
        draft: PostDraft | None = None,
        attachments: tuple[Attachment, ...] = (),
        secret: str | None = None,
        name_mentions: bool = False,
    ) -> None:
        """`secret`: what a private form took that must never be shown (`/infinipost connect`'s key).
        `name_mentions`: give the mentions in `text` their names first (which may take Discord's REST API)."""
        if await self.refused(interaction):  # a form's submission comes here without a command's checks
            return
        if await defer(interaction):
            if name_mentions:
                text = await self.people.name_mentions(interaction, text)
            reply = await self._handle(
                interaction, name, text=text, draft=draft, attachments=attachments, secret=secret
            )
            await fill(interaction, reply)

    async def press(self, interaction: discord.Interaction[Any], *, action: str, author_id: int, token: str) -> None:
        """Schedule / Cancel on a preview: the author's preview becomes the result; anyone else is told privately."""
        if await self.refused(interaction):
            return
        own = interaction.user.id == author_id
        if not await defer(interaction, update=own):
            return
        if action == "more":  # the next page of `/posts`, for whoever presses it
            await fill(interaction, await self._handle(interaction, "posts", text=more_arguments(token)))
            return
        await fill(interaction, await self._handle(interaction, action, text=token))

    async def turn(self, interaction: discord.Interaction[Any], *, name: str, text: str) -> None:
        """A control under a private answer (the calendar's weeks and accounts): the command's answer replaces that
        message, for whoever pressed it (only they see it)."""
        if await self.refused(interaction):
            return
        if await defer(interaction, update=True):
            await fill(interaction, await self._handle(interaction, name, text=text))

    def refusal(self, interaction: discord.Interaction[Any]) -> Reply | None:
        """The core's answer to a server the operator did not name, given before anything else is done."""
        place = place_of(interaction)
        return self.core.refusal(place) if place is not None else None

    async def refused(self, interaction: discord.Interaction[Any]) -> bool:
        """Whether the interaction came from a server the operator did not name, and was answered so."""
        refused = self.refusal(interaction)
        if refused is not None:
            await answer(interaction, refused)
        return refused is not None

    def to_attachment(self, file: discord.Attachment) -> Attachment:
        """A Discord file as an Attachment, fetched from Discord's file hosts (or DISCORD_API_URL's) only."""
        return to_attachment(file, api_url=self._api_url)

    async def _handle(
        self,
        interaction: discord.Interaction[Any],
        name: str,
        *,
        text: str = "",
        draft: PostDraft | None = None,
        attachments: tuple[Attachment, ...] = (),
        secret: str | None = None,
    ) -> Reply:
        try:
            caller = await self.people.caller(interaction)
        except BotError as exc:
            return Reply(text=exc.user_message, error=True)
        return await self.core.handle(
            Command(name=name, caller=caller, text=text, draft=draft, attachments=attachments, secret=secret)
        )
