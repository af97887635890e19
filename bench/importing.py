"""9. `/import` of a 500-row CSV file through the core, against the sandbox in its own process over loopback: the
preview (every row checked as a /post) and the whole batch once confirmed, each row its own stored request."""

from __future__ import annotations

import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from app.runtime import start_runtime
from bench.common import Row, sandbox_process
from bot.config import Settings
from bot.model import Caller, Command

ROWS = 500
PREVIEW_TARGET = 3.0  # seconds
BATCH_TARGET = 10.0


def sheet(rows: int) -> str:
    """What a spreadsheet saves: a BOM, semicolons, a time per row, two accounts taking turns."""
    start = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(days=1)
    lines = ["media;accounts;when;caption"]
    for n in range(rows):
        when = (start + timedelta(minutes=20 * n)).strftime("%Y-%m-%d %H:%M UTC")
        lines.append(f"https://cdn.example.com/{n}.mp4;{'acc_1' if n % 2 else 'acc_123'};{when};Post {n} #bench")
    return "\ufeff" + "\r\n".join(lines) + "\r\n"


async def run() -> list[Row]:
    async with sandbox_process() as url:
        with tempfile.TemporaryDirectory() as folder:
            work = Path(folder)
            path = work / "posts.csv"
            path.write_text(sheet(ROWS), encoding="utf-8")
            settings = Settings(
                _env_file=None,
                api_key="sk_test_bench",
                api_url=url,
                database=work / "bot.db",
                media_dir=work / "media",
                default_timezone="UTC",
            )
            async with start_runtime(settings, workers=False) as runtime:
                caller = Caller(
                    platform="bench",
                    workspace_id="T",
                    channel_id="C",
                    user_id="U",
                    display_name="bench",
                    local_files=True,
                )
                runtime.ctx.places.allow("bench", workspaces=["T"])
                started = time.perf_counter()
                preview = await runtime.core.handle(Command(name="import", caller=caller, text=str(path)))
                previewed = time.perf_counter() - started
                if preview.error or preview.confirm_token is None:
                    raise RuntimeError(preview.text)
                started = time.perf_counter()
                done = await runtime.core.handle(Command(name="confirm", caller=caller, text=preview.confirm_token))
                batch = time.perf_counter() - started
                if done.error or f"{ROWS} of {ROWS} posts scheduled" not in done.text:
                    raise RuntimeError(done.text)
    return [
        Row(f"9. /import of {ROWS} rows: preview", f"{previewed:.2f} s", f"< {PREVIEW_TARGET:g} s", previewed < 3),
        Row(
            f"9. /import of {ROWS} rows: the batch sent, once confirmed",
            f"{batch:.2f} s ({ROWS / batch:.0f} rows/s)",
            f"< {BATCH_TARGET:g} s",
            batch < BATCH_TARGET,
        ),
    ]
