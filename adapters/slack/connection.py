"""How Slack's requests reach bolt: the HTTP endpoint with its refusals (signature, replay, malformed body), or
Socket Mode; and the filters that keep slack-bolt's and slack_sdk's logs to what the operator can act on."""

from __future__ import annotations

import logging
import re
import time
import traceback
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier

from adapters.slack.refusals import error_code
from bot.core import Core

logger = logging.getLogger(__name__)


def _not_the_token_note(record: logging.LogRecord) -> bool:
    """Bolt reads SLACK_BOT_TOKEN from the environment itself and, given our client too, warns on every start
    that the token will be unused: true, and nothing for the operator to do."""
    return record.getMessage() != warning_client_prioritized_and_token_skipped()


BOLT_LOGGER = logging.getLogger("slack_bolt")
BOLT_LOGGER.addFilter(_not_the_token_note)

SOCKET_RETRY_SECONDS = 10  # slack_sdk waits its ping interval between two tries to connect


def _one_line_socket_errors(record: logging.LogRecord) -> bool:
    """slack_sdk's Socket Mode client tries to connect for ever, every SOCKET_RETRY_SECONDS, and logs each failure
    twice over several lines, once with a traceback: one line a try says it, with what Slack answered. Its other
    records (a listener that failed, say) keep their traceback. The payloads it received are never logged."""
    message = record.getMessage()
    if message.startswith("Failed to retrieve WSS URL"):
        return False  # the failure it raises is logged next, by whoever tried to connect
    if message.startswith("Received message"):
        return False  # its DEBUG record holds the whole payload: what a form holds, an Infinipost key included
    if message.startswith("Failed to connect") and record.exc_info:
        record.msg = "Socket Mode cannot connect to Slack (%s); trying again in %s seconds"
        record.args = (_socket_failure(record.exc_info[1]), SOCKET_RETRY_SECONDS)
        record.exc_info, record.exc_text = None, None
        record.levelno, record.levelname = logging.WARNING, logging.getLevelName(logging.WARNING)
    elif message.startswith("Failed to check the current session"):  # a reconnection that failed
        record.msg, record.args = " ".join(message.split()), ()
    return True


def _socket_failure(exc: BaseException | None) -> str:
    """What Slack answered, or why it could not be asked; slack_sdk itself fails (AttributeError) on reading an
    answer that is not JSON, with Slack's answer as the context."""
    cause = exc
    while cause is not None and not isinstance(cause, SlackApiError):
        cause = cause.__cause__ or cause.__context__
    if isinstance(cause, SlackApiError):
        return f"apps.connections.open answered {error_code(cause)}"
    return " ".join(f"{type(exc).__name__}: {exc}".split())


_SOCKET_LOGGER = logging.getLogger("slack_sdk.socket_mode")
_SOCKET_LOGGER.addFilter(_one_line_socket_errors)

_SLACK_TOKEN = re.compile(r"\bxox[a-z]-[A-Za-z0-9-]+")


def _no_tokens(record: logging.LogRecord) -> bool:
    """slack_sdk's DEBUG record of each answer holds its whole body: oauth.v2.access's holds the bot token of the
    workspace that installed the app. Its tokens are blanked out; slack_sdk already hides the Authorization
    header."""
    message = record.getMessage()
    if _SLACK_TOKEN.search(message):
        record.msg, record.args = _SLACK_TOKEN.sub("xox…(redacted)", message), ()
    return True


logging.getLogger("slack_sdk.web.async_base_client").addFilter(_no_tokens)

REPLAY_WINDOW = 6 * 60  # seconds: Slack's five minutes of timestamp tolerance, and a margin
MAX_STAMP_DIGITS = 12  # a Unix time in seconds has 10 digits until the year 2286


def socket_mode_handler(app: AsyncApp, app_token: str) -> AsyncSocketModeHandler:
    """Socket Mode for the app, with the app-level token, its log filtered, not connected yet."""
    return AsyncSocketModeHandler(app, app_token, logger=_SOCKET_LOGGER, ping_interval=SOCKET_RETRY_SECONDS)


