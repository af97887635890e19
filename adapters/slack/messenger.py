"""Delivers channel notices to Slack for the outbox, mapping Slack's refusals to DeliveryError."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.blocks import notice_message
from adapters.slack.refusals import error_code, retry_after
from bot.errors import DeliveryError
from bot.model import ChannelRef, MessageRef
from bot.notices import Notice, announcement_refused

logger = logging.getLogger(__name__)

METADATA_EVENT = "infinipost_notice"

# Errors no retry can fix, with what the people who run the bot should do about them.
_PERMANENT = {
    "channel_not_found": "the channel does not exist, or the bot cannot see it",
    "not_in_channel": "the bot is not in that channel: invite it with /invite",
    "is_archived": "the channel is archived",
    "channel_is_archived": "the channel is archived",
    "restricted_action": "the workspace does not let the bot post there",
    "invalid_auth": "the bot token is not valid: check SLACK_BOT_TOKEN",
    "not_authed": "the bot token is not valid: check SLACK_BOT_TOKEN",
    "token_revoked": "the bot token was revoked: reinstall the app",
    "account_inactive": "the bot token was revoked: reinstall the app",
    "message_not_found": "the message to update is gone",
    "cant_update_message": "the message to update is gone",
    "invalid_blocks": "Slack refused the message layout",
    "msg_too_long": "the message was too long",
}


# Errors Slack documents as passing: the same call may well work later.
_TRANSIENT = {"internal_error", "fatal_error", "service_unavailable", "request_timeout", "team_added_to_org"}
UNKNOWN_ERROR_TRIES = 3  # an error not known to pass is given this many tries, then taken as permanent


def delivery_error(exc: SlackApiError) -> DeliveryError:
    code = error_code(exc)
    if code == "ratelimited":
        return DeliveryError("Slack is rate limiting the bot", retryable=True, retry_after=retry_after(exc) or 1.0)
    if code in _PERMANENT:
        return DeliveryError(f"Slack refused it ({code}): {_PERMANENT[code]}", retryable=False)
    if code in _TRANSIENT or code.startswith("http_5"):
        return DeliveryError(f"Slack could not take it for now ({code})", retryable=True)
    return DeliveryError(
        f"Slack refused it ({code}), an error not known to pass", retryable=True, tries=UNKNOWN_ERROR_TRIES
    )


class SlackMessenger:
    min_interval = 1.0  # Slack allows about one message a second per channel

    def __init__(self, client: AsyncWebClient, *, tokens: Callable[[str], Awaitable[str | None]] | None = None) -> None:
        """`tokens`: with OAuth, an installed workspace's bot token, by workspace ID; the client has none."""
        self._client = client
        self._tokens = tokens

    async def _client_for(self, channel: ChannelRef) -> AsyncWebClient:
        if self._tokens is None:
            return self._client
        token = await self._tokens(channel.workspace_id)
        if token is None:
            raise DeliveryError("the app is not installed in that workspace any more", retryable=False)
        client = self._client
        return AsyncWebClient(token=token, base_url=client.base_url, retry_handlers=[], timeout=client.timeout)

    async def send(
        self, channel: ChannelRef, notices: Sequence[Notice], *, thread: MessageRef | None, ids: Sequence[int]
    ) -> MessageRef:
        try:
            response = await (await self._client_for(channel)).chat_postMessage(
                channel=channel.channel_id,
                thread_ts=thread.message_id if thread else None,
                unfurl_links=False,
                unfurl_media=False,
                # Slack takes strings, numbers, booleans, objects and arrays of objects in a payload: the IDs are
                # one string.
                metadata={"event_type": METADATA_EVENT, "event_payload": {"notices": " ".join(map(str, ids))}},
                **notice_message(notices),
            )
        except SlackApiError as exc:
            raise delivery_error(exc) from exc
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise DeliveryError("Slack could not be reached", retryable=True) from exc
        return MessageRef(channel_id=str(response["channel"]), message_id=str(response["ts"]))

    async def find(self, channel: ChannelRef, notice_id: int, *, thread: MessageRef | None) -> MessageRef | None:
        """Look through the thread (if any) and the channel's latest messages for one marked with the notice's
        ID: a notice meant for a thread may have gone out as a channel message listing several."""
        try:
            client = await self._client_for(channel)
            if thread is not None:
                replies = await client.conversations_replies(
                    channel=channel.channel_id, ts=thread.message_id, include_all_metadata=True, limit=200
                )
                found = _marked(replies.get("messages") or (), channel, notice_id)
                if found:
                    return found
            history = await client.conversations_history(
                channel=channel.channel_id, include_all_metadata=True, limit=200
            )
        except SlackApiError as exc:
            # Without channels:history (or groups:history) the bot cannot check, and sends it again.
            logger.warning("cannot check whether notice %s was delivered: %s", notice_id, error_code(exc))
            return None
        return _marked(history.get("messages") or (), channel, notice_id)

    async def edit(self, ref: MessageRef, notice: Notice, *, channel: ChannelRef) -> None:
        try:
            client = await self._client_for(channel)
            await client.chat_update(channel=ref.channel_id, ts=ref.message_id, **notice_message([notice]))
        except SlackApiError as exc:
            raise delivery_error(exc) from exc
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise DeliveryError("Slack could not be reached", retryable=True) from exc

    async def warn_author(self, channel: ChannelRef, notice: Notice, problem: str) -> None:
        """A direct message: the channel itself is what refused the bot."""
        text = announcement_refused(notice, channel, problem)
        try:
            await (await self._client_for(channel)).chat_postMessage(channel=notice.author_id, text=text)
        except SlackApiError as exc:
            raise delivery_error(exc) from exc


def _marked(messages: Iterable[dict[str, Any]], channel: ChannelRef, notice_id: int) -> MessageRef | None:
    for message in messages:
        payload = (message.get("metadata") or {}).get("event_payload") or {}
        marks = payload.get("notices") or ""
        # A list of numbers, as earlier versions of the bot wrote them, if one was delivering when it stopped.
        ids = marks.split() if isinstance(marks, str) else [str(mark) for mark in marks]
        if str(notice_id) in ids:
            return MessageRef(channel_id=channel.channel_id, message_id=str(message["ts"]))
    return None
