"""The Slack adapter: slack-bolt's AsyncApp, translating Slack payloads to the core's Command and back.

Every command, shortcut, button and form submission is acknowledged at once (Slack allows 3 seconds); the work
runs afterwards in a lazy listener and answers through the payload's `response_url`. Modals open from the
`trigger_id` before anything slow happens and are filled in with `views.update`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import blocks
from adapters.slack.connection import BOLT_LOGGER, HttpEndpoint, bolt_failed, socket_mode_handler
from adapters.slack.files import file_source, to_attachment
from adapters.slack.messenger import SlackMessenger
from adapters.slack.names import BOT_EVENTS, EVENTS_PATH, SHORTCUT_CALLBACK
from adapters.slack.people import PLATFORM, SlackPeople
from adapters.slack.refusals import error_code
from adapters.slack.responses import Responder
from adapters.slack.settings import SlackSettings
from adapters.slack.workspace import OperatorsWorkspace
from bot.core import Core
from bot.errors import BotError
from bot.grammar import media_list
from bot.model import Caller, Command, MediaSource, PostDraft, Reply
from bot.texts import CHECKING_POST, COMMANDS, FORM_FAILED, no_files

logger = logging.getLogger(__name__)


FIELD_CHECK_BUDGET = 1.0  # seconds a form submission may spend checking its time, well within Slack's 3
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
        core.attach(PLATFORM, self.messenger)
        self._socket: AsyncSocketModeHandler | None = None
        self._endpoint = HttpEndpoint(self.app, core, signing_secret=secret)
        self._verdicts: dict[str, tuple[float, asyncio.Future[bool]]] = {}  # per submission: left alone by its ack?
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
        self.app.view_submission(blocks.FORM_CALLBACK)(ack=self._ack_submission, lazy=[self._submission])
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
        who = (body["team_id"], body["user_id"], body["channel_id"], body.get("user_name", ""), _organization(body))
        async with self.responder.or_apologise(response_url):
            if name == "post" and not text:
                metadata = {"channel": body["channel_id"], "response_url": response_url}
                await self._open_form(client, body["trigger_id"], who, metadata, response_url)
                return
            caller = await self._caller(*who)
            reply = await self.core.handle(Command(name=name, text=text, caller=caller))
            await self.responder.respond(response_url, blocks.reply_message(reply))

    async def _shortcut(self, body: dict[str, Any], client: AsyncWebClient) -> None:
        message = body.get("message") or {}
        files = [f for f in message.get("files") or () if isinstance(f, dict) and f.get("id")]
        team = (body.get("team") or {}).get("id") or (body.get("user") or {}).get("team_id", "")
        channel = (body.get("channel") or {}).get("id", "")
        response_url = str(body.get("response_url") or "")
        who = (team, body["user"]["id"], channel, body["user"].get("username", ""), _organization(body))
        async with self.responder.or_apologise(response_url):
            if not files:
                await self.responder.respond(response_url, blocks.reply_message(Reply(text=NO_FILES, error=True)))
                return
            metadata = {"channel": channel, "response_url": response_url, "files": [f["id"] for f in files]}
            await self._open_form(client, body["trigger_id"], who, metadata, response_url, message_files=len(files))

    async def _open_form(
        self,
        client: AsyncWebClient,
        trigger_id: str,
        who: tuple[str, str, str, str, str | None],
        metadata: dict[str, Any],
        response_url: str,
        *,
        message_files: int = 0,
    ) -> None:
        """The form opens first, from the trigger_id that expires in 3 seconds; then it is filled in."""
        metadata["confirm"] = self.settings.confirm_posts
        try:
            opened = await client.views_open(trigger_id=trigger_id, view=blocks.loading_view(metadata))
        except SlackApiError as exc:
            logger.warning("views.open failed: %s", error_code(exc))
            await self.responder.respond(response_url, blocks.reply_message(Reply(text=FORM_FAILED, error=True)))
            return
        view = opened["view"]
        try:
            form = await self.core.post_form(await self._caller(*who))
            content = blocks.post_modal(form, metadata, message_files=message_files)
        except BotError as exc:
            content = blocks.error_view(exc.user_message)
        try:
            await client.views_update(view_id=view["id"], hash=view.get("hash"), view=content)
        except SlackApiError as exc:  # the form stays on "Loading…": say so where the command was typed
            logger.warning("views.update failed: %s", error_code(exc))
            await self.responder.respond(response_url, blocks.reply_message(Reply(text=FORM_FAILED, error=True)))

    async def _ack_submission(self, ack: Callable[..., Awaitable[None]], body: dict[str, Any]) -> None:
        """A time that cannot be read is shown beside its field, so the form stays open with what was typed. A form
        already sent is closed without being sent again: after a slow answer Slack keeps it open and says it had
        trouble, and the person presses Submit a second time (perhaps to a restarted bot)."""
        problem = await self._time_problem(body)
        already_sent = problem is None and not await self._first_submission(body)
        verdict = self._verdict(body)
        if not verdict.done():
            verdict.set_result(already_sent or problem is not None)  # True: the lazy listener leaves it alone
        if problem is None:
            await ack()
        else:
            await ack(response_action="errors", errors={"when": blocks.field_error(problem)})

    async def _first_submission(self, body: dict[str, Any]) -> bool:
        """Whether this form is sent on for the first time; remembered by the core from now on. Never raises: a
        form that cannot be checked is sent (a missed double is better than a lost post)."""
        try:
            return await self.core.first_submission(f"{PLATFORM}:{body['view'].get('id')}")
        except Exception:
            logger.warning("could not check whether a form was sent already", exc_info=True)
            return True

    async def _time_problem(self, body: dict[str, Any]) -> str | None:
        """What is wrong with the form's time, if that can be told in time; never raises."""
        phrase = str(_value(body["view"].get("state", {}).get("values", {}), "when").get("value") or "")
        if not phrase.strip():
            return None
        try:
            async with asyncio.timeout(FIELD_CHECK_BUDGET):
                return await self.core.time_problem(await self._form_caller(body), phrase)
        except (BotError, TimeoutError):
            return None  # the submission goes ahead, and its answer says what is wrong
        except Exception:
            logger.warning("could not check a form's time before acknowledging it", exc_info=True)
            return None

    def _verdict(self, body: dict[str, Any]) -> asyncio.Future[bool]:
        """Whether the ack kept this submission's form open (or closed it as already sent). slack-bolt runs the
        lazy listener alongside the ack, so the listener waits for this before doing anything."""
        now = time.monotonic()
        for key, (made, _) in list(self._verdicts.items()):
            if now - made > 60:  # never waited for: its listener gave up first
                del self._verdicts[key]
        _, verdict = self._verdicts.setdefault(_submission_key(body), (now, asyncio.get_running_loop().create_future()))
        return verdict

    async def _submission(self, body: dict[str, Any], client: AsyncWebClient) -> None:
        view = body["view"]
        try:
            async with asyncio.timeout(FIELD_CHECK_BUDGET * 3):
                left_alone = await asyncio.shield(self._verdict(body))
        except TimeoutError:
            left_alone = False  # the ack never decided: answer as if the form had closed
        finally:
            self._verdicts.pop(_submission_key(body), None)
        if left_alone:
            return
        metadata = _metadata(view)
        async with self.responder.or_apologise(metadata.get("response_url") or ""):
            caller = await self._form_caller(body)
            values = view.get("state", {}).get("values", {})
            uploads = _value(values, "files").get("files") or []
            files = [f for f in uploads if isinstance(f, dict) and f.get("id")]
            files += [{"id": file_id} for file_id in metadata.get("files", [])]  # a message's, by ID only
            try:
                attachments = tuple([await to_attachment(client, file, source=self._file_source()) for file in files])
            except BotError as exc:
                reply = Reply(text=exc.user_message, error=True)
            else:
                command = Command(name="post", caller=caller, draft=form_draft(values), attachments=attachments)
                reply = await self.core.handle(command)
            await self.responder.answer(client, caller, metadata.get("response_url"), reply)

    async def _button(self, body: dict[str, Any]) -> None:
        action = body["actions"][0]
        name = _BUTTON_COMMANDS[action["action_id"]]
        user = body["user"]
        team = user.get("team_id") or (body.get("team") or {}).get("id", "")
        channel = (body.get("channel") or {}).get("id", "")
        async with self.responder.or_apologise(str(body.get("response_url") or "")):
            caller = await self._caller(team, user["id"], channel, user.get("username", ""), _organization(body))
            reply = await self.core.handle(Command(name=name, text=str(action.get("value", "")), caller=caller))
            message = blocks.reply_message(reply)
            await self.responder.respond(str(body.get("response_url") or ""), {"replace_original": True, **message})

    # Translation helpers

    def _file_source(self) -> MediaSource:
        return file_source(api_url=self.settings.slack_api_url, bot_token=self._token)

    async def _form_caller(self, body: dict[str, Any]) -> Caller:
        """Who submitted a form, in the channel it was opened from."""
        user = body["user"]
        channel = _metadata(body["view"]).get("channel", "")
        return await self._caller(
            user.get("team_id", ""), user["id"], channel, user.get("name", ""), _organization(body)
        )

    async def _caller(
        self, team_id: str, user_id: str, channel_id: str, name: str, organization_id: str | None = None
    ) -> Caller:
        return await self.people.caller(
            team_id=team_id,
            user_id=user_id,
            channel_id=channel_id,
            fallback_name=name,
            organization_id=organization_id,
        )


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


