"""The OAuth2 URL that adds the bot to a Discord server, with the scopes and permissions it needs."""

from __future__ import annotations

import base64
import binascii

import discord

SCOPES = ("bot", "applications.commands")
PERMISSIONS = discord.Permissions(
    view_channel=True,  # see the channels it announces in
    send_messages=True,  # announcements
    send_messages_in_threads=True,  # announcements when /post is used in a thread
    embed_links=True,  # announcements are embeds
    read_message_history=True,  # status notices reply to their announcement
)


def application_id(token: str) -> int:
    """The application ID a bot token starts with (its first segment is the ID in base64)."""
    first = token.strip().split(".", 1)[0]
    try:
        decoded = base64.b64decode(first + "=" * (-len(first) % 4), validate=True).decode("ascii")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise ValueError("DISCORD_TOKEN does not start with an application ID") from exc
    if not decoded.isdigit():
        raise ValueError("DISCORD_TOKEN does not start with an application ID")
    return int(decoded)


def invite_url(client_id: int) -> str:
    return discord.utils.oauth_url(client_id, permissions=PERMISSIONS, scopes=SCOPES)
