"""A fake Discord on 127.0.0.1, for the adapter tests: see tests.fakes.discord.fake."""

from __future__ import annotations

from tests.fakes.discord.fake import (
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
    FakeDiscord,
    Interaction,
    Request,
    build_app,
    running_fake_discord,
)

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
