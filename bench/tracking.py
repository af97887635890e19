"""3. Tracking cost: one tracker round over 10,000 tracked posts of which 100 are due (`bench/tracking_cycle.py`
runs it in a process of its own, against the sandbox in another)."""

from __future__ import annotations

from bench.common import Row, python_json, sandbox_process


async def run() -> list[Row]:
    async with sandbox_process() as url:
        result = await python_json("-m", "bench.tracking_cycle", url)
    return [
        Row(
            "3. Tracker round, 10,000 tracked / 100 due: API requests",
            f"{result['requests']:.0f}",
            "≈ 100 (due posts), not 10,000",
            result["requests"] <= 110,
        ),
        Row(
            "3. Tracker round: CPU / wall time",
            f"{result['cpu']:.2f} s / {result['wall']:.2f} s",
            "< 1 s wall",
            result["wall"] < 1.0,
        ),
        Row("3. Tracker process peak memory", f"{result['peak_mb']:.0f} MB", "< 150 MB", result["peak_mb"] < 150),
    ]
