"""The Slack adapter: slack-bolt's AsyncApp, translating Slack payloads to the core's Command and back.

Every command, shortcut, button and form submission is acknowledged at once (Slack allows 3 seconds); the work
runs afterwards in a lazy listener and answers through the payload's `response_url`. Modals open from the
`trigger_id` before anything slow happens and are filled in with `views.update`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import blocks
from adapters.slack.callers import find_caller, organization
from adapters.slack.connection import BOLT_LOGGER, HttpEndpoint, bolt_failed, socket_mode_handler
from adapters.slack.form import PostModal
from adapters.slack.messenger import SlackMessenger
from adapters.slack.names import BOT_EVENTS, EVENTS_PATH, SHORTCUT_CALLBACK
from adapters.slack.people import PLATFORM, SlackPeople
from adapters.slack.responses import Responder
from adapters.slack.settings import SlackSettings
from adapters.slack.workspace import OperatorsWorkspace
from bot.core import Core
from bot.model import Command, Reply
from bot.texts import CHECKING_POST, COMMANDS, no_files

logger = logging.getLogger(__name__)


# The command each button runs, with the button's value as its text: the page a More button names is replaced
# by the next one, a question by its answer.
_BUTTON_COMMANDS = {blocks.CONFIRM_ACTION: "confirm", blocks.DISCARD_ACTION: "discard", blocks.MORE_ACTION: "posts"}

NO_FILES = no_files("type `/post <link> to <account> at <time>`")


def command_name(slash: str) -> str:
    """`/post` -> `post`; a workspace's prefixed name such as `/ip-post` -> `post` too."""
    name = slash.lstrip("/").lower()
    if name not in COMMANDS:
        name = re.split(r"[-_.]", name)[-1]
    return name


class SlackAdapter:
    """One workspace's Slack app around the core. `mount()` it on the bot's web server, or `start_socket_mode()`."""

    def __init__(self, core: Core, settings: SlackSettings, *, client: AsyncWebClient | None = None) -> None:
        settings.check_slack()
        assert settings.slack_bot_token is not None
        self._token = settings.slack_bot_token.get_secret_value()
        self.core = core
        self.settings = settings
        # No shared session here: bolt deep-copies the client into every lazy listener, and a session cannot be.
        # No automatic retries: a chat.postMessage retried after a dropped connection can post twice; the outbox
        # retries notices itself, after checking whether the first one arrived.
        self.client = client or AsyncWebClient(token=self._token, base_url=settings.slack_api_url, retry_handlers=[])
        secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else ""
        self.app = AsyncApp(
            client=self.client,
            signing_secret=secret,
            request_verification_enabled=not settings.slack_socket_mode,
            logger=BOLT_LOGGER,
        )
        self.people = SlackPeople(self.client, admins=settings.slack_admin_users, posters=settings.slack_poster_users)
        self.messenger = SlackMessenger(self.client)
        self.responder = Responder(core)
        self.workspace = OperatorsWorkspace(core, self.client, responder=self.responder)
        self.form = PostModal(core, settings, people=self.people, responder=self.responder, bot_token=self._token)
        core.attach(PLATFORM, self.messenger)
        self._socket: AsyncSocketModeHandler | None = None
        self._endpoint = HttpEndpoint(self.app, core, signing_secret=secret)
        self._register()

    # Lifecycle

    def mount(self, app: web.Application) -> None:
        """Serve Slack's HTTP mode (commands, interactivity and events) at POST /slack/events."""
        app.router.add_post(EVENTS_PATH, self._endpoint.handle)

    async def start_socket_mode(self) -> None:
        assert self.settings.slack_app_token is not None
        self._socket = socket_mode_handler(self.app, self.settings.slack_app_token.get_secret_value())
        await self._socket.connect_async()  # type: ignore[no-untyped-call]

    async def stop(self) -> None:
        await self.responder.close()
        if self._socket is not None:
            await self._socket.close_async()  # type: ignore[no-untyped-call]

    # Listeners

    def _register(self) -> None:
        self.app.use(self.workspace.only_the_operators)
        self.app.command(re.compile(r"^/.+"))(ack=_ack_command, lazy=[self._command])
        self.app.shortcut(SHORTCUT_CALLBACK)(ack=_ack, lazy=[self._shortcut])
        self.app.view_submission(blocks.FORM_CALLBACK)(ack=self.form.acknowledge, lazy=[self.form.submit])
        self.app.action(blocks.CONFIRM_ACTION)(ack=_ack, lazy=[self._button])
        self.app.action(blocks.DISCARD_ACTION)(ack=_ack, lazy=[self._button])
        self.app.action(blocks.MORE_ACTION)(ack=_ack, lazy=[self._button])
        for event in BOT_EVENTS:
            self.app.event(event)(_lost_access)
        self.app.error(bolt_failed)

    async def check_token(self) -> None:
        """At start-up: stop with one sentence if Slack refuses SLACK_BOT_TOKEN or, in Socket Mode, SLACK_APP_TOKEN."""
        await self.workspace.check_tokens(self.settings.slack_app_token)

    async def _command(self, body: dict[str, Any], client: AsyncWebClient) -> None:
        name = command_name(str(body.get("command", "")))
        text = str(body.get("text") or "").strip()
        response_url = str(body.get("response_url") or "")
        who = (body["team_id"], body["user_id"], body["channel_id"], body.get("user_name", ""), organization(body))
        async with self.responder.or_apologise(response_url):
            if name == "post" and not text:
                metadata = {"channel": body["channel_id"], "response_url": response_url}
                await self.form.open(
                    client, trigger_id=body["trigger_id"], who=who, metadata=metadata, response_url=response_url
                )
                return
            caller = await find_caller(self.people, who)
            reply = await self.core.handle(Command(name=name, text=text, caller=caller))
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
            metadata = {"channel": channel, "response_url": response_url, "files": [f["id"] for f in files]}
            await self.form.open(
                client,
                trigger_id=body["trigger_id"],
                who=who,
                metadata=metadata,
                response_url=response_url,
                message_files=len(files),
            )

    async def _button(self, body: dict[str, Any]) -> None:
        action = body["actions"][0]
        name = _BUTTON_COMMANDS[action["action_id"]]
        user = body["user"]
        team = user.get("team_id") or (body.get("team") or {}).get("id", "")
        channel = (body.get("channel") or {}).get("id", "")
        async with self.responder.or_apologise(str(body.get("response_url") or "")):
            who = (team, user["id"], channel, user.get("username", ""), organization(body))
            caller = await find_caller(self.people, who)
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


async def _ack_command(ack: Callable[..., Awaitable[None]], body: dict[str, Any]) -> None:
    if command_name(str(body.get("command", ""))) == "post" and str(body.get("text") or "").strip():
        await ack(text=CHECKING_POST)
    else:
        await ack()
