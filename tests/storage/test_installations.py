"""The Installations port over SQLite: one install per place, replaced by a new one, forgotten on delete."""

from __future__ import annotations

from pathlib import Path

from bot.records import Installation
from storage.sql import Storage


async def test_one_install_per_place_replaced_then_forgotten(tmp_path: Path) -> None:
    async with await Storage.open(tmp_path / "bot.db") as storage:
        installs = storage.installations
        await installs.save(Installation(platform="slack", workspace_id="T1", record="sealed-1"))
        await installs.save(Installation(platform="slack", workspace_id="T1", record="sealed-2"))
        await installs.save(Installation(platform="slack", organization_id="E1", record="sealed-org"))
        found = await installs.find("slack", workspace_id="T1", organization_id="")
        assert found == Installation(platform="slack", workspace_id="T1", record="sealed-2")
        assert await installs.find("slack", workspace_id="T1", organization_id="E1") is None
        assert {i.record for i in await installs.all("slack")} == {"sealed-2", "sealed-org"}
        assert await installs.all("discord") == []
        assert await installs.delete("slack", workspace_id="T1", organization_id="") is True
        assert await installs.delete("slack", workspace_id="T1", organization_id="") is False
        assert [i.organization_id for i in await installs.all("slack")] == ["E1"]
