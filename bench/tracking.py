"""3. Tracking cost: one tracker round over 1,000,000 tracked posts of which 100 are due, on SQLite and on
PostgreSQL when the server at BENCH_POSTGRES_URL answers (`bench/tracking_cycle.py` runs it in a process of its
own, against the sandbox in another)."""

from __future__ import annotations

from bench import postgres
from bench.common import Row, python_json, sandbox_process
from bench.tracking_cycle import TRACKED


def _rows(result: dict[str, float], database: str) -> list[Row]:
    return [
        Row(
            f"3. Tracker round, {TRACKED:,} tracked / 100 due ({database}): API requests",
            f"{result['requests']:.0f}",
            "100 (the due posts), not one per tracked post",
            result["requests"] == 100,
        ),
        Row(
            f"3. Tracker round ({database}): CPU / wall time",
            f"{result['cpu']:.2f} s / {result['wall']:.2f} s",
            "< 1 s wall",
            result["wall"] < 1.0,
        ),
        Row(
            f"3. Tracker process peak memory ({database})",
            f"{result['peak_mb']:.0f} MB",
            "< 150 MB",
            result["peak_mb"] < 150,
        ),
        Row(
            f"3. Next check time over {TRACKED:,} tracked ({database})",
            f"{result['next_check_s'] * 1000:.1f} ms",
            "informational",
            None,
        ),
    ]


async def run() -> list[Row]:
    async with sandbox_process() as url:
        rows = _rows(await python_json("-m", "bench.tracking_cycle", url), "SQLite")
        if not await postgres.reachable():
            return [*rows, postgres.skipped("3. Tracker round")]
        async with postgres.scratch_database() as database:
            rows += _rows(await python_json("-m", "bench.tracking_cycle", url, database), "PostgreSQL")
    return rows
