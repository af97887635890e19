"""Property-based: whatever people type, the bot answers with one user message and stores nothing it refused."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.runtime import start_runtime
from bot.dates import parse_when
from bot.errors import BadCommand, InvalidTime
from bot.grammar import parse_post
from bot.texts import GENERIC_ERROR
from sandbox import SandboxServer
from tests.conftest import FakeClock, make_settings
from tests.database import channel_request_ids
from tests.fakes.chat import ChatHarness

KEYWORDS = [
    "to",
    "at",
    "on",
    "in",
    "when",
    "now",
    "sound",
    "slides",
    "video",
    "slideshow",
    "--",
    "caption:",
    "to:",
    "when:",
    "sound:",
    "slides:",
]
PIECES = st.sampled_from(
    [
        *KEYWORDS,
        "https://e.com/v.mp4",
        "https://e.com/1.jpg",
        "acc_1",
        "acc_123,",
        "brand-ig",
        "tomorrow",
        "9am",
        "noon",
        "friday",
        "in 2 hours",
        "6",
        "4",
        "8",
        "99",
        '"',
        "“",
        "”",
        "‘",
        "’",
        "'",
        '""',
        "#tag",
        "👉",
        "",
        "/etc/passwd",
        "ftp://x",
        "\\",
        "\n",
        "\t",
        "0",
        "-1",
        "https://",
        "x" * 300,
    ]
)
COMMANDS = st.one_of(
    st.text(max_size=300),
    st.lists(PIECES, max_size=25).map(" ".join),
    st.lists(st.one_of(PIECES, st.text(max_size=12)), max_size=20).map(" ".join),
    st.just("x" * 5000),
)
PHRASES = st.one_of(
    st.text(max_size=60),
    st.lists(
        st.sampled_from(
            [
                "at",
                "on",
                "in",
                "tomorrow",
                "today",
                "next",
                "friday",
                "dec",
                "31",
                "2027",
                "9am",
                "25:00",
                "noon",
                "midnight",
                "2",
                "hours",
                "days",
                "from",
                "now",
                "PST",
                "ago",
                "may",
                "half",
                "an",
                "hour",
                "and",
                "30",
                "minutes",
                "yesterday",
                "week",
                "17:30",
                "0:00",
                "99:99",
                "1e9",
            ]
        ),
        max_size=8,
    ).map(" ".join),
)
NOW = datetime(2026, 11, 28, 15, 0, tzinfo=UTC)


@given(COMMANDS)
@settings(max_examples=400, deadline=None)
def test_grammar_either_parses_or_says_what_is_wrong(text: str) -> None:
    message = ""
    try:
        parse_post(text)
    except BadCommand as exc:
        message = exc.user_message or "(empty)"
    assert message == "" or (message.strip() and "Traceback" not in message)


@given(PHRASES, st.sampled_from(["UTC", "America/New_York", "Australia/Sydney", "Asia/Kolkata"]))
@settings(max_examples=400, deadline=None)
def test_time_phrases_either_resolve_to_the_next_year_or_say_why_not(phrase: str, zone: str) -> None:
    try:
        instant = parse_when(phrase, now=NOW, tz=ZoneInfo(zone))
    except InvalidTime as exc:
        refusal = exc.user_message
    else:
        refusal = None
        assert instant is None or NOW < instant <= NOW + timedelta(days=365)
    assert refusal is None or refusal.strip()


@pytest.fixture
def chat_loop(tmp_path: Path) -> Iterator[tuple[asyncio.Runner, ChatHarness]]:
    """A chat on its own event loop, so that hypothesis can drive it from a plain test."""
    with asyncio.Runner() as runner:
        clock = FakeClock()
        sandbox = runner.run(SandboxServer(clock=clock).__aenter__())
        settings_ = make_settings(tmp_path, api_key="sk_test_x", api_url=sandbox.url)
        context = start_runtime(settings_, clock=clock, workers=False)
        runtime = runner.run(context.__aenter__())
        yield runner, ChatHarness(runtime.core)
        runner.run(context.__aexit__(None, None, None))
        runner.run(sandbox.__aexit__(None, None, None))


@given(COMMANDS)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_the_core_answers_anything_with_one_user_message(
    chat_loop: tuple[asyncio.Runner, ChatHarness], text: str
) -> None:
    runner, chat = chat_loop
    database = chat.core.ctx.settings.database
    before = channel_request_ids(database, chat.caller_channel)
    reply = runner.run(chat.say("/post " + text))
    assert reply.text.strip()
    assert reply.text != GENERIC_ERROR  # a refusal, never a crash
    after = channel_request_ids(database, chat.caller_channel)
    if reply.error:
        assert len(after) == len(before)  # nothing stored for a refused command
    else:
        assert len(after) == len(before) + 1


@given(st.sampled_from(["/cancel", "/reschedule", "/accounts", "/timezone", "/posts", "/help", "/nope"]), COMMANDS)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_every_command_answers_anything(chat_loop: tuple[asyncio.Runner, ChatHarness], name: str, text: str) -> None:
    runner, chat = chat_loop
    reply = runner.run(chat.say(f"{name} {text}", caller=chat.caller("U1", is_admin=True)))
    assert reply.text.strip()
    assert reply.text != GENERIC_ERROR
