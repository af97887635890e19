"""Shared by the benchmarks: percentiles, resident memory, and a result row."""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.processes import clean_env, free_port


@dataclass(frozen=True)
class Row:
    """One line of the results table."""

    name: str
    value: str
    target: str
    met: bool | None  # None: informational, no target


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds >= 0.01 else f"{seconds * 1000:.2f} ms"


async def python_json(*argv: str) -> dict[str, float]:
    """Run `python ARGV...` in a fresh process and return the JSON object it prints last."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, *argv, env=clean_env(), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await process.communicate()
    if process.returncode:
        raise RuntimeError(err.decode())
    result: dict[str, float] = json.loads(out.decode().strip().splitlines()[-1])
    return result


@asynccontextmanager
async def sandbox_process() -> AsyncIterator[str]:
    """`infinipost-bot sandbox` in a process of its own; yields its API URL."""
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "app",
        "sandbox",
        "--port",
        str(port),
        env=clean_env(),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/v1"
    try:
        async with httpx.AsyncClient() as http:
            for _ in range(200):
                try:
                    await http.get(f"{url}/accounts", headers={"Authorization": "Bearer sk_test_bench"})
                    break
                except httpx.TransportError:
                    await asyncio.sleep(0.05)
            else:
                raise RuntimeError("the sandbox never came up")
        yield url
    finally:
        process.terminate()
        await process.wait()
