"""Two bots on one database (two replicas): a setting changed through one is seen by the other within seconds."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.model import Caller
from bot.records import ChannelSettings
from storage.sql import Storage
from storage.sql.preferences import SETTINGS_FRESH_SECONDS

ADMIN = Caller(platform="slack", workspace_id="T1", channel_id="C1", user_id="U1", display_name="Alice", is_admin=True)


async def test_a_change_made_by_another_replica_is_seen_within_seconds(tmp_path: Path) -> None:
    async with (
        await Storage.open(tmp_path / "bot.db") as first,
        await Storage.open(tmp_path / "bot.db") as second,
    ):
        # The second replica has read each setting once: it keeps them in memory.
        assert await second.preferences.user_timezone(ADMIN) is None
        assert (await second.preferences.channel_settings(ADMIN.channel)).default_accounts == ()
        assert await second.preferences.aliases("slack", "T1") == {}

        await first.preferences.set_user_timezone(ADMIN, "Europe/Paris")
        await first.preferences.save_channel_settings(
            ADMIN, ChannelSettings(default_accounts=("acc_1",), allowed_accounts=None)
        )
        await first.preferences.set_alias(ADMIN, "brand", "acc_1")
        assert await first.preferences.user_timezone(ADMIN) == "Europe/Paris"  # its own change: at once

        await asyncio.sleep(SETTINGS_FRESH_SECONDS + 0.2)
        assert await second.preferences.user_timezone(ADMIN) == "Europe/Paris"
        assert (await second.preferences.channel_settings(ADMIN.channel)).default_accounts == ("acc_1",)
        assert await second.preferences.aliases("slack", "T1") == {"brand": "acc_1"}
