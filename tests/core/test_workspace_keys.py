"""`/infinipost`: a workspace's own Infinipost key, connected by an admin, used for every call about its posts,
kept sealed, and never said back, logged or stored in clear."""

from __future__ import annotations

import io
import itertools
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from adapters.console import ConsoleAdapter
from app.runtime import Runtime, start_runtime
from bot.clients import KEY_FRESH_SECONDS, ApiClients
from bot.model import Command
from bot.tracking import Tracker
from sandbox import SandboxServer
from tests.conftest import FakeClock, make_settings
from tests.fakes.chat import ChatHarness

OWN_KEY = "sk_live_workspace0wnKey9XyZ"
DEFAULT = "Bearer sk_test_key"


@pytest.fixture
async def sealed_runtime(tmp_path: Path, sandbox: SandboxServer, clock: FakeClock) -> AsyncIterator[Runtime]:
    settings = make_settings(
        tmp_path, api_key="sk_test_key", api_url=sandbox.url, encryption_key=Fernet.generate_key().decode()
    )
    async with start_runtime(settings, clock=clock, workers=False) as running:
        yield running


@pytest.fixture
def console(sealed_runtime: Runtime) -> ConsoleAdapter:
    return ConsoleAdapter(sealed_runtime.core, out=io.StringIO())


def printed(console: ConsoleAdapter) -> str:
    out = console._out
    assert isinstance(out, io.StringIO)
    return out.getvalue()


def auths(sandbox: SandboxServer, method: str, path_start: str) -> list[str]:
    return [r.authorization for r in sandbox.state.received if r.method == method and r.path.startswith(path_start)]


async def connect(console: ConsoleAdapter, key: str = OWN_KEY) -> str:
    assert await console.handle_line("/infinipost connect") is None  # asks for the key on the next line
    reply = await console.handle_line(key)
    assert reply is not None
    return reply.text


async def test_a_connected_key_serves_its_workspace_only_until_it_is_disconnected(
    console: ConsoleAdapter, sealed_runtime: Runtime, sandbox: SandboxServer, clock: FakeClock
) -> None:
    other = ChatHarness(sealed_runtime.core)  # another workspace on the same bot
    status = await console.handle_line("/infinipost")
    assert status is not None
    assert "the bot's default Infinipost key" in status.text
    answer = await connect(console)
    assert "own Infinipost key (…9XyZ)" in answer
    assert "Paste this workspace's Infinipost API key" in printed(console)
    status = await console.handle_line("/infinipost status")
    assert status is not None
    assert "its own Infinipost key (…9XyZ)" in status.text

    mine = await console.handle_line("/post https://e.com/mine.mp4 to acc_1 in 1 hour -- mine")
    assert mine is not None
    assert "Scheduled" in mine.text, mine.text
    theirs = await other.say("/post https://e.com/theirs.mp4 to acc_1 in 1 hour -- theirs")
    assert "Scheduled" in theirs.text, theirs.text
    assert auths(sandbox, "GET", "/v1/posts?limit=1") == [f"Bearer {OWN_KEY}"]  # the key was checked once
    assert auths(sandbox, "POST", "/v1/posts") == [f"Bearer {OWN_KEY}", DEFAULT]

    clock.advance(hours=1, minutes=1)
    await Tracker(sealed_runtime.ctx).cycle()
    checks = {r.path: r.authorization for r in sandbox.state.received if r.method == "GET" and "/v1/posts/" in r.path}
    by_caption = {p["caption"]: p["postId"] for p in sandbox.state.posts.values()}
    assert checks[f"/v1/posts/{by_caption['mine']}"] == f"Bearer {OWN_KEY}"
    assert checks[f"/v1/posts/{by_caption['theirs']}"] == DEFAULT

    gone = await console.handle_line("/infinipost disconnect")
    assert gone is not None
    assert "default key" in gone.text
    assert "…9XyZ" in gone.text
    sandbox.state.received.clear()
    await console.handle_line("/post https://e.com/again.mp4 to acc_1 in 1 hour -- again")
    assert auths(sandbox, "POST", "/v1/posts") == [DEFAULT]
    again = await console.handle_line("/infinipost disconnect")
    assert again is not None
    assert "no Infinipost key of its own" in again.text


async def test_cancel_reschedule_accounts_and_refresh_use_the_workspaces_key(
    console: ConsoleAdapter, sandbox: SandboxServer
) -> None:
    await connect(console)
    await console.handle_line("/post https://e.com/a.mp4 to acc_1 in 2 hours -- a")
    await console.handle_line("/post https://e.com/b.mp4 to acc_1 in 2 hours -- b")
    sandbox.state.received.clear()
    await console.handle_line("/accounts refresh")
    await console.handle_line("/posts refresh")
    await console.handle_line("/reschedule #1 in 3 hours")
    await console.handle_line("/cancel #2")
    seen = {(r.method, r.path.split("?")[0].rstrip("/").rsplit("/", 1)[0]) for r in sandbox.state.received}
    assert {("GET", "/v1"), ("GET", "/v1/posts"), ("PATCH", "/v1/posts"), ("DELETE", "/v1")} <= seen, seen
    assert {r.authorization for r in sandbox.state.received} == {f"Bearer {OWN_KEY}"}


