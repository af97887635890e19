"""Slack's two modes end to end: HTTP mode in a real `infinipost-bot run` process, and Socket Mode."""

from __future__ import annotations

import asyncio
import re
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import parse_qsl

import httpx
import pytest

from adapters.slack.app import SlackAdapter
from app.runtime import start_runtime
from sandbox import SandboxServer
from tests.conftest import FakeClock, make_settings
from tests.fakes.slack import APP_TOKEN, BOT_TOKEN, SIGNING_SECRET, FakeSlack, running_fake_slack, sign, slash_command
from tests.processes import BotProcess, clean_env, free_port, run_until_exit


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    async with running_fake_slack() as fake:
        fake.users["U1"] = {"id": "U1", "name": "alice", "tz": "Europe/Paris", "profile": {"display_name": "Alice"}}
        yield fake


async def test_http_mode_as_a_real_process(tmp_path: Path, fake_slack: FakeSlack) -> None:
    port = free_port()
    async with SandboxServer() as sandbox:
        bot = BotProcess.on_slack(
            tmp_path, slack_api_url=fake_slack.base_url, api_url=sandbox.url, port=port, BOT_CONFIRM_POSTS="false"
        )
        await bot.start()
        try:
            body = slash_command(fake_slack, "/post", "https://e.com/v.mp4 to acc_123 at tomorrow 9am -- hello")
            url = f"http://127.0.0.1:{port}/slack/events"
            async with httpx.AsyncClient() as http:
                forged = await http.post(url, content=body, headers=sign(body, secret="x"))
                assert forged.status_code == 401
                ack = await http.post(
                    url, content=body, headers={"Content-Type": "application/x-www-form-urlencoded", **sign(body)}
                )
            assert ack.status_code == 200
            reply = (await fake_slack.wait_for(lambda: fake_slack.responses))[0]
            assert "Scheduled for" in reply["text"]
            assert "(Europe/Paris)" in reply["text"]  # read in Alice's Slack profile zone
            announcement = (await fake_slack.wait_for(lambda: fake_slack.of("chat.postMessage")))[0]
            assert "<@U1> scheduled a video" in announcement["text"]
            creates = [r.body for r in sandbox.state.received if (r.method, r.path) == ("POST", "/v1/posts")]
            assert len(creates) == 1
            assert creates[0]["caption"] == "hello"
            assert all(c.authorization == f"Bearer {BOT_TOKEN}" for c in fake_slack.calls)
        finally:
            assert await bot.stop() == 0
        assert b"Traceback" not in bot.stderr
        assert BOT_TOKEN.encode() not in bot.stderr
        assert SIGNING_SECRET.encode() not in bot.stderr
        assert (
            f"Slack HTTP mode: listening on http://127.0.0.1:{port}/slack/events; Slack must reach it at "
            "BOT_PUBLIC_URL (not set)"
        ).encode() in bot.stderr
        assert b"will be unused" not in bot.stderr  # Bolt's note about the token: nothing for the operator to do


