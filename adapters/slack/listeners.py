"""The bolt listeners: slash commands, the message shortcut and the reply buttons, each acknowledged at once and
worked on in a lazy listener that answers through the payload's `response_url`; the form's own are in form.py, the
approvers' in approvals.py, the Home tab's in home.py."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import blocks
from adapters.slack.approvals import ApprovalButtons
from adapters.slack.callers import find_caller, organization
from adapters.slack.connection import bolt_failed
from adapters.slack.files import described as _described
from adapters.slack.files import to_attachment
from adapters.slack.form import PostModal
from adapters.slack.home import HomeTab
from adapters.slack.key_form import KeyModal
from adapters.slack.names import BOT_EVENTS, SHORTCUT_CALLBACK
from adapters.slack.people import PLATFORM, SlackPeople
from adapters.slack.responses import Responder
from adapters.slack.workspace import OperatorsWorkspace
from bot.core import Core
from bot.errors import BotError
from bot.importing import wants_import
from bot.model import Caller, Command, Reply
from bot.texts import CHECKING_POST, COMMANDS, no_files

logger = logging.getLogger(__name__)

# The command each button runs, with the button's value as its text: the page a More button names is replaced
# by the next one, a question by its answer.
_BUTTON_COMMANDS = {blocks.CONFIRM_ACTION: "confirm", blocks.DISCARD_ACTION: "discard", blocks.MORE_ACTION: "posts"}

# The commands the core answers from who is an approver: only for these are the caller's user groups looked up,
# since that costs Slack calls.
_APPROVER_COMMANDS = frozenset({"approve", "changes", "reject"})

NO_FILES = no_files("type `/post <link> to <account> at <time>`")


def command_name(slash: str) -> str:
    """`/post` -> `post`; a workspace's prefixed name such as `/ip-post` -> `post` too."""
    name = slash.lstrip("/").lower()
    if name not in COMMANDS:
        name = re.split(r"[-_.]", name)[-1]
    return name


