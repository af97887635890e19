"""Approve, Request changes and Reject under an announcement that waits for approval, and the form that takes the
note or the reason.

The buttons and the form carry everything needed in their custom_id (the action and the request number), and
both are handled from it rather than from anything this process holds: they keep working after a restart. Who may
decide, and whether it is too late, is the core's to say (`/approve`, `/changes`, `/reject`); its answer goes to
the presser privately.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any, cast

import discord

from adapters.discord.components import ANSWER_FAILURES, FORM_TIMEOUT, NOTE_FORM_PREFIX, DiscordClient, why
from adapters.discord.dispatch import ANSWER_BUDGET, Dispatcher
from adapters.discord.responses import answer
from bot.approvals import MAX_NOTE
from bot.errors import BotError
from bot.model import Reply
from bot.notices import Notice
from bot.texts import stale_command

logger = logging.getLogger(__name__)

BUTTON_TEMPLATE = re.compile(r"approval:(?P<action>approve|changes|reject):(?P<request>[0-9]{1,17})")
NOTE_FORM = re.compile(re.escape(NOTE_FORM_PREFIX) + r"(?P<action>changes|reject):(?P<request>[0-9]{1,17})")
NOTE_FIELD = "note"

_BUTTONS = {
    "approve": ("Approve", discord.ButtonStyle.success),
    "changes": ("Request changes", discord.ButtonStyle.secondary),
    "reject": ("Reject", discord.ButtonStyle.danger),
}
# The form of each button that asks for words: its title, its field's label and hint.
_FORMS = {
    "changes": ("Request changes to #{id}", "What should change", "The author sees this in the thread."),
    "reject": ("Reject request #{id}", "Why it is turned down", "The author sees this in the thread."),
}


class ApprovalButton(discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]], template=BUTTON_TEMPLATE):
    """Approve, Request changes or Reject, for one request: `approval:<action>:<request number>`."""

    def __init__(self, action: str, request_id: int) -> None:
        label, style = _BUTTONS[action]
        super().__init__(discord.ui.Button(label=label, style=style, custom_id=f"approval:{action}:{request_id}"))
        self.action = action
        self.request_id = request_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ApprovalButton:
        return cls(match["action"], int(match["request"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        client = interaction.client
        if isinstance(client, DiscordClient):
            await client.approvals.press(interaction, action=self.action, request_id=self.request_id)


def approval_view(notices: Sequence[Notice]) -> discord.ui.View | None:
    """The buttons of an announcement still waiting for approval; None for any other message (an edit without
    them takes the buttons off the announcement once it is decided)."""
    if len(notices) != 1 or not notices[0].asks_for_approval:
        return None
    view = discord.ui.View(timeout=None)
    for action in _BUTTONS:
        view.add_item(ApprovalButton(action, notices[0].request_id))
    return view


class NoteForm(discord.ui.Modal):
    """The note of Request changes, or the reason of Reject: one paragraph, required.

    Its submission is handled by `Approvals.submitted` from its custom_id and value, as the buttons are, so that a
    form opened before a restart still works after it: this class only lays the form out."""

    def __init__(self, action: str, request_id: int) -> None:
        title, label, hint = _FORMS[action]
        super().__init__(
            title=title.format(id=request_id),
            timeout=FORM_TIMEOUT,  # discord.py's own copy; the form itself works as long as Discord shows it
            custom_id=f"{NOTE_FORM_PREFIX}{action}:{request_id}",
        )
        self.note: discord.ui.TextInput[NoteForm] = discord.ui.TextInput(
            custom_id=NOTE_FIELD, style=discord.TextStyle.paragraph, required=True, max_length=MAX_NOTE
        )
        self.add_item(discord.ui.Label(text=label, description=hint, component=self.note))


class Approvals:
    """What the approval buttons and forms do: each becomes the core's `/approve`, `/changes` or `/reject`."""

    def __init__(self, dispatcher: Dispatcher) -> None:
        self.dispatcher = dispatcher

    async def press(self, interaction: discord.Interaction[Any], *, action: str, request_id: int) -> None:
        """Approve is decided at once; Request changes and Reject first ask for the note or the reason, in a
        form that must be the interaction's first answer (so it opens before the core is asked anything)."""
        if action == "approve":
            await self.dispatcher.run(interaction, "approve", text=f"#{request_id}")
            return
        if await self.dispatcher.refused(interaction):
            return
        refused = await self._refusal(interaction, action=action, request_id=request_id)
        if refused is not None:
            await answer(interaction, refused)
            return
        try:
            await interaction.response.send_modal(NoteForm(action, request_id))
        except ANSWER_FAILURES as exc:
            logger.warning("Discord: could not open the form of %s (%s)", action, why(exc))

    async def _refusal(self, interaction: discord.Interaction[Any], *, action: str, request_id: int) -> Reply | None:
        """Whether the presser may not decide on the request now: told at once, rather than after typing a note.
        What cannot be checked within the budget is checked when the form is sent."""
        try:
            async with asyncio.timeout(ANSWER_BUDGET / 2):
                caller = await self.dispatcher.people.caller(interaction)
                return await self.dispatcher.core.decision_refusal(caller, request_id, action=action)
        except (TimeoutError, BotError):
            return None

    async def submitted(self, interaction: discord.Interaction[Any]) -> None:
        """A note or reason form sent: `/changes #N <note>` or `/reject #N <reason>`."""
        data = cast("Mapping[str, Any]", interaction.data or {})
        match = NOTE_FORM.fullmatch(str(data.get("custom_id", "")))
        if match is None:  # a form of another version of the bot
            logger.info("Discord: a note form with an unknown custom_id was submitted")
            await answer(interaction, Reply(text=stale_command("Discord"), error=True))
            return
        note = submitted_value(data, NOTE_FIELD).strip()
        await self.dispatcher.run(interaction, match["action"], text=f"#{match['request']} {note}".strip())


def submitted_value(data: Mapping[str, Any], custom_id: str) -> str:
    """The value of one field of a submitted form, wherever it sits (in a label, or an action row)."""
    stack: list[Any] = list(data.get("components") or [])
    while stack:
        component = stack.pop()
        if not isinstance(component, Mapping):
            continue
        if component.get("custom_id") == custom_id and isinstance(component.get("value"), str):
            return str(component["value"])
        stack.extend(component.get("components") or [])
        if "component" in component:
            stack.append(component["component"])
    return ""
