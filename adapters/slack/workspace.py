"""The operator's workspace: learnt from the bot token at start-up, where both tokens are checked, and the only one
whose requests reach a listener."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from pydantic import SecretStr
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import blocks
from adapters.slack.people import PLATFORM
from adapters.slack.refusals import error_code
from adapters.slack.responses import Responder
from bot.core import Core
from bot.errors import BotError
from bot.model import Place

logger = logging.getLogger(__name__)

# What auth.test answers for a token Slack will never take.
_TOKEN_REFUSALS = frozenset({"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired"})
# What apps.connections.open answers for an app-level token that will never open a connection: also a bot or
# user token put there (not_allowed_token_type), or one without connections:write (missing_scope).
_APP_TOKEN_REFUSALS = _TOKEN_REFUSALS | {"not_allowed_token_type", "missing_scope", "no_permission", "access_denied"}


class OperatorsWorkspace:
    """Tells the core which workspace (or Enterprise Grid org) is the operator's, and keeps out every other."""

    def __init__(self, core: Core, client: AsyncWebClient, *, responder: Responder, installed: bool = False) -> None:
        """`installed`: with OAuth, the places served are those that installed the app (Core.install), not the
        bot token's."""
        self.core = core
        self.client = client
        self.responder = responder
        self.installed = installed
        self._named = installed

    async def only_the_operators(
        self, body: dict[str, Any], context: AsyncBoltContext, next: Callable[[], Awaitable[None]]
    ) -> BoltResponse | None:
        """bolt middleware. A signed request from another workspace or Enterprise Grid org gets the core's refusal
        and nothing more: no listener runs, no user is looked up. Events from elsewhere are acknowledged and
        ignored."""
        refused = await self.refusal(body, context)
        if refused is None:
            await next()
        return refused

    async def refusal(self, body: dict[str, Any], context: AsyncBoltContext) -> BoltResponse | None:
        """The answer to a request from a place the bot does not serve; None where it serves."""
        await self._name()
        place = Place(platform=PLATFORM, workspace_id=context.team_id or "", organization_id=context.enterprise_id)
        if self.installed:  # installed through another replica, perhaps, since this one started
            await self.core.serve_if_installed(place)
        refused = self.core.refusal(place)
        if refused is None:
            return None
        message = blocks.reply_message(refused)
        if body.get("command"):  # shown at once, as the command's own answer
            return BoltResponse(status=200, body=json.dumps(message), headers={"content-type": "application/json"})
        response_url = str(body.get("response_url") or "")
        if response_url:
            self.responder.respond_soon(response_url, message)
        return BoltResponse(status=200, body="")

    async def check_tokens(self, app_token: SecretStr | None) -> None:
        """At start-up: stop with one sentence if Slack refuses SLACK_BOT_TOKEN (and learn the operator's
        workspace while at it), or, in Socket Mode, SLACK_APP_TOKEN. A Slack that does not answer is only warned
        about. With OAuth: serve every workspace that installed the app."""
        if self.installed:
            count = await self.core.serve_installed(PLATFORM)
            logger.info("Slack: %s workspace(s) installed the app", count)
            return
        try:
            await self._name(raise_refusal=True)
        except SlackApiError as exc:
            raise BotError(
                f"Slack refused SLACK_BOT_TOKEN ({error_code(exc)}); copy the Bot User OAuth Token "
                "(xoxb-...) from your Slack app's OAuth & Permissions page."
            ) from exc
        if app_token is not None:
            await self._check_app_token(app_token.get_secret_value())

    async def _check_app_token(self, token: str) -> None:
        """Asks for a Socket Mode connection once: slack_sdk would retry a refused app token for ever. The address
        Slack gives is left unused; the connection asks for its own."""
        try:
            await self.client.apps_connections_open(app_token=token)
        except SlackApiError as exc:
            if error_code(exc) in _APP_TOKEN_REFUSALS:
                raise BotError(
                    f"Slack refused SLACK_APP_TOKEN ({error_code(exc)}); copy an app-level token (xapp-...) with "
                    "the connections:write scope from your Slack app's Basic Information page (App-Level Tokens)."
                ) from exc
            logger.warning("apps.connections.open failed (%s); Socket Mode keeps trying to connect", error_code(exc))
        except (aiohttp.ClientError, TimeoutError) as exc:
            logger.warning(
                "Cannot reach Slack to check SLACK_APP_TOKEN (%s); Socket Mode keeps trying to connect",
                type(exc).__name__,
            )

    async def _name(self, *, raise_refusal: bool = False) -> None:
        """The bot token's workspace (its whole org, for an org-wide install) is the operator's, from auth.test."""
        if self._named:
            return
        try:
            identity = await self.client.auth_test()
        except SlackApiError as exc:
            if raise_refusal and error_code(exc) in _TOKEN_REFUSALS:
                raise
            logger.warning("auth.test failed (%s); requests are refused until it answers", error_code(exc))
            return
        except (aiohttp.ClientError, TimeoutError) as exc:
            logger.warning(
                "Cannot reach Slack to check SLACK_BOT_TOKEN (%s); its requests are refused until it answers",
                type(exc).__name__,
            )
            return
        if identity.get("is_enterprise_install"):
            self.core.serve(PLATFORM, organizations=[str(identity.get("enterprise_id") or "")])
        else:
            self.core.serve(PLATFORM, workspaces=[str(identity.get("team_id") or "")])
        self._named = True
