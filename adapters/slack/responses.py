"""Answers after the ack: to a payload's `response_url`, else ephemerally, else by direct message; a file an answer
carries goes to the person's direct messages with the bot (uploads.py)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from adapters.slack import blocks
from adapters.slack.refusals import error_code
from adapters.slack.uploads import share_file
from bot.core import Core
from bot.model import Caller, Reply
from bot.texts import FILE_IN_CHANNEL, FILE_IN_DIRECT_MESSAGES, file_not_sent

logger = logging.getLogger(__name__)


class Responder:
    """Posts the bot's answers where Slack lets it answer the person who asked, through one connection pool."""

    def __init__(self, core: Core) -> None:
        self.core = core
        self._session: aiohttp.ClientSession | None = None  # one connection pool for every response_url
        self._pending: set[asyncio.Task[bool]] = set()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession()
        return self._session

    async def respond(self, response_url: str, message: dict[str, Any]) -> bool:
        """Post to a response_url (30 minutes, 5 uses); True if Slack took it."""
        if not response_url:
            return False
        answer = await AsyncWebhookClient(response_url, session=self.session).send_dict(message)
        if answer.status_code != 200:
            logger.info("response_url refused the answer (%s)", answer.status_code)
        return answer.status_code == 200

    def respond_soon(self, response_url: str, message: dict[str, Any]) -> None:
        """Post to a response_url in the background, the task kept until it is done so that it is not collected."""
        task = asyncio.create_task(self.respond(response_url, message))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def answer(self, client: AsyncWebClient, caller: Caller, response_url: str | None, reply: Reply) -> None:
        """Answer a form submission privately: through the original response_url, else ephemerally, else by DM."""
        if response_url and await self.respond(response_url, blocks.reply_message(reply)):
            return
        await self.tell(client, channel_id=caller.channel_id, user_id=caller.user_id, reply=reply)

    async def share_file(self, client: AsyncWebClient, caller: Caller, reply: Reply) -> Reply:
        """Share the file a reply carries with the caller (their direct messages with the bot, else the channel);
        the reply without it, saying where it went."""
        if reply.file is None:
            return reply
        shared = await share_file(
            client,
            self.session,
            file=reply.file,
            user_id=caller.user_id,
            channel_id=caller.channel_id,
            introduction=f"From <#{caller.channel_id}>: {reply.text}",
        )
        if shared.where == "dm":
            said = FILE_IN_DIRECT_MESSAGES
        elif shared.where == "channel":
            said = FILE_IN_CHANNEL
        else:
            said = file_not_sent("Slack", shared.error, scope=shared.scope)
        return replace(reply, text=f"{reply.text}\n{said}", file=None, error=reply.error or shared.where is None)

    async def tell(self, client: AsyncWebClient, *, channel_id: str, user_id: str, reply: Reply) -> None:
        """Say a reply to one person only: ephemerally in the channel, else (the bot cannot post there) by DM."""
        message = blocks.reply_message(reply)
        message.pop("response_type", None)
        try:
            await client.chat_postEphemeral(channel=channel_id, user=user_id, **message)
        except SlackApiError as exc:
            logger.info("ephemeral answer refused (%s); sending a direct message", error_code(exc))
            await client.chat_postMessage(channel=user_id, **message)

    async def open_form(
        self,
        client: AsyncWebClient,
        *,
        trigger_id: str,
        loading: dict[str, Any],
        content: Callable[[], Awaitable[dict[str, Any]]],
        response_url: str,
        failed: str,
        to: Callable[[Reply], Awaitable[object]] | None = None,
    ) -> None:
        """A modal opened at once as `loading`, from the trigger_id that expires in 3 seconds, then rewritten as
        what `content` makes. If Slack refuses either, `failed` is said where the command was typed (or as `to`
        says), since the form never opened, or stays on "Loading…"."""

        async def fail() -> None:
            reply = Reply(text=failed, error=True)
            await (to(reply) if to is not None else self.respond(response_url, blocks.reply_message(reply)))

        try:
            opened = await client.views_open(trigger_id=trigger_id, view=loading)
        except SlackApiError as exc:
            logger.warning("views.open failed: %s", error_code(exc))
            await fail()
            return
        view = opened["view"]
        filled = await content()
        try:
            await client.views_update(view_id=view["id"], hash=view.get("hash"), view=filled)
        except SlackApiError as exc:
            logger.warning("views.update failed: %s", error_code(exc))
            await fail()

    @asynccontextmanager
    async def or_apologise(
        self, response_url: str, *, to: Callable[[Reply], Awaitable[object]] | None = None
    ) -> AsyncIterator[None]:
        """Whatever fails after the ack, the person who asked hears back rather than waiting forever: through the
        response_url, or as `to` says (for a button on a channel message, whose answer must not replace it)."""
        try:
            yield
        except Exception as exc:
            reply = self.core.failure_reply(exc, during="a Slack listener")
            with contextlib.suppress(Exception):
                if to is not None:
                    await to(reply)
                else:
                    await self.respond(response_url, blocks.reply_message(reply))
