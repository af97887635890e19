"""A file an answer carries (`/posts export`), shared with the person who asked: in their direct messages with the
bot, else (only then) in the channel the command came from.

Slack's upload has three steps: `files.getUploadURLExternal` gives a file ID and a URL, the bytes go to that URL,
and `files.completeUploadExternal` finishes the file and shares it in a conversation named by its ID (`files:write`;
`files.upload` is retired). A direct message is named by its `D…` ID there, never by the user's `U…` ID, which
Slack refuses; `chat.postMessage` to the user's ID opens that conversation with the scope the bot already has
(`chat:write`, where `conversations.open` would need `im:write`) and answers with its ID. So the file follows a
message in the direct messages that says where it comes from.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.refusals import answer, error_code
from bot.model import ReplyFile

logger = logging.getLogger(__name__)

UPLOAD_TIMEOUT = aiohttp.ClientTimeout(total=60)


@dataclass(frozen=True, kw_only=True)
class Shared:
    """Where a file went: `dm`, `channel`, or nowhere (`error` says why, `scope` names one the app lacks)."""

    where: str | None
    error: str = ""
    scope: str | None = None


class UploadFailed(Exception):
    """The file's bytes did not reach the URL Slack gave for them."""


async def share_file(
    client: AsyncWebClient,
    session: aiohttp.ClientSession,
    *,
    file: ReplyFile,
    user_id: str,
    channel_id: str,
    introduction: str,
) -> Shared:
    """Share `file` with `user_id` in their direct messages with the bot, after `introduction`; if Slack will not
    open those, in `channel_id` with `introduction` as its comment.

    Args:
        session: the connection pool the bytes go through (the upload URL is not a Web API method).
    """
    places: list[tuple[str, str, str | None]] = []  # (where, its conversation, the file's comment)
    try:
        opened = await client.chat_postMessage(channel=user_id, text=introduction)
        places.append(("dm", str(opened["channel"]), None))
    except SlackApiError as exc:
        logger.info("Slack: no direct message for a file (%s); sharing it in the channel", error_code(exc))
    places.append(("channel", channel_id, introduction))
    refused = Shared(where=None)
    for where, place, comment in places:
        try:
            ticket = await client.files_getUploadURLExternal(filename=file.name, length=len(file.content))
        except SlackApiError as exc:  # nothing to do with where it goes: another place fares no better
            logger.warning("Slack refused to start an upload: %s", error_code(exc))
            needed = answer(exc).get("needed")
            return Shared(where=None, error=error_code(exc), scope=str(needed) if needed else None)
        try:
            await _send_bytes(session, str(ticket["upload_url"]), file)
            await client.files_completeUploadExternal(
                files=[{"id": str(ticket["file_id"]), "title": file.name}],
                channel_id=place,
                initial_comment=comment,
            )
        except UploadFailed as exc:
            logger.warning("Slack: a file's bytes were not taken (%s)", exc)
            return Shared(where=None, error="upload_failed")
        except SlackApiError as exc:
            logger.info("Slack refused to share a file in the %s: %s", where, error_code(exc))
            refused = Shared(where=None, error=error_code(exc))
            continue
        return Shared(where=where)
    return refused


async def _send_bytes(session: aiohttp.ClientSession, url: str, file: ReplyFile) -> None:
    """The bytes, raw, to an upload URL: Slack answers 200 when it has them."""
    try:
        async with session.post(
            url, data=file.content, headers={"Content-Type": "application/octet-stream"}, timeout=UPLOAD_TIMEOUT
        ) as response:
            if response.status != 200:
                raise UploadFailed(f"HTTP {response.status}")
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise UploadFailed(type(exc).__name__) from exc
