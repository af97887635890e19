"""A new user's first hour, as a chat: forgiving grammar, helpful refusals, examples that work, what Infinipost
says of its accounts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from app.runtime import start_runtime
from bot.texts import COMMAND_EXAMPLES, COMMANDS
from sandbox import SandboxServer
from tests.conftest import FakeClock, make_settings
from tests.fakes.chat import ChatHarness


@pytest.fixture
async def previewing(tmp_path: Path, sandbox: SandboxServer, clock: FakeClock) -> AsyncIterator[ChatHarness]:
    """A chat whose /post shows a preview first, as `make run` does."""
    settings = make_settings(tmp_path, api_key="sk_test_x", api_url=sandbox.url, confirm_posts=True)
    async with start_runtime(settings, clock=clock, workers=False) as runtime:
        yield ChatHarness(runtime.core)


async def test_a_time_without_its_keyword_is_understood(chat: ChatHarness) -> None:
    reply = await chat.say("/post https://e.com/v.mp4 to acc_1 tomorrow 9am -- hello")
    assert not reply.error, reply.text
    assert "Scheduled for Sun 29 November 2026, 09:00 EST" in reply.text


async def test_stray_words_are_refused_with_the_command_written_right(chat: ChatHarness) -> None:
    reply = await chat.say("/post https://e.com/v.mp4 to acc_1 at tomorrow 9am We're live!")
    assert reply.error
    assert reply.text.endswith(
        "if it is the caption: `/post https://e.com/v.mp4 to acc_1 at tomorrow 9am -- We're live!`"
    )
    corrected = "/post " + reply.text.split("`/post ", 1)[1].removesuffix("`")
    fixed = await chat.say(corrected)
    assert not fixed.error, fixed.text


@pytest.mark.parametrize("name", list(COMMANDS))
async def test_help_on_each_command_gives_examples(chat: ChatHarness, name: str) -> None:
    text = (await chat.say(f"/help {name}")).text
    assert len(COMMAND_EXAMPLES[name]) >= 2
    for example in COMMAND_EXAMPLES[name]:
        assert f"`{example}`" in text


async def test_every_help_example_works_as_written(chat: ChatHarness) -> None:
    await chat.say("/post https://e.com/a.mp4 to acc_1 in 1 hour -- first")
    await chat.say("/post https://e.com/b.mp4 to acc_1 in 2 hours -- second")
    order = ["post", "posts", "reschedule", "cancel", "timezone", "help", "accounts"]  # cancel after reschedule
    for name in order:
        for example in COMMAND_EXAMPLES[name]:
            reply = await chat.say(example, caller=chat.caller("U1", is_admin=True))
            assert not reply.error, (example, reply.text)


async def test_accounts_show_what_infinipost_says_of_their_readiness(chat: ChatHarness) -> None:
    listing = (await chat.say("/accounts")).text
    assert "`acc_1` Demo TikTok (@demo) on TikTok · ready" in listing
    assert "`acc_789` Fresh TikTok (@fresh) on TikTok · warming up: day 3 of 7" in listing
    refused = await chat.say("/post https://e.com/v.mp4 to acc_789 in 1 hour")
    assert refused.error
    assert "Fresh TikTok" in refused.text


async def test_a_sound_on_a_post_with_instagram_accounts_is_called_out(previewing: ChatHarness) -> None:
    preview = await previewing.say(
        "/post https://e.com/v.mp4 to acc_123, acc_456 sound https://e.com/a.mp3 in 1 hour -- with music"
    )
    assert preview.confirm_token
    assert (
        "Note",
        "Sounds are for TikTok only: Brand Instagram (@brand-ig) on Instagram will post without it.",
    ) in preview.fields
    tiktok_only = await previewing.say("/post https://e.com/v.mp4 to acc_123 sound https://e.com/a.mp3 in 1 hour")
    assert not [field for field in tiktok_only.fields if field[0] == "Note"]


@pytest.mark.parametrize(
    "typed",
    [
        "/post https:// to acc_1 in 1 hour",
        "/post ftp://e.com/v.mp4 to acc_1 in 1 hour",
        "/post https://e.com/v.mp4 to acc_1 sound ftp://e.com/a.mp3 in 1 hour",
        "/post https://e.com/v.mp4 to acc_1 sound https:// in 1 hour",
        "/post http://... to acc_1 in 1 hour",
        "/post https://e.com/v.mp4 to acc_1 sound http://... in 1 hour",
        "/post e.com/v.mp4 to acc_1 in 1 hour",
        "/post www.example.com to acc_1 in 1 hour",
    ],
)
async def test_one_rule_for_links_and_the_refusal_states_it(
    chat: ChatHarness, sandbox: SandboxServer, typed: str
) -> None:
    reply = await chat.say(typed)
    assert reply.error
    assert "a link is https:// (or http://) and a host name, e.g. `https://cdn.example.com/launch.mp4`" in reply.text
    assert not sandbox.state.posts


async def test_plain_http_links_follow_the_same_rule_and_are_taken(chat: ChatHarness) -> None:
    reply = await chat.say("/post http://e.com/v.mp4 to acc_1 in 1 hour")
    assert not reply.error, reply.text