class SlackListeners:
    """Turns commands, the shortcut and button presses into the core's Commands, and its Replies into answers."""

    def __init__(
        self,
        core: Core,
        *,
        people: SlackPeople,
        responder: Responder,
        form: PostModal,
        workspace: OperatorsWorkspace,
        home: HomeTab,
    ) -> None:
        self.core = core
        self.people = people
        self.responder = responder
        self.form = form
        self.key_form = KeyModal(core, people=people, responder=responder)
        self.approvals = ApprovalButtons(core, people=people, responder=responder)
        self.workspace = workspace
        self.home = home
        # /post commands kept before their acknowledgement, by trigger_id, until their lazy listener takes them.
        self._accepting: dict[str, asyncio.Future[int | None]] = {}

    def register(self, app: AsyncApp) -> None:
        """Everything the app listens to, behind the middleware that keeps out other workspaces."""
        app.use(self.workspace.only_the_operators)
        app.command(re.compile(r"^/.+"))(ack=self._ack_command, lazy=[self._command])
        app.shortcut(SHORTCUT_CALLBACK)(ack=_ack, lazy=[self._shortcut])
        app.view_submission(blocks.FORM_CALLBACK)(ack=self.form.acknowledge, lazy=[self.form.submit])
        app.view_submission(blocks.KEY_CALLBACK)(ack=_ack, lazy=[self.key_form.submit])
        app.action(blocks.CONFIRM_ACTION)(ack=_ack, lazy=[self._button])
        app.action(blocks.DISCARD_ACTION)(ack=_ack, lazy=[self._button])
        app.action(blocks.MORE_ACTION)(ack=_ack, lazy=[self._button])
        app.action(blocks.APPROVE_ACTION)(ack=_ack, lazy=[self.approvals.approve])
        app.action(blocks.CHANGES_ACTION)(ack=_ack, lazy=[self.approvals.ask_for_note])
        app.action(blocks.REJECT_ACTION)(ack=_ack, lazy=[self.approvals.ask_for_note])
        app.view_submission(blocks.NOTE_CALLBACK)(ack=_ack, lazy=[self.approvals.submit_note])
        self.home.register(app)
        if self.workspace.installed:  # bolt's own: the installation is deleted (installs.py), its place refused
            app.enable_token_revocation_listeners()
        else:
            for event in BOT_EVENTS:
                app.event(event)(_lost_access)
        app.error(bolt_failed)

    async def _ack_command(self, ack: Callable[..., Awaitable[None]], body: dict[str, Any]) -> None:
        if command_name(str(body.get("command", ""))) == "post" and str(body.get("text") or "").strip():
            if body.get("trigger_id"):
                # Kept before Slack hears it arrived: a replica that dies before handling it leaves a trace, and
                # its author is told. The lazy listener picks the number up by the command's trigger_id.
                keeping = asyncio.ensure_future(self.core.accept(_sender(body), str(body["text"]).strip()))
                self._accepting[str(body["trigger_id"])] = keeping
                await asyncio.wait({keeping})  # never longer than the core's budget
            await ack(text=CHECKING_POST)
        else:
            await ack()

    async def _command(self, body: dict[str, Any], client: AsyncWebClient) -> None:
        name = command_name(str(body.get("command", "")))
        text = str(body.get("text") or "").strip()
        response_url = str(body.get("response_url") or "")
        who = (body["team_id"], body["user_id"], body["channel_id"], body.get("user_name", ""), organization(body))
        keeping = self._accepting.pop(str(body.get("trigger_id", "")), None)
        accepted_id = await keeping if keeping is not None else None
        async with self.responder.or_apologise(response_url):
            if name == "post" and not text:
                metadata = {"channel": body["channel_id"], "response_url": response_url}
                await self.form.open(
                    client, trigger_id=body["trigger_id"], who=who, metadata=metadata, response_url=response_url
                )
                return
            if self.core.asks_for_key(name, text):
                await self.key_form.open(client, trigger_id=body["trigger_id"], who=who, response_url=response_url)
                return
            caller = await find_caller(self.people, who, client, with_groups=name in _APPROVER_COMMANDS)
            reply = await self.core.handle(Command(name=name, text=text, caller=caller, accepted_id=accepted_id))
            reply = await self.responder.share_file(client, caller, reply)
            await self.responder.respond(response_url, blocks.reply_message(reply))

    async def _shortcut(self, body: dict[str, Any], client: AsyncWebClient) -> None:
        message = body.get("message") or {}
        files = [f for f in message.get("files") or () if isinstance(f, dict) and f.get("id")]
        team = (body.get("team") or {}).get("id") or (body.get("user") or {}).get("team_id", "")
        channel = (body.get("channel") or {}).get("id", "")
        response_url = str(body.get("response_url") or "")
        who = (team, body["user"]["id"], channel, body["user"].get("username", ""), organization(body))
        async with self.responder.or_apologise(response_url):
            if not files:
                await self.responder.respond(response_url, blocks.reply_message(Reply(text=NO_FILES, error=True)))
                return
            if wants_import([_described(f) for f in files]):  # a CSV of posts: previewed, not put in a form
                caller = await find_caller(self.people, who, client)
                try:
                    source = self.form.file_source(client)
                    attachments = tuple([await to_attachment(client, f, source=source) for f in files])
                except BotError as exc:
                    reply = Reply(text=exc.user_message, error=True)
                else:
                    reply = await self.core.handle(Command(name="import", caller=caller, attachments=attachments))
                await self.responder.respond(response_url, blocks.reply_message(reply))
                return
            metadata = {"channel": channel, "response_url": response_url, "files": [f["id"] for f in files]}
            await self.form.open(
                client,
                trigger_id=body["trigger_id"],
                who=who,
                metadata=metadata,
                response_url=response_url,
                message_files=len(files),
            )

    async def _button(self, body: dict[str, Any], client: AsyncWebClient) -> None:
        action = body["actions"][0]
        name = _BUTTON_COMMANDS[action["action_id"]]
        user = body["user"]
        team = user.get("team_id") or (body.get("team") or {}).get("id", "")
        channel = (body.get("channel") or {}).get("id", "")
        async with self.responder.or_apologise(str(body.get("response_url") or "")):
            who = (team, user["id"], channel, user.get("username", ""), organization(body))
            caller = await find_caller(self.people, who, client)
            reply = await self.core.handle(Command(name=name, text=str(action.get("value", "")), caller=caller))
            message = blocks.reply_message(reply)
            await self.responder.respond(str(body.get("response_url") or ""), {"replace_original": True, **message})


async def _lost_access(body: dict[str, Any]) -> None:
    event = body.get("event") or {}
    logger.error(
        "Slack says %s for workspace %s: the bot can no longer answer there until it is reinstalled",
        event.get("type"),
        body.get("team_id"),
    )


async def _ack(ack: Callable[..., Awaitable[None]]) -> None:
    await ack()


def _sender(body: dict[str, Any]) -> Caller:
    """Who sent a slash command, as far as its payload says: enough to keep it, before SlackPeople is asked."""
    return Caller(
        platform=PLATFORM,
        workspace_id=str(body["team_id"]),
        channel_id=str(body["channel_id"]),
        user_id=str(body["user_id"]),
        display_name=str(body.get("user_name") or body["user_id"]),
        organization_id=organization(body),
    )
