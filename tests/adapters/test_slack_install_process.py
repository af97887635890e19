"""The issue's acceptance test, as a workspace admin and the operator see it: a real `infinipost-bot run` in Slack's
HTTP mode with OAuth, on PostgreSQL (and on an SQLite file). A workspace installs the app through the fake Slack's
oauth.v2.access, its admin connects the workspace's own Infinipost key in the modal, and its `/post` goes out with
its bot token and its key; another installed workspace's `/post` uses its own token and the default key. Neither
the key nor a bot token is in the process's log or, in clear, in the database."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import asyncpg
import httpx
import pytest
from cryptography.fernet import Fernet

from sandbox import SandboxServer
from tests.fakes.slack import (
    CLIENT_ID,
    CLIENT_SECRET,
    SIGNING_SECRET,
    FakeSlack,
    interaction,
    running_fake_slack,
    sign,
    slash_command,
    view_submission,
)
from tests.processes import BotProcess, free_port

DEFAULT_KEY = "sk_test_operatorDefaultKey3Hn8"  # INFINIPOST_API_KEY
TEAM_KEY = "sk_live_teamFiveOwnKey7Q2w"  # the one workspace T5's admin connects
TEAM_TOKEN = "xoxb-5555-team-five-bot-token"  # T5's, from oauth.v2.access
OTHER_TOKEN = "xoxb-6666-team-six-bot-token"  # T6's, installed too, on the default key
STATE_SECRET = "test-state-secret-for-install-links"


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    async with running_fake_slack() as fake:
        fake.users["UADMIN5"] = {"id": "UADMIN5", "name": "root", "tz": "UTC", "is_admin": True, "profile": {}}
        fake.users["U5"] = {"id": "U5", "name": "five", "tz": "UTC", "profile": {"display_name": "Five"}}
        fake.users["U6"] = {"id": "U6", "name": "six", "tz": "UTC", "profile": {"display_name": "Six"}}
        yield fake


@pytest.fixture
async def live_sandbox() -> AsyncIterator[SandboxServer]:
    async with SandboxServer() as server:  # the real clock, like the bot process's
        yield server


def oauth_bot(
    tmp_path: Path, fake: FakeSlack, sandbox: SandboxServer, database: Path | str, **settings: str
) -> BotProcess:
    """`infinipost-bot run` for many workspaces: OAuth in HTTP mode, no SLACK_BOT_TOKEN."""
    port = free_port()
    return BotProcess(
        tmp_path,
        port,
        SLACK_CLIENT_ID=CLIENT_ID,
        SLACK_CLIENT_SECRET=CLIENT_SECRET,
        SLACK_STATE_SECRET=STATE_SECRET,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=fake.base_url,
        BOT_PUBLIC_URL=f"http://127.0.0.1:{port}",
        INFINIPOST_API_URL=sandbox.url,
        INFINIPOST_API_KEY=DEFAULT_KEY,
        BOT_DATABASE=str(database),
        BOT_CONFIRM_POSTS="false",
        **settings,
    )


def base(bot: BotProcess) -> str:
    return f"http://127.0.0.1:{bot.port}"


async def install(bot: BotProcess, fake: FakeSlack, *, team: str, token: str) -> None:
    """An admin of `team` opens the install link, approves the app on Slack's consent page, and is sent back."""
    async with httpx.AsyncClient() as browser:
        start = await browser.get(f"{base(bot)}/slack/install")
        assert start.status_code == 302
        consent = urlsplit(start.headers["location"])
        assert (consent.netloc, consent.path) == ("slack.com", "/oauth/v2/authorize")
        query = parse_qs(consent.query)
        assert query["client_id"] == [CLIENT_ID]
        assert query["redirect_uri"] == [f"{base(bot)}/slack/oauth_redirect"]
        state = query["state"][0]
        # Slack's consent page is not faked: its part is the code it sends the admin back with. The state cookie
        # is Secure, so the browser is given it by hand over plain HTTP.
        fake.install_code(f"code-{team}", team_id=team, token=token)
        back = await browser.get(
            query["redirect_uri"][0],
            params={"code": f"code-{team}", "state": state},
            headers={"Cookie": f"slack-app-oauth-state={state}"},
        )
    assert back.status_code == 200, back.text
    assert fake.oauth_codes == {}  # the code was exchanged