class HttpEndpoint:
    """Slack's HTTP mode: requests refused here unless Slack signed them, then dispatched to bolt."""

    def __init__(
        self,
        app: AsyncApp,
        core: Core,
        *,
        signing_secret: str,
        gate: Callable[[dict[str, Any], AsyncBoltContext], Awaitable[BoltResponse | None]] | None = None,
    ) -> None:
        """`gate`: with OAuth, the refusal of a place that never installed the app, asked before bolt's
        `authorize` looks for the place's token (and, finding none, answers in words of its own)."""
        self.app = app
        self.core = core
        self._verifier = SignatureVerifier(signing_secret) if signing_secret else None
        self._gate = gate

    async def install(self, request: web.Request) -> web.Response:
        """GET /slack/install: bolt's OAuth flow sends the browser to Slack's consent page, with a state."""
        flow = self.app.oauth_flow
        assert flow is not None
        return await to_aiohttp_response(await flow.handle_installation(await to_bolt_request(request)))

    async def oauth_redirect(self, request: web.Request) -> web.Response:
        """GET /slack/oauth_redirect: bolt checks the state, exchanges the code (oauth.v2.access) and saves the
        installation."""
        flow = self.app.oauth_flow
        assert flow is not None
        return await to_aiohttp_response(await flow.handle_callback(await to_bolt_request(request)))

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        refusal = await self._refusal(request, body)
        if refusal is not None:
            return refusal
        try:
            bolt_request = AsyncBoltRequest(
                body=body.decode(),
                query=request.query_string,
                headers=request.headers,  # type: ignore[arg-type]
            )
        except (ValueError, TypeError, AttributeError, KeyError, IndexError) as exc:
            return _malformed(exc)
        if self._gate is not None and not _needs_no_place(bolt_request.body):
            refused = await self._gate(bolt_request.body, bolt_request.context)
            if refused is not None:
                return await to_aiohttp_response(refused)
        try:
            response = await self.app.async_dispatch(bolt_request)
        except Exception as exc:  # bolt's own error handling failed on the payload that made it fail
            if not _raised_in_bolt(exc):
                raise
            return _malformed(exc)
        return await to_aiohttp_response(response)

    async def _refusal(self, request: web.Request, body: bytes) -> web.Response | None:
        """401 unless the request is signed by Slack, recently, and seen for the first time; 400 for a body Slack
        never sends. The signature is checked here on exactly the values bolt checks again, and every signature
        is remembered until a replay of its request could no longer pass the timestamp check."""
        assert self._verifier is not None
        repeated = {name for name in request.headers if name.lower().startswith("x-slack-")}
        if any(len(request.headers.getall(name)) > 1 for name in repeated):
            logger.warning("refused a Slack request with a signing header given twice")
            return _unauthorized()
        stamp = request.headers.get("X-Slack-Request-Timestamp", "")
        signature = request.headers.get("X-Slack-Signature", "")
        if not (stamp.isascii() and stamp.isdigit() and len(stamp) <= MAX_STAMP_DIGITS and signature.isascii()):
            return _unauthorized()
        try:
            text = body.decode()
        except UnicodeDecodeError as exc:
            return _malformed(exc)  # Slack sends UTF-8, so nobody signed this
        if not self._verifier.is_valid(text, stamp, signature):
            return _unauthorized()
        now = time.time()  # the clock the verifier judges timestamps by
        until = datetime.fromtimestamp(int(stamp) + REPLAY_WINDOW, UTC)
        if not await self.core.first_sighting(f"slack:{signature}", until=until, now=datetime.fromtimestamp(now, UTC)):
            logger.warning("refused a replayed Slack request")
            return _unauthorized()
        return None


async def bolt_failed(error: Exception) -> BoltResponse | None:
    """bolt's error handler: bolt failing to read a signed payload is a body Slack never sends (a 400); anything
    else is a bug here, logged with its traceback (a 500)."""
    if _raised_in_bolt(error):
        _malformed(error)
        return BoltResponse(status=400, body="malformed request")
    logger.error("a Slack listener failed", exc_info=error)
    return None


def _needs_no_place(body: dict[str, Any]) -> bool:
    """Slack's own checks of the endpoint, which come from no workspace (bolt answers them before `authorize`)."""
    return body.get("type") == "url_verification" or body.get("ssl_check") == "1"


def _unauthorized() -> web.Response:
    return web.Response(status=401, text="invalid request")


def _malformed(exc: Exception) -> web.Response:
    """A body Slack never sends: refused in one log line, as bolt would otherwise fail on it with a 500."""
    logger.warning("refused a Slack request whose body Slack would not send (%s)", type(exc).__name__)
    return web.Response(status=400, text="malformed request")


def _raised_in_bolt(error: Exception) -> bool:
    """Whether slack-bolt itself raised it, reading a payload: fields Slack always sends were missing."""
    frames = traceback.extract_tb(error.__traceback__)
    return bool(frames) and "slack_bolt" in Path(frames[-1].filename).parts
