"""The Slack adapter: slack-bolt's AsyncApp, translating Slack payloads to the core's Command and back.

Every command, shortcut, button and form submission is acknowledged at once (Slack allows 3 seconds); the work
runs afterwards in a lazy listener and answers through the payload's `response_url`. Modals open from the
`trigger_id` before anything slow happens and are filled in with `views.update`.

SlackAdapter only puts the parts together: connection.py (HTTP endpoint, Socket Mode), workspace.py (tokens, the
operator's workspace), listeners.py (commands, shortcut, buttons), form.py (the /post modal), approvals.py (the
approvers' buttons and note modal), home.py (the Home tab's calendar), channels.py (who sees which channel's posts)
and responses.py.
"""

from __future__ import annotations

from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.authorization.async_authorize import AsyncInstallationStoreAuthorize
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.channels import SlackChannelAccess, WorkspaceClients
from adapters.slack.connection import BOLT_LOGGER, HttpEndpoint, socket_mode_handler
from adapters.slack.form import PostModal
from adapters.slack.home import REFRESH_SECONDS as HOME_REFRESH_SECONDS
from adapters.slack.home import HomeTab
from adapters.slack.installs import STATE_SECONDS, SlackInstallations, SlackStates
from adapters.slack.listeners import SlackListeners
from adapters.slack.manifest import BOT_SCOPES
from adapters.slack.messenger import SlackMessenger
from adapters.slack.names import EVENTS_PATH, INSTALL_PATH, OAUTH_REDIRECT_PATH
from adapters.slack.people import PLATFORM, SlackPeople
from adapters.slack.responses import Responder
from adapters.slack.settings import SlackSettings
from adapters.slack.workspace import OperatorsWorkspace
from bot.core import Core
from bot.errors import NotSetUp


class SlackAdapter:
    """One workspace's Slack app around the core. `mount()` it on the bot's web server, or `start_socket_mode()`."""

    def __init__(
        self,
        core: Core,
        settings: SlackSettings,
        *,
        client: AsyncWebClient | None = None,
        home_refresh_seconds: float = HOME_REFRESH_SECONDS,
    ) -> None:
        """`home_refresh_seconds`: how often the Home tabs of those looking are made again."""
        settings.check_slack()
        # OAuth: no token of its own; bolt's `authorize` gives each request its workspace's (installs.py).
        token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
        self.core = core
        self.settings = settings
        # No shared session here: bolt deep-copies the client into every lazy listener, and a session cannot be.
        # No automatic retries: a chat.postMessage retried after a dropped connection can post twice; the outbox
        # retries notices itself, after checking whether the first one arrived.
        self.client = client or AsyncWebClient(token=token, base_url=settings.slack_api_url, retry_handlers=[])
        secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else ""
        self.installations = SlackInstallations(core) if settings.slack_oauth else None
        self.app = AsyncApp(
            client=self.client,
            signing_secret=secret,
            request_verification_enabled=not settings.slack_socket_mode,
            logger=BOLT_LOGGER,
            oauth_settings=self._oauth_settings(core, settings),
            installation_store_bot_only=True if self.installations else None,
            user_facing_authorize_error_message=NotSetUp.default_message,
        )
        self.people = SlackPeople(self.client, admins=settings.slack_admin_users, posters=settings.slack_poster_users)
        self.messenger = SlackMessenger(self.client, tokens=self._token_of if self.installations else None)
        self.responder = Responder(core)
        self.workspace = OperatorsWorkspace(
            core, self.client, responder=self.responder, installed=self.installations is not None
        )
        self.form = PostModal(core, settings, people=self.people, responder=self.responder, bot_token=token or "")
        core.attach(PLATFORM, self.messenger)
        self.clients = WorkspaceClients(self.client, tokens=self._token_of if self.installations else None)
        core.grant_channel_access(PLATFORM, SlackChannelAccess(self.clients.of))
        self.home = HomeTab(
            core,
            people=self.people,
            responder=self.responder,
            clients=self.clients,
            refresh_seconds=home_refresh_seconds,
        )
        self._socket: AsyncSocketModeHandler | None = None
        self._endpoint = HttpEndpoint(
            self.app, core, signing_secret=secret, gate=self.workspace.refusal if self.installations else None
        )
        listeners = SlackListeners(
            core, people=self.people, responder=self.responder, form=self.form, workspace=self.workspace, home=self.home
        )
        listeners.register(self.app)

    def _oauth_settings(self, core: Core, settings: SlackSettings) -> AsyncOAuthSettings | None:
        """bolt's OAuth flow at GET /slack/install and GET /slack/oauth_redirect, when SLACK_CLIENT_ID is set."""
        if self.installations is None:
            return None
        assert settings.slack_client_secret is not None
        assert settings.slack_state_secret is not None
        oauth = AsyncOAuthSettings(
            client_id=settings.slack_client_id,
            client_secret=settings.slack_client_secret.get_secret_value(),
            scopes=BOT_SCOPES,
            redirect_uri=f"{settings.public_url}{OAUTH_REDIRECT_PATH}" if settings.public_url else None,
            install_path=INSTALL_PATH,
            install_page_rendering_enabled=False,  # straight on to Slack's consent page
            redirect_uri_path=OAUTH_REDIRECT_PATH,
            installation_store=self.installations,
            installation_store_bot_only=True,
            state_store=SlackStates(core, settings.slack_state_secret.get_secret_value()),
            state_expiration_seconds=STATE_SECONDS,
            logger=BOLT_LOGGER,
        )
        # bolt's `authorize` asks auth.test about the token before every acknowledgement unless it keeps the answer:
        # keep it. The token itself is still looked up in the installations each time, so a workspace that
        # uninstalled is refused at once.
        assert isinstance(oauth.authorize, AsyncInstallationStoreAuthorize)
        oauth.authorize.cache_enabled = True
        return oauth

    async def _token_of(self, workspace_id: str) -> str | None:
        """An installed workspace's bot token, for the notices the outbox sends there."""
        assert self.installations is not None
        bot = await self.installations.async_find_bot(enterprise_id=None, team_id=workspace_id)
        return bot.bot_token if bot else None

    def mount(self, app: web.Application) -> None:
        """Serve Slack's HTTP mode (commands, interactivity and events) at POST /slack/events, and with OAuth,
        bolt's install flow at GET /slack/install and GET /slack/oauth_redirect."""
        app.router.add_post(EVENTS_PATH, self._endpoint.handle)
        flow = self.app.oauth_flow
        if flow is not None:
            app.router.add_get(flow.install_path, self._endpoint.install)
            app.router.add_get(flow.redirect_uri_path, self._endpoint.oauth_redirect)

    async def check_token(self) -> None:
        """At start-up: stop with one sentence if Slack refuses SLACK_BOT_TOKEN or, in Socket Mode, SLACK_APP_TOKEN."""
        await self.workspace.check_tokens(self.settings.slack_app_token)

    async def start_socket_mode(self) -> None:
        assert self.settings.slack_app_token is not None
        self._socket = socket_mode_handler(self.app, self.settings.slack_app_token.get_secret_value())
        await self._socket.connect_async()  # type: ignore[no-untyped-call]

    async def stop(self) -> None:
        await self.home.close()
        await self.responder.close()
        if self._socket is not None:
            await self._socket.close_async()  # type: ignore[no-untyped-call]
