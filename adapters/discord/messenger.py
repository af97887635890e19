"""Delivers channel notices to Discord for the outbox, mapping Discord's refusals to DeliveryError."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import aiohttp
import discord

from adapters.discord.approvals import approval_view
from adapters.discord.embeds import notice_message
from bot.errors import DeliveryError
from bot.model import ChannelRef, MessageRef
from bot.notices import Notice, announcement_refused

logger = logging.getLogger(__name__)

HISTORY_LIMIT = 100

# Discord's JSON error codes no retry can fix, with what the people who run the bot should do about them.
_PERMANENT = {
    10003: "the channel does not exist, or the bot cannot see it",
    10008: "the message to update is gone",
    10013: "the user is unknown to Discord",
    50001: "the bot cannot see that channel: give it View Channel there",
    50013: "the bot lacks a permission there: give it Send Messages, Embed Links and Read Message History",
    50007: "the user does not accept direct messages from the bot",
    50083: "the thread is archived",
    50035: "Discord refused the message layout",
}


def delivery_error(exc: discord.DiscordException) -> DeliveryError:
    """One place that turns discord.py's failures into retryable or final delivery errors."""
    if isinstance(exc, discord.RateLimited):
        return DeliveryError("Discord is rate limiting the bot", retryable=True, retry_after=exc.retry_after)
    if not isinstance(exc, discord.HTTPException):
        return DeliveryError(f"Discord failed ({type(exc).__name__})", retryable=True)
    if exc.status == 429:
        return DeliveryError("Discord is rate limiting the bot", retryable=True, retry_after=_retry_after(exc))
    if exc.code in _PERMANENT:
        return DeliveryError(
            f"Discord refused it ({exc.status}, code {exc.code}): {_PERMANENT[exc.code]}", retryable=False
        )
    if exc.status == 401:
        return DeliveryError("Discord refused the bot token: check DISCORD_TOKEN", retryable=False)
    if exc.status >= 500:
        return DeliveryError(f"Discord failed ({exc.status})", retryable=True)
    reason = {403: "the bot may not post there", 404: "the channel or message is gone"}.get(exc.status, "")
    return DeliveryError(f"Discord refused it ({exc.status}{', ' + reason if reason else ''})", retryable=False)


def _retry_after(exc: discord.HTTPException) -> float | None:
    value = exc.response.headers.get("Retry-After")
    try:
        return float(value) if value else None
    except ValueError:
        return None


class DiscordMessenger:
    """Announcements are bot messages in the channel; later notices reply to them (Discord's thread placement)."""

    min_interval = 1.0  # Discord allows about five messages per five seconds in a channel

    def __init__(self, client: discord.Client) -> None:
        self._client = client

    async def send(
        self, channel: ChannelRef, notices: Sequence[Notice], *, thread: MessageRef | None, ids: Sequence[int]
    ) -> MessageRef:
        """Post the notices, marked with their outbox IDs for `find`. The nonce covers the same ground for the
        first minutes: sent again right after a crash, Discord returns the message it already has."""
        message = notice_message(notices, ids)
        view = approval_view(notices)  # Approve, Request changes and Reject, under an announcement waiting for them
        target = self._client.get_partial_messageable(int(channel.channel_id))
        nonce = f"notice-{min(ids)}"
        try:
            if thread is None:
                sent = await target.send(
                    content=message.content,
                    embeds=message.embeds,
                    allowed_mentions=message.mentions,
                    nonce=nonce,
                    view=view or discord.utils.MISSING,
                )
            else:
                # A reply to the announcement; it still goes out if the announcement was deleted.
                reference = discord.MessageReference(
                    message_id=int(thread.message_id), channel_id=int(thread.channel_id), fail_if_not_exists=False
                )
                sent = await target.send(
                    content=message.content,
                    embeds=message.embeds,
                    allowed_mentions=message.mentions,
                    reference=reference,
                    nonce=nonce,
                    view=view or discord.utils.MISSING,
                )
        except discord.DiscordException as exc:
            raise delivery_error(exc) from exc
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise DeliveryError("Discord could not be reached", retryable=True) from exc
        return MessageRef(channel_id=str(sent.channel.id), message_id=str(sent.id))

    async def find(self, channel: ChannelRef, notice_id: int, *, thread: MessageRef | None) -> MessageRef | None:
        """The channel's latest messages, looked through for the footer that names the notice (replies to the
        announcement are channel messages too). Needs Read Message History, which the invite asks for."""
        wanted = f"n{notice_id}"
        target = self._client.get_partial_messageable(int(channel.channel_id))
        try:
            async for message in target.history(limit=HISTORY_LIMIT):
                if self._client.user is None or message.author.id != self._client.user.id:
                    continue
                footers = (embed.footer.text or "" for embed in message.embeds)
                if any(text.startswith("ref ") and wanted in text.split() for text in footers):
                    return MessageRef(channel_id=channel.channel_id, message_id=str(message.id))
        except (discord.DiscordException, aiohttp.ClientError, OSError, TimeoutError) as exc:
            logger.warning("cannot check whether notice %s was delivered: %s", notice_id, type(exc).__name__)
        return None

    async def edit(self, ref: MessageRef, notice: Notice, *, channel: ChannelRef) -> None:
        """Rewrite an announcement. Its approval buttons stay only while it still waits for a decision: without
        them (`view=None`), the edit takes them off."""
        message = notice_message([notice])
        target = self._client.get_partial_messageable(int(ref.channel_id)).get_partial_message(int(ref.message_id))
        try:
            await target.edit(
                content=message.content,
                embeds=message.embeds,
                allowed_mentions=message.mentions,
                view=approval_view([notice]),
            )
        except discord.DiscordException as exc:
            raise delivery_error(exc) from exc
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise DeliveryError("Discord could not be reached", retryable=True) from exc

    async def warn_author(self, channel: ChannelRef, notice: Notice, problem: str) -> None:
        """A direct message: the channel itself is what refused the bot."""
        text = announcement_refused(notice, channel, problem)
        try:
            direct = await self._client.create_dm(discord.Object(id=int(notice.author_id)))
            await direct.send(text, allowed_mentions=discord.AllowedMentions.none())
        except discord.DiscordException as exc:
            raise delivery_error(exc) from exc