async def test_the_key_is_never_said_logged_or_stored_in_clear(
    console: ConsoleAdapter, sealed_runtime: Runtime, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    replies = [await connect(console)]
    for line in ("/infinipost", "/post https://e.com/v.mp4 to acc_1 in 1 hour", "/infinipost disconnect"):
        reply = await console.handle_line(line)
        assert reply is not None
        replies.append(reply.text)
    replies.append(await connect(console))  # kept again, for the database to hold it sealed
    assert OWN_KEY not in printed(console)
    assert all(OWN_KEY not in text for text in replies)
    assert OWN_KEY not in caplog.text
    files = list(tmp_path.glob("bot.db*"))  # the database and its write-ahead log
    assert files
    for file in files:
        assert OWN_KEY.encode() not in file.read_bytes(), file
        assert OWN_KEY[:-4].encode() not in file.read_bytes(), file


async def test_only_admins_may_connect_or_disconnect(sealed_runtime: Runtime, sandbox: SandboxServer) -> None:
    chat = ChatHarness(sealed_runtime.core)
    member = chat.caller("U2", is_admin=False)
    assert sealed_runtime.core.key_form_refusal(member) is not None
    refused = await sealed_runtime.core.handle(
        Command(name="infinipost", text="connect", caller=member, secret=OWN_KEY)
    )
    assert refused.error
    assert "Only a workspace or server admin" in refused.text
    assert OWN_KEY not in refused.text
    assert not auths(sandbox, "GET", "/v1/posts")  # never sent to Infinipost
    assert await sealed_runtime.ctx.storage.workspace_keys.get("memory", "T1") is None
    off = await chat.say("/infinipost disconnect", caller=member)
    assert off.error
    assert "Only a workspace or server admin" in off.text
    status = await chat.say("/infinipost", caller=member)  # anyone may see which key is used
    assert not status.error


async def test_without_an_encryption_key_connect_says_the_operator_must_set_it(
    runtime: Runtime, sandbox: SandboxServer
) -> None:
    console = ConsoleAdapter(runtime.core, out=io.StringIO())
    reply = await console.handle_line("/infinipost connect")
    assert reply is not None
    assert reply.error
    assert reply.text == (
        "Connecting a workspace's own Infinipost key needs BOT_ENCRYPTION_KEY, which whoever runs the bot must set "
        "first."
    )
    assert not console._awaiting_key  # no prompt for a key that could not be kept
    assert await runtime.ctx.storage.workspace_keys.get("console", "local") is None


async def test_a_key_infinipost_refuses_is_not_kept(
    console: ConsoleAdapter, sealed_runtime: Runtime, sandbox: SandboxServer
) -> None:
    refused_key = "sk_nope_notAKeyInfinipostTakes"  # the sandbox takes only sk_test_ and sk_live_ keys
    answer = await connect(console, refused_key)
    assert "Infinipost refused that key, so nothing was kept" in answer
    assert refused_key not in answer
    assert await sealed_runtime.ctx.storage.workspace_keys.get("console", "local") is None
    looks_wrong = await connect(console, "xoxb-a-slack-token-pasted-by-mistake")
    assert "does not look like an Infinipost API key" in looks_wrong
    assert auths(sandbox, "GET", "/v1/posts") == [f"Bearer {refused_key}"]  # the Slack token went nowhere
    nothing = await console.handle_line("/infinipost connect")
    assert nothing is None
    assert await console.handle_line("") is None
    assert "No key was given" in printed(console)


async def test_a_key_typed_in_the_command_is_refused_without_being_said_back(
    console: ConsoleAdapter, sealed_runtime: Runtime, sandbox: SandboxServer
) -> None:
    reply = await console.handle_line(f"/infinipost connect {OWN_KEY}")
    assert reply is not None
    assert reply.error
    assert "Don't type the key in the command" in reply.text
    assert OWN_KEY not in reply.text
    assert not auths(sandbox, "GET", "/v1/posts")
    assert await sealed_runtime.ctx.storage.workspace_keys.get("console", "local") is None


async def test_a_workspaces_key_read_just_as_its_cached_entry_expires_still_gives_its_client(
    sealed_runtime: Runtime,
) -> None:
    # Each reading of the clock is most of the cache's lifetime after the last: an entry still fresh when it is
    # looked up has expired by the next reading. Reading the clock twice per lookup turned a /post into an error.
    readings = itertools.count(step=KEY_FRESH_SECONDS * 0.6)
    shared = sealed_runtime.ctx.clients
    clients = ApiClients(
        default=shared.default,
        keys=sealed_runtime.ctx.storage.workspace_keys,
        encryption_key=None,
        make_client=lambda *_args, **_kwargs: shared.default.api,
        monotonic=lambda: next(readings),
    )
    for _ in range(6):
        assert await clients.of("console", "T1") is shared.default