async def test_replays_are_refused_by_a_real_process_even_after_a_restart(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    """Each replay would otherwise be a new post (BOT_CONFIRM_POSTS=false): byte for byte, with a bogus signing
    header before the real one, and after the bot restarted (seen signatures are kept in its database)."""
    port = free_port()
    body = slash_command(fake_slack, "/post", "https://e.com/v.mp4 to acc_123 at tomorrow 9am -- once")
    signed = [("Content-Type", "application/x-www-form-urlencoded"), *sign(body).items()]
    url = f"http://127.0.0.1:{port}/slack/events"
    async with SandboxServer() as sandbox, httpx.AsyncClient() as http:

        def process() -> BotProcess:
            return BotProcess.on_slack(
                tmp_path, slack_api_url=fake_slack.base_url, api_url=sandbox.url, port=port, BOT_CONFIRM_POSTS="false"
            )

        bot = await process().start()
        try:
            assert (await http.post(url, content=body, headers=signed)).status_code == 200
            await fake_slack.wait_for(lambda: fake_slack.responses)
            assert (await http.post(url, content=body, headers=signed)).status_code == 401
            for header in ("X-Slack-Request-Timestamp", "X-Slack-Signature"):
                bogus = [signed[0], (header, "1"), *signed[1:]]  # a bogus copy before the real one
                assert (await http.post(url, content=body, headers=bogus)).status_code == 401
        finally:
            assert await bot.stop() == 0
        again = await process().start()
        try:
            assert (await http.post(url, content=body, headers=signed)).status_code == 401
        finally:
            assert await again.stop() == 0
        creates = [r for r in sandbox.state.received if (r.method, r.path) == ("POST", "/v1/posts")]
        assert len(creates) == 1
    assert b"refused a replayed Slack request" in again.stderr
    assert b"Traceback" not in bot.stderr + again.stderr


async def test_socket_mode(tmp_path: Path, fake_slack: FakeSlack, sandbox: SandboxServer, clock: FakeClock) -> None:
    settings = make_settings(
        tmp_path,
        api_key="sk_test_x",
        api_url=sandbox.url,
        slack_bot_token=BOT_TOKEN,
        slack_app_token=APP_TOKEN,
        slack_api_url=fake_slack.base_url,
    )
    async with start_runtime(settings, clock=clock) as runtime:
        adapter = SlackAdapter(runtime.core, settings)
        await adapter.start_socket_mode()
        try:
            opened = fake_slack.of("apps.connections.open")
            assert opened
            assert [c.authorization for c in fake_slack.calls if c.method == "apps.connections.open"] == [
                f"Bearer {APP_TOKEN}"
            ]
            payload = dict(parse_qsl(slash_command(fake_slack, "/post", "https://e.com/v.mp4 to acc_1 in 2 hours")))
            await fake_slack.socket_envelopes.put(
                {"envelope_id": "env-1", "type": "slash_commands", "accepts_response_payload": True, "payload": payload}
            )
            acks = await fake_slack.wait_for(lambda: fake_slack.socket_acks)
            assert acks[0]["envelope_id"] == "env-1"
            reply = (await fake_slack.wait_for(lambda: fake_slack.responses))[0]
            assert "Scheduled for" in reply["text"]
            creates = [r.body for r in sandbox.state.received if (r.method, r.path) == ("POST", "/v1/posts")]
            assert creates[0]["scheduledTime"] == "2026-11-28T17:00:00Z"
        finally:
            await adapter.stop()


async def test_a_token_slack_refuses_stops_run_with_one_line(tmp_path: Path, fake_slack: FakeSlack) -> None:
    wrong = "xoxz-not-a-bot-token"
    env = clean_env(
        SLACK_BOT_TOKEN=wrong,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=fake_slack.base_url,
        BOT_HTTP_PORT=str(free_port()),
    )
    code, _, stderr = await run_until_exit(tmp_path, "run", env=env)
    assert code == 1
    lines = [line for line in stderr.splitlines() if line.startswith("infinipost-bot:")]
    assert lines == [
        "infinipost-bot: Slack refused SLACK_BOT_TOKEN (not_authed); copy the Bot User OAuth Token (xoxb-...) "
        "from your Slack app's OAuth & Permissions page."
    ]
    assert "Traceback" not in stderr
    assert wrong not in stderr


@pytest.mark.parametrize(
    ("app_token", "error"),
    [
        ("xapp-revoked", "invalid_auth"),
        (BOT_TOKEN, "not_allowed_token_type"),  # the bot token pasted in the wrong place
    ],
)
async def test_an_app_token_slack_refuses_stops_run_with_one_line(
    tmp_path: Path, fake_slack: FakeSlack, app_token: str, error: str
) -> None:
    """slack_sdk would ask for a Socket Mode connection every 10 seconds for ever, with a traceback each time."""
    if error == "invalid_auth":
        fake_slack.fail("apps.connections.open", error, times=100)
    env = clean_env(
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_APP_TOKEN=app_token,
        SLACK_API_URL=fake_slack.base_url,
        BOT_HTTP_PORT=str(free_port()),
    )
    code, _, stderr = await run_until_exit(tmp_path, "run", env=env, timeout=20)
    assert code == 1
    assert [line for line in stderr.splitlines() if line.startswith("infinipost-bot:")] == [
        f"infinipost-bot: Slack refused SLACK_APP_TOKEN ({error}); copy an app-level token (xapp-...) with the "
        "connections:write scope from your Slack app's Basic Information page (App-Level Tokens)."
    ]
    assert "Traceback" not in stderr
    assert app_token not in stderr
    assert [c.method for c in fake_slack.calls].count("apps.connections.open") == 1


@pytest.mark.parametrize("cause", ["slack answers 500", "nothing listens"])
async def test_a_signal_stops_run_while_socket_mode_cannot_connect(
    tmp_path: Path, fake_slack: FakeSlack, cause: str
) -> None:
    """A Slack that cannot be reached is tried again every 10 seconds, in one log line each time, and SIGTERM or
    SIGINT still ends the process at once, although start-up is waiting for the connection."""
    if cause == "slack answers 500":
        fake_slack.fail_plain("apps.connections.open", 500, times=100)
        slack_api_url, signum = fake_slack.base_url, signal.SIGTERM
    else:
        slack_api_url, signum = f"http://127.0.0.1:{free_port()}/api/", signal.SIGINT
    env = clean_env(
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_APP_TOKEN=APP_TOKEN,
        SLACK_API_URL=slack_api_url,
        BOT_HTTP_PORT=str(free_port()),
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "app", "run", cwd=tmp_path, env=env,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stderr is not None
    said = b""
    try:
        async with asyncio.timeout(20):
            while b"Socket Mode cannot connect to Slack" not in said:
                line = await process.stderr.readline()
                assert line, f"the bot exited with {await process.wait()}: {said.decode()}"
                said += line
        process.send_signal(signum)
        signalled = time.monotonic()
        _, rest = await asyncio.wait_for(process.communicate(), 10)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert time.monotonic() - signalled < 5
    assert process.returncode == 0
    stderr = (said + rest).decode()
    assert "Traceback" not in stderr
    assert all(re.match(r"\d{4}-\d\d-\d\d ", line) for line in stderr.splitlines()), stderr  # one line each
    failures = [line for line in stderr.splitlines() if "Socket Mode cannot connect to Slack" in line]
    reason = "apps.connections.open answered http_500" if cause == "slack answers 500" else "ClientConnectorError"
    assert reason in failures[0]
    assert BOT_TOKEN not in stderr
    assert APP_TOKEN not in stderr


async def test_run_on_a_port_in_use_stops_with_one_line(tmp_path: Path, fake_slack: FakeSlack) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = clean_env(
            SLACK_BOT_TOKEN=BOT_TOKEN,
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            SLACK_API_URL=fake_slack.base_url,
            BOT_HTTP_HOST="127.0.0.1",
            BOT_HTTP_PORT=str(port),
        )
        code, _, stderr = await run_until_exit(tmp_path, "run", env=env)
    assert code == 1
    [line] = [line for line in stderr.splitlines() if line.startswith("infinipost-bot:")]
    assert line.startswith(f"infinipost-bot: Cannot listen on 127.0.0.1:{port}")
    assert "BOT_HTTP_PORT" in line
    assert "Traceback" not in stderr
