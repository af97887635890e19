"""Discord UI pieces: the client that owns them, the preview's Schedule / Cancel buttons, and the post form.
(The approval buttons and their form are in `approvals`.)"""

from __future__ import annotations

import base64
import logging
import os
import re
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, cast

import aiohttp
import discord

from bot.model import Reply
from bot.texts import FORM_EXPIRED, KEY_FIELD_HINT, KEY_FIELD_LABEL, KEY_FORM_TITLE, WHEN_EXAMPLES

logger = logging.getLogger(__name__)

PREVIEW_TEMPLATE = re.compile(
    r"post:(?P<action>confirm|discard|more):(?P<author>[0-9]{1,20}):(?P<token>[A-Za-z0-9_=-]{1,64})"
)
FORM_PREFIX = "post:form:"
NOTE_FORM_PREFIX = "approval:note:"  # the note of Request changes, the reason of Reject
MORE_LIMIT = 64  # characters of a More button's encoded `/posts` arguments, within Discord's 100 for a custom_id
FORM_TIMEOUT = 3600.0  # a form left open longer than this is forgotten, and its submission told it expired
# What answering an interaction can fail with: Discord's refusals, the network, and discord.py reading an error
# body that is not JSON (its interaction client indexes Cloudflare's HTML 429 page as if it were JSON: TypeError).
ANSWER_FAILURES = (discord.DiscordException, aiohttp.ClientError, OSError, TimeoutError, TypeError)


def why(exc: BaseException) -> str:
    """A refusal as the logs say it: Discord's status and code, or what kind of failure it was."""
    if isinstance(exc, discord.HTTPException):
        return f"HTTP {exc.status}, code {exc.code}"
    return type(exc).__name__


class PreviewHandler(Protocol):
    async def __call__(
        self, interaction: discord.Interaction[Any], *, action: str, author_id: int, token: str
    ) -> None: ...


class ApprovalHandler(Protocol):
    """What the approval buttons (Approve, Request changes, Reject) and their note form do."""

    async def press(self, interaction: discord.Interaction[Any], *, action: str, request_id: int) -> None: ...

    async def submitted(self, interaction: discord.Interaction[Any]) -> None: ...


class PageHandler(Protocol):
    """What a control that turns a private answer's page does: the command's answer in place of that message."""

    async def __call__(self, interaction: discord.Interaction[Any], *, name: str, text: str) -> None: ...


class DiscordClient(discord.Client):
    """A discord.py client that knows who handles preview, approval and calendar controls, since those are rebuilt
    from their custom_id, and which post forms are open, since those live only in this process."""

    def __init__(
        self, *, on_preview: PreviewHandler, approvals: ApprovalHandler, on_page: PageHandler, **options: Any
    ) -> None:
        super().__init__(**options)
        self.on_preview = on_preview
        self.approvals = approvals
        self.on_page = on_page
        self.open_forms: set[str] = set()  # custom_ids of the post forms shown and neither submitted nor expired

    async def on_interaction(self, interaction: discord.Interaction[Any]) -> None:
        if interaction.type is not discord.InteractionType.modal_submit:
            return
        custom_id = str(cast("dict[str, Any]", interaction.data or {}).get("custom_id", ""))
        if custom_id.startswith(NOTE_FORM_PREFIX):
            # Handled from what it carries, whether or not discord.py still holds the form (see approvals.NoteForm).
            await self.approvals.submitted(interaction)
            return
        # discord.py drops the submission of a form it no longer holds (timed out, or shown before a restart), and
        # Discord would then only say that the interaction failed. A form being handled is still in open_forms: it
        # leaves only when its submission has been answered.
        if not custom_id.startswith(FORM_PREFIX):
            return
        if custom_id in self.open_forms:
            return
        try:
            await interaction.response.send_message(FORM_EXPIRED, ephemeral=True)
        except ANSWER_FAILURES as exc:
            logger.warning("Discord: could not answer an expired form (%s)", why(exc))


class ShardedDiscordClient(DiscordClient, discord.AutoShardedClient):
    """The same client over several gateway connections, one per shard (DISCORD_SHARD_COUNT, DISCORD_SHARD_IDS),
    as discord.py's AutoShardedClient runs them; everything else is shared by the shards."""


