"""Slack files as the core's Attachments: where they may be fetched from, with the bot token, and why one cannot
be read."""

from __future__ import annotations

from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.refusals import answer, error_code
from bot.errors import BotError
from bot.media.download import file_hosts
from bot.model import Attachment, MediaSource
from bot.texts import file_needs_permission, file_out_of_reach, file_unreadable

SLACK_FILE_HOSTS = ("slack.com", ".slack.com", "slack-files.com", ".slack-edge.com")


def file_source(*, api_url: str, bot_token: str) -> MediaSource:
    """Slack files are fetched with the bot token, from Slack's own file hosts only."""
    hosts = file_hosts(SLACK_FILE_HOSTS, api_url=api_url, api_host="slack.com")
    return MediaSource(allowed_hosts=hosts, bearer_token=bot_token, token_hosts=hosts)


async def to_attachment(client: AsyncWebClient, file: dict[str, Any], *, source: MediaSource) -> Attachment:
    """A Slack file as an Attachment: as the submission describes it, or, when that has no link to it (a file
    of a message, a Slack Connect stub), as `files.info` does."""
    if not (file.get("url_private_download") or file.get("url_private")):
        try:
            file = (await client.files_info(file=str(file["id"])))["file"]
        except SlackApiError as exc:
            raise _FileUnavailable(str(file.get("name") or file["id"]), exc) from exc
    return Attachment(
        filename=str(file.get("name") or file["id"]),
        url=str(file.get("url_private_download") or file.get("url_private") or ""),
        content_type=file.get("mimetype"),
        size=file.get("size"),
        source=source,
    )


def described(file: dict[str, Any]) -> Attachment:
    """A Slack file as its payload describes it, with no link: enough to tell what kind of file it is."""
    return Attachment(
        filename=str(file.get("name") or file.get("id") or ""), url="", content_type=file.get("mimetype") or None
    )


class _FileUnavailable(BotError):
    def __init__(self, name: str, exc: SlackApiError) -> None:
        code = error_code(exc)
        if code == "missing_scope":
            needed = str(answer(exc).get("needed") or "files:read")
            super().__init__(file_needs_permission("Slack", name, needed))
        elif code in ("file_not_found", "not_in_channel"):  # Slack says so of files in channels the bot is not in
            super().__init__(file_out_of_reach("Slack", name, "`/invite` and my name"))
        else:
            super().__init__(file_unreadable("Slack", name, code))
