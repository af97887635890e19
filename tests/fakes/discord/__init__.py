"""A fake Discord on 127.0.0.1: the REST API the bot calls, and the gateway websocket.

It answers in the shapes Discord documents (JSON with a Content-Type of exactly `application/json`, error bodies
`{"message", "code"}`, interaction callbacks with `?with_response=1` answered `{"interaction", "resource"}`),
tracks interactions the way Discord does (one initial response each; follow-ups fill a deferred "thinking"
message; `@original` is the message a button sits on), and records every request. Tests build gateway
`INTERACTION_CREATE` payloads with it and either feed them to the client's own parser or dispatch them over the
gateway.

Modules: `payloads` (the JSON shapes Discord sends, and the IDs of the people and places in them), `fake` (what
the fake holds and what tests do with it), `rest`, `interactions`, `gateway` and `cdn` (how it answers), and
`server` (serving them all).
"""

from __future__ import annotations

from tests.fakes.discord.fake import FakeDiscord, Interaction, Request
from tests.fakes.discord.payloads import (
    ADMIN,
    ALICE,
    APP_ID,
    BOB,
    BOT_TOKEN,
    CHANNEL_ID,
    EPHEMERAL,
    GUILD_ID,
    LOADING,
    MANAGE_GUILD,
    MEMBER_PERMISSIONS,
    POSTER_ROLE,
    POSTER_ROLE_ID,
    STRANGER_GUILD,
)
from tests.fakes.discord.server import build_app, running_fake_discord

__all__ = [
    "ADMIN",
    "ALICE",
    "APP_ID",
    "BOB",
    "BOT_TOKEN",
    "CHANNEL_ID",
    "EPHEMERAL",
    "GUILD_ID",
    "LOADING",
    "MANAGE_GUILD",
    "MEMBER_PERMISSIONS",
    "POSTER_ROLE",
    "POSTER_ROLE_ID",
    "STRANGER_GUILD",
    "FakeDiscord",
    "Interaction",
    "Request",
    "build_app",
    "running_fake_discord",
]