def _organization(body: dict[str, Any]) -> str | None:
    """The Enterprise Grid org a request comes from, where each kind of payload says it."""
    enterprise = body.get("enterprise")
    if isinstance(enterprise, dict) and enterprise.get("id"):
        return str(enterprise["id"])
    team = body.get("team")
    found = body.get("enterprise_id") or (team.get("enterprise_id") if isinstance(team, dict) else None)
    return str(found) if found else None


def _submission_key(body: dict[str, Any]) -> str:
    """One form submission: each has its own trigger_id."""
    return str(body.get("trigger_id") or body["view"].get("id"))


def _metadata(view: dict[str, Any]) -> dict[str, Any]:
    """What the bot put in a form's private_metadata when it opened it."""
    metadata: dict[str, Any] = json.loads(view.get("private_metadata") or "{}")
    return metadata


def _value(values: dict[str, Any], block_id: str) -> dict[str, Any]:
    element: dict[str, Any] = (values.get(block_id) or {}).get(block_id) or {}
    return element


def form_draft(values: dict[str, Any]) -> PostDraft:
    """The /post modal's state, as the neutral draft the core checks."""
    accounts = tuple(o["value"] for o in _value(values, "accounts").get("selected_options") or ())
    slides = (_value(values, "slides").get("selected_option") or {}).get("value")
    links = str(_value(values, "links").get("value") or "")
    return PostDraft(
        media=media_list(links),
        accounts=accounts,
        when=(str(_value(values, "when").get("value") or "").strip() or None),
        sound_url=_value(values, "sound").get("value") or None,
        slides=int(slides) if slides else None,
        caption=_value(values, "caption").get("value") or None,
    )
