"""The /post modal: opened from a command or the message shortcut, and its submission acknowledged within Slack's
3 seconds (with the time's field error, if any) before a lazy listener posts it.

slack-bolt runs the lazy listener alongside the ack, not after it: the ack leaves a verdict for its submission,
and the listener waits for it before doing anything.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import blocks
from adapters.slack.callers import Who, find_caller, organization
from adapters.slack.files import file_source, to_attachment
from adapters.slack.people import PLATFORM, SlackPeople
from adapters.slack.responses import Responder
from adapters.slack.settings import SlackSettings
from adapters.slack.verdicts import Verdicts
from bot.core import Core
from bot.errors import BotError
from bot.grammar import media_list
from bot.importing import wants_import
from bot.model import Caller, Command, MediaSource, PostDraft, Reply
from bot.texts import FORM_FAILED

logger = logging.getLogger(__name__)

FIELD_CHECK_BUDGET = 1.0  # seconds a form submission may spend checking its time, well within Slack's 3


class PostModal:
    """Opens the /post form and sees each submission through its ack and its lazy part."""

    def __init__(
        self, core: Core, settings: SlackSettings, *, people: SlackPeople, responder: Responder, bot_token: str
    ) -> None:
        self.core = core
        self.settings = settings
        self.people = people
        self.responder = responder
        self._bot_token = bot_token
        self._verdicts = Verdicts()  # per submission: left alone by its ack?

    async def open(
        self,
        client: AsyncWebClient,
        *,
        trigger_id: str,
        who: Who,
        metadata: dict[str, Any],
        response_url: str,
        message_files: int = 0,
    ) -> None:
        """The form opens first, from the trigger_id that expires in 3 seconds; then it is filled in."""
        metadata["confirm"] = self.settings.confirm_posts

        async def content() -> dict[str, Any]:
            try:
                form = await self.core.post_form(await find_caller(self.people, who, client))
            except BotError as exc:
                return blocks.error_view(exc.user_message)
            return blocks.post_modal(form, metadata, message_files=message_files)

        await self.responder.open_form(
            client,
            trigger_id=trigger_id,
            loading=blocks.loading_view(metadata),
            content=content,
            response_url=response_url,
            failed=FORM_FAILED,
        )

    async def acknowledge(
        self, ack: Callable[..., Awaitable[None]], body: dict[str, Any], client: AsyncWebClient
    ) -> None:
        """The submission's ack. A time that cannot be read is shown beside its field, so the form stays open with
        what was typed. A form already sent is closed without being sent again: after a slow answer Slack keeps it
        open and says it had trouble, and the person presses Submit a second time (perhaps to a restarted bot)."""
        problem = await self._time_problem(body, client)
        view_id = body["view"].get("id")  # Slack always sends one; without it there is nothing to remember
        already_sent = bool(
            problem is None and view_id and not await self.core.first_submission(f"{PLATFORM}:{view_id}")
        )
        self._verdicts.decide(body, left_alone=already_sent or problem is not None)
        if problem is None:
            await ack()
        else:
            await ack(response_action="errors", errors={"when": blocks.field_error(problem)})

    async def submit(self, body: dict[str, Any], client: AsyncWebClient) -> None:
        """The submission's lazy part: once its ack let the form close, the post goes to the core and the answer
        to whoever sent it."""
        view = body["view"]
        if await self._verdicts.left_alone(body, within=FIELD_CHECK_BUDGET * 3):
            return
        metadata = _metadata(view)
        async with self.responder.or_apologise(metadata.get("response_url") or ""):
            caller = await self._form_caller(body, client)
            values = view.get("state", {}).get("values", {})
            uploads = _value(values, "files").get("files") or []
            files = [f for f in uploads if isinstance(f, dict) and f.get("id")]
            files += [{"id": file_id} for file_id in metadata.get("files", [])]  # a message's, by ID only
            try:
                source = self.file_source(client)
                attachments = tuple([await to_attachment(client, file, source=source) for file in files])
            except BotError as exc:
                reply = Reply(text=exc.user_message, error=True)
            else:
                # A CSV of posts is imported, each row a post of its own; the form's other fields are not used.
                name = "import" if wants_import(attachments) else "post"
                command = Command(name=name, caller=caller, draft=form_draft(values), attachments=attachments)
                reply = await self.core.handle(command)
            await self.responder.answer(client, caller, metadata.get("response_url"), reply)

    def file_source(self, client: AsyncWebClient) -> MediaSource:
        """Where the files of a submission or a message may be fetched from, with the token of their workspace."""
        return file_source(api_url=self.settings.slack_api_url, bot_token=client.token or self._bot_token)

    async def _time_problem(self, body: dict[str, Any], client: AsyncWebClient) -> str | None:
        """What is wrong with the form's time, if that can be told in time; never raises."""
        phrase = str(_value(body["view"].get("state", {}).get("values", {}), "when").get("value") or "")
        if not phrase.strip():
            return None
        try:
            async with asyncio.timeout(FIELD_CHECK_BUDGET):
                return await self.core.time_problem(await self._form_caller(body, client), phrase)
        except (BotError, TimeoutError):
            return None  # the submission goes ahead, and its answer says what is wrong
        except Exception:
            logger.warning("could not check a form's time before acknowledging it", exc_info=True)
            return None

    async def _form_caller(self, body: dict[str, Any], client: AsyncWebClient) -> Caller:
        """Who submitted a form, in the channel it was opened from."""
        user = body["user"]
        channel = _metadata(body["view"]).get("channel", "")
        who = (user.get("team_id", ""), user["id"], channel, user.get("name", ""), organization(body))
        return await find_caller(self.people, who, client)


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