class PreviewButton(discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]], template=PREVIEW_TEMPLATE):
    """The yes or no button of a question (Schedule or Cancel on a preview, Cancel them or Keep them under a
    `/cancel`). Everything needed is in the custom_id, so it works after a restart."""

    def __init__(self, action: str, author_id: int, token: str, label: str = "") -> None:
        style = discord.ButtonStyle.success if action == "confirm" else discord.ButtonStyle.secondary
        label = label or {"confirm": "Schedule", "discard": "Cancel"}.get(action, "More")
        super().__init__(discord.ui.Button(label=label, style=style, custom_id=f"post:{action}:{author_id}:{token}"))
        self.action = action
        self.author_id = author_id
        self.token = token

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> PreviewButton:
        return cls(match["action"], int(match["author"]), match["token"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        client = interaction.client
        if isinstance(client, DiscordClient):
            await client.on_preview(interaction, action=self.action, author_id=self.author_id, token=self.token)


def reply_view(author_id: int, reply: Reply) -> discord.ui.View | None:
    """The buttons a reply asks for: yes and no under a question (only its author sees the ephemeral message, and
    the core checks it too), More under a page of `/posts` with more after it."""
    view = discord.ui.View(timeout=None)
    if reply.confirm_token:
        view.add_item(PreviewButton("confirm", author_id, reply.confirm_token, reply.confirm_labels[0]))
        view.add_item(PreviewButton("discard", author_id, reply.confirm_token, reply.confirm_labels[1]))
    more = base64.urlsafe_b64encode(reply.more.encode()).decode() if reply.more else ""
    if more and len(more) <= MORE_LIMIT:  # beyond it, the text's `/posts more` still serves
        view.add_item(PreviewButton("more", author_id, more))
    return view if view.children else None


def more_arguments(token: str) -> str:
    """The `/posts` arguments a More button carries."""
    return base64.urlsafe_b64decode(token.encode()).decode("utf-8", "replace")


FormSubmit = Callable[[discord.Interaction[Any], dict[str, str]], Awaitable[None]]


class ScheduleForm(discord.ui.Modal):
    """The modal of "Schedule as post": accounts, time and caption for the files of one message."""

    def __init__(self, *, accounts: str, on_submit: FormSubmit, open_forms: set[str]) -> None:
        super().__init__(title="Schedule as post", timeout=FORM_TIMEOUT, custom_id=FORM_PREFIX + os.urandom(8).hex())
        self._on_submit = on_submit
        self._open_forms = open_forms
        open_forms.add(self.custom_id)
        self.accounts: discord.ui.TextInput[ScheduleForm] = discord.ui.TextInput(
            custom_id="accounts", default=accounts or None, required=False, max_length=400
        )
        self.when: discord.ui.TextInput[ScheduleForm] = discord.ui.TextInput(
            custom_id="when", placeholder=WHEN_EXAMPLES, required=False, max_length=100
        )
        self.caption: discord.ui.TextInput[ScheduleForm] = discord.ui.TextInput(
            custom_id="caption", style=discord.TextStyle.paragraph, required=False, max_length=2200
        )
        self.add_item(
            discord.ui.Label(
                text="Accounts",
                description="IDs, names or aliases, separated by commas. Empty: this channel's defaults.",
                component=self.accounts,
            )
        )
        self.add_item(
            discord.ui.Label(
                text="When", description="Read in your time zone (see /timezone). Empty: now.", component=self.when
            )
        )
        self.add_item(discord.ui.Label(text="Caption", component=self.caption))

    async def on_submit(self, interaction: discord.Interaction[Any], /) -> None:
        values = {"accounts": self.accounts.value, "when": self.when.value, "caption": self.caption.value}
        try:
            await self._on_submit(interaction, values)
        finally:
            self.close()

    async def on_timeout(self) -> None:
        self.close()

    def close(self) -> None:
        """Forget the form: a later submission of it is told it expired."""
        self._open_forms.discard(self.custom_id)


KeySubmit = Callable[[discord.Interaction[Any], str], Awaitable[None]]


class KeyForm(discord.ui.Modal):
    """The modal of `/infinipost connect`: one field for the server's Infinipost key, seen only by whoever opened
    it. The key is handed on, never shown or logged."""

    def __init__(self, *, on_submit: KeySubmit) -> None:
        super().__init__(title=KEY_FORM_TITLE, timeout=FORM_TIMEOUT, custom_id="infinipost:key:" + os.urandom(8).hex())
        self._on_submit = on_submit
        self.key: discord.ui.TextInput[KeyForm] = discord.ui.TextInput(
            custom_id="key", placeholder="sk_live_…", min_length=8, max_length=200
        )
        self.add_item(discord.ui.Label(text=KEY_FIELD_LABEL, description=KEY_FIELD_HINT, component=self.key))

    async def on_submit(self, interaction: discord.Interaction[Any], /) -> None:
        await self._on_submit(interaction, self.key.value)