async def send(bot: BotProcess, body: str) -> httpx.Response:
    """A request Slack signed, to the bot's events endpoint."""
    async with httpx.AsyncClient() as http:
        return await http.post(
            f"{base(bot)}/slack/events",
            content=body,
            headers={"Content-Type": "application/x-www-form-urlencoded", **sign(body)},
        )


async def command(bot: BotProcess, fake: FakeSlack, name: str, text: str, *, team: str, user: str) -> httpx.Response:
    body = slash_command(fake, name, text, user=user, channel=f"C{team[1:]}").replace("team_id=T1", f"team_id={team}")
    response = await send(bot, body)
    assert response.status_code == 200, response.text
    return response


async def reply(fake: FakeSlack, count: int) -> dict[str, Any]:
    """The `count`-th answer that arrived at a response_url."""
    await fake.wait_for(lambda: len(fake.responses) >= count)
    return fake.responses[count - 1]


def key_submission(fake: FakeSlack, *, team: str, user: str, key: str) -> str:
    """The key form, as the admin submits it from their workspace."""
    [update] = [c for c in fake.calls if c.method == "views.update" and c.accepted]
    view = update.params["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert view["callback_id"] == "infinipost_key"
    values = {"key": {"key": {"type": "plain_text_input", "value": key}}}
    payload = view_submission(values, view["private_metadata"], user=user)
    payload["team"]["id"] = payload["user"]["team_id"] = team
    payload["view"]["callback_id"] = "infinipost_key"
    return interaction(payload)


def authorizations(fake: FakeSlack, method: str) -> list[str]:
    return [c.authorization for c in fake.calls if c.method == method and c.accepted]


def infinipost_calls(sandbox: SandboxServer, method: str, path: str) -> list[str]:
    """The Authorization header of each call of `method` on `path` (its query string aside) at Infinipost."""
    return [r.authorization for r in sandbox.state.received if (r.method, r.path.split("?")[0]) == (method, path)]


def message_in(fake: FakeSlack, channel: str) -> bool:
    return any(str(c.params.get("channel")) == channel for c in fake.calls if c.method == "chat.postMessage")


async def database_text(database: Path | str) -> bytes:
    """Everything the bot's database holds: an SQLite file's bytes (with its journal), or the text of every row of
    every table of a PostgreSQL database."""
    if isinstance(database, Path):
        return b"".join(file.read_bytes() for file in database.parent.glob(f"{database.name}*"))
    connection = await asyncpg.connect(database)
    try:
        tables = await connection.fetch(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
        )
        rows = [
            row[0]
            for table in tables
            for row in await connection.fetch(f'SELECT t::text FROM "{table["table_name"]}" AS t')
        ]
    finally:
        await connection.close()
    return "\n".join(rows).encode()


async def test_an_installed_workspace_posts_with_its_own_token_and_its_own_key(
    tmp_path: Path, fake_slack: FakeSlack, live_sandbox: SandboxServer, database: Path | str
) -> None:
    fake, sandbox = fake_slack, live_sandbox
    encryption_key = Fernet.generate_key().decode()
    bot = await oauth_bot(
        tmp_path, fake, sandbox, database, BOT_ENCRYPTION_KEY=encryption_key, BOT_LOG_LEVEL="INFO"
    ).start()
    try:
        await install(bot, fake, team="T5", token=TEAM_TOKEN)
        checked = infinipost_calls(sandbox, "GET", "/v1/posts")
        assert checked == [f"Bearer {DEFAULT_KEY}"]  # the default key, checked at start

        # T5's admin connects the workspace's own key: the form opens with T5's token, and the key is checked at
        # Infinipost with the key itself.
        await command(bot, fake, "/infinipost", "connect", team="T5", user="UADMIN5")
        await fake.wait_for(lambda: authorizations(fake, "views.update"))
        assert authorizations(fake, "views.open") == [f"Bearer {TEAM_TOKEN}"]
        assert authorizations(fake, "views.update") == [f"Bearer {TEAM_TOKEN}"]
        submitted = await send(bot, key_submission(fake, team="T5", user="UADMIN5", key=TEAM_KEY))
        assert (submitted.status_code, submitted.text) == (200, "")  # the form closes
        connected = await reply(fake, 1)
        assert "own Infinipost key (…7Q2w)" in connected["text"], connected
        assert infinipost_calls(sandbox, "GET", "/v1/posts") == [*checked, f"Bearer {TEAM_KEY}"]

        # A member of T5 posts: Slack is asked with T5's token, Infinipost with T5's key.
        await command(bot, fake, "/post", "https://e.com/v.mp4 to acc_1 in 1 hour -- from five", team="T5", user="U5")
        assert "Scheduled for" in (await reply(fake, 2))["text"]
        assert infinipost_calls(sandbox, "POST", "/v1/posts") == [f"Bearer {TEAM_KEY}"]
        await fake.wait_for(lambda: message_in(fake, "C5"))  # the announcement, from the outbox

        five = {c.authorization for c in fake.calls if c.method != "oauth.v2.access"}
        assert five == {f"Bearer {TEAM_TOKEN}"}, [(c.method, c.authorization) for c in fake.calls]
        seen_by_five = len(fake.calls)

        # Another workspace installs the app, and a member of it posts: its token, and the operator's default key.
        await install(bot, fake, team="T6", token=OTHER_TOKEN)
        await command(bot, fake, "/post", "https://e.com/w.mp4 to acc_1 in 1 hour -- from six", team="T6", user="U6")
        assert "Scheduled for" in (await reply(fake, 3))["text"]
        assert infinipost_calls(sandbox, "POST", "/v1/posts") == [f"Bearer {TEAM_KEY}", f"Bearer {DEFAULT_KEY}"]
        await fake.wait_for(lambda: message_in(fake, "C6"))
        six = {(c.method, c.authorization) for c in fake.calls[seen_by_five:] if c.method != "oauth.v2.access"}
        assert {authorization for _, authorization in six} == {f"Bearer {OTHER_TOKEN}"}, six
        assert {"users.info", "chat.postMessage"} <= {method for method, _ in six}

        assert {r.authorization for r in sandbox.state.received} == {f"Bearer {TEAM_KEY}", f"Bearer {DEFAULT_KEY}"}
    finally:
        assert await bot.stop() == 0

    log = bot.stderr
    assert b"Traceback" not in log, log.decode()[-3000:]
    assert b"Slack: the app was installed in T5" in log  # the operator sees the installs, not their tokens
    secrets = [TEAM_KEY, TEAM_TOKEN, OTHER_TOKEN, DEFAULT_KEY, CLIENT_SECRET, STATE_SECRET, encryption_key]
    assert [secret for secret in secrets if secret.encode() in log] == []

    stored = await database_text(database)
    assert b"T5" in stored  # the installs and the key are there,
    assert b"7Q2w" in stored  # the key's last four characters in clear, to be shown back
    assert [secret for secret in secrets if secret.encode() in stored] == []
    assert b"xoxb-" not in stored
    assert b"sk_live_" not in stored


async def test_a_workspace_installed_through_one_replica_is_served_by_another(
    tmp_path: Path, fake_slack: FakeSlack, live_sandbox: SandboxServer, database: Path | str
) -> None:
    """Two replicas on one database, both started before the install: the load balancer sends the install and the
    key's form to one, and the workspace's `/post` to the other."""
    fake, sandbox = fake_slack, live_sandbox
    shared = {"BOT_ENCRYPTION_KEY": Fernet.generate_key().decode()}
    first = await oauth_bot(tmp_path, fake, sandbox, database, BOT_REPLICA_ID="bot-1", **shared).start()
    second = await oauth_bot(tmp_path, fake, sandbox, database, BOT_REPLICA_ID="bot-2", **shared).start()
    try:
        await install(first, fake, team="T5", token=TEAM_TOKEN)
        await command(first, fake, "/infinipost", "connect", team="T5", user="UADMIN5")
        await fake.wait_for(lambda: authorizations(fake, "views.update"))
        await send(first, key_submission(fake, team="T5", user="UADMIN5", key=TEAM_KEY))
        assert "own Infinipost key (…7Q2w)" in (await reply(fake, 1))["text"]

        answer = await command(
            second, fake, "/post", "https://e.com/v.mp4 to acc_1 in 1 hour -- via bot-2", team="T5", user="U5"
        )
        assert "not set up" not in answer.text, answer.text  # the refusal of a workspace that never installed
        assert "Scheduled for" in (await reply(fake, 2))["text"]
        assert infinipost_calls(sandbox, "POST", "/v1/posts") == [f"Bearer {TEAM_KEY}"]
        await fake.wait_for(lambda: message_in(fake, "C5"))
        assert {c.authorization for c in fake.calls if c.method != "oauth.v2.access"} == {f"Bearer {TEAM_TOKEN}"}
    finally:
        assert await first.stop() == 0
        assert await second.stop() == 0
    assert b"Traceback" not in first.stderr + second.stderr
