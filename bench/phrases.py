"""4. Time phrases: parse time after warm-up, and the first command's latency in a freshly started bot."""

from __future__ import annotations

import contextlib
import time
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bench.common import Row, median, percentile, python_json
from bot.dates import parse_when, warm_up
from bot.errors import InvalidTime

PHRASES = [
    "tomorrow noon",
    "in 2 hours",
    "on friday 9am",
    "dec 24 at 10",
    "at 10",
    "next monday 17:30",
    "9am PST",
    "tomorrow",
    "in 90 mins",
    "2026-12-05 15:00",
    "saturday 11am",
    "nonsense words",
    "jan 3 9am",
    "tonight",
    "the 3rd at 2pm",
    "sat the 12th 10am",
    "half past 4pm",
    "9am Europe/London",
    "10am +3",
    "3/4 9am",
    "16.07. 18:00",
    "at tomorrow 9am in 2 hours",
    "eod",
    "tomorrow 9am CST",
]
ROUNDS = 150

FIRST_COMMAND = """
import asyncio, json, tempfile, time
from pathlib import Path
started = time.perf_counter()
from bot.config import Settings
from bot.model import Caller, Command
from app.runtime import start_runtime

async def main():
    with tempfile.TemporaryDirectory() as work:
        settings = Settings(_env_file=None, database=Path(work) / "bot.db", media_dir=Path(work) / "media",
                            confirm_posts=False)
        async with start_runtime(settings, workers=False) as runtime:
            ready = time.perf_counter()
            caller = Caller(platform="bench", workspace_id="T", channel_id="C", user_id="U", display_name="b")
            runtime.ctx.places.allow("bench", workspaces=["T"])
            sent = time.perf_counter()
            reply = await runtime.core.handle(Command(name="post", caller=caller,
                                                      text="https://e.com/v.mp4 to acc_1 at tomorrow 9am"))
            assert not reply.error, reply.text
            print(json.dumps({"ready": ready - started, "first": time.perf_counter() - sent}))

asyncio.run(main())
"""

COLD_PARSE = """
import json, time
from datetime import datetime, UTC
from zoneinfo import ZoneInfo
from bot.dates import parse_when
started = time.perf_counter()
parse_when("tomorrow 9am", now=datetime.now(UTC), tz=ZoneInfo("UTC"))
print(json.dumps({"cold": time.perf_counter() - started}))
"""


async def run() -> list[Row]:
    warm_up()
    now, tz = datetime(2026, 11, 28, 15, 0, tzinfo=UTC), ZoneInfo("America/New_York")
    times = []
    for _ in range(ROUNDS):
        for phrase in PHRASES:
            started = time.perf_counter()
            with contextlib.suppress(InvalidTime):  # refusals are timed too: people type those as well
                parse_when(phrase, now=now, tz=tz)
            times.append(time.perf_counter() - started)
    first = await python_json("-c", FIRST_COMMAND)
    cold = await python_json("-c", COLD_PARSE)
    return [
        Row(
            "4. Time phrase parse, median / p99 (warm)",
            f"{median(times) * 1000:.1f} / {percentile(times, 0.99) * 1000:.1f} ms",
            "median < 5 ms",
            median(times) < 0.005,
        ),
        Row(
            "4. First /post after start (warm-up done at start)",
            f"{first['first'] * 1000:.0f} ms",
            "well under 3 s",
            first["first"] < 1.0,
        ),
        Row(
            "4. First phrase in a process without warm-up",
            f"{cold['cold'] * 1000:.0f} ms",
            "what the warm-up saves",
            None,
        ),
    ]
