"""Slack's OAuth install for many workspaces: slack_sdk's installation and state stores over the core's ports.

Installations are slack_sdk's own `Installation` records, kept through `Core.install` (which seals them with
BOT_ENCRYPTION_KEY and serves the workspace); bolt's `authorize` finds a workspace's bot token through
`async_find_bot`. An install link's state is signed with SLACK_STATE_SECRET, lasts STATE_SECONDS and is taken once
(`Core.first_sighting`), so that a replayed or forged redirect is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import time
from datetime import UTC, datetime
from typing import Any

from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore

from adapters.slack.people import PLATFORM
from bot.core import Core
from bot.records import Installation as Installed

logger = logging.getLogger(__name__)

STATE_SECONDS = 10 * 60  # as long as bolt keeps the state's browser cookie


def _place(enterprise_id: str | None, team_id: str | None, is_enterprise_install: bool | None) -> dict[str, str]:
    """Where an install is kept: an org-wide install under its org alone, any other under its workspace."""
    workspace = "" if is_enterprise_install else (team_id or "")
    return {"workspace_id": workspace, "organization_id": enterprise_id or ""}


class SlackInstallations(AsyncInstallationStore):
    """slack_sdk's installation store on the core's `Installations`: one install (the latest) per workspace."""

    def __init__(self, core: Core) -> None:
        self.core = core

    @property
    def logger(self) -> logging.Logger:
        return logger

    async def async_save(self, installation: Installation) -> None:
        # As slack_sdk's own stores keep it: its attributes are its constructor's arguments.
        record = json.dumps(installation.__dict__)
        place = _place(installation.enterprise_id, installation.team_id, installation.is_enterprise_install)
        await self.core.install(Installed(platform=PLATFORM, record=record, **place))
        logger.info("Slack: the app was installed in %s", place["workspace_id"] or place["organization_id"])

    async def async_save_bot(self, bot: Bot) -> None:
        """Only the whole installation is kept (async_save): a bot alone is saved with it."""

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        found = await self.core.installation(PLATFORM, **_place(enterprise_id, team_id, is_enterprise_install))
        if found is None:
            return None
        installation = Installation(**json.loads(found.record))
        if user_id is not None and installation.user_id != user_id:
            return None  # only the installer's own record is kept
        return installation

    async def async_find_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None:
        installation = await self.async_find_installation(
            enterprise_id=enterprise_id, team_id=team_id, is_enterprise_install=is_enterprise_install
        )
        return installation.to_bot() if installation and installation.bot_token else None

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        """The bot token was revoked, or the app uninstalled: the install is gone, and its place refused."""
        await self._delete(enterprise_id, team_id)

    async def async_delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        if user_id is None:  # a user's token alone (never asked for) leaves the bot's install as it is
            await self._delete(enterprise_id, team_id)

    async def _delete(self, enterprise_id: str | None, team_id: str | None) -> None:
        place = _place(enterprise_id, team_id, is_enterprise_install=not team_id)
        await self.core.uninstall(PLATFORM, **place)
        logger.info("Slack: the app was removed from %s", place["workspace_id"] or place["organization_id"])


class SlackStates(AsyncOAuthStateStore):
    """slack_sdk's state store: `nonce.expiry.signature`, signed with SLACK_STATE_SECRET, consumed once."""

    def __init__(self, core: Core, secret: str, *, clock: Any = time.time) -> None:
        self.core = core
        self._secret = secret.encode()
        self._clock = clock

    @property
    def logger(self) -> logging.Logger:
        return logger

    async def async_issue(self, *args: Any, **kwargs: Any) -> str:
        payload = f"{secrets.token_urlsafe(24)}.{int(self._clock()) + STATE_SECONDS}"
        return f"{payload}.{self._sign(payload)}"

    async def async_consume(self, state: str) -> bool:
        payload, _, signature = state.rpartition(".")
        nonce, _, expiry = payload.partition(".")
        if not (nonce and expiry.isascii() and expiry.isdigit() and signature.isascii()):
            return False
        if not hmac.compare_digest(signature, self._sign(payload)):
            logger.warning("refused a Slack install whose state was not signed here")
            return False
        now = self._clock()
        if int(expiry) < now:
            return False
        at, until = datetime.fromtimestamp(now, UTC), datetime.fromtimestamp(int(expiry), UTC)
        if not await self.core.first_sighting(f"slack-oauth:{nonce}", until=until, now=at):
            logger.warning("refused a Slack install whose state was used already")
            return False
        return True

    def _sign(self, payload: str) -> str:
        return hmac.new(self._secret, payload.encode(), hashlib.sha256).hexdigest()
