"""`make bench`: run every benchmark, print one table, and write it to bench/results.md."""

from __future__ import annotations

import asyncio
import os
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path

from bench import attacks, importing, phrases, replicas, slack_ack, startup, throughput, tracking
from bench.common import Row

RESULTS = Path(__file__).with_name("results.md")
TITLE = "# Benchmark results\n\n`make bench` rewrites the table; the notes below it are kept."
NOTES = "<!-- notes -->"


def table(rows: list[Row]) -> str:
    lines = ["| Measure | Result | Target | Met |", "|---|---|---|---|"]
    for row in rows:
        met = "—" if row.met is None else ("yes" if row.met else "**no**")
        lines.append(f"| {row.name} | {row.value} | {row.target} | {met} |")
    return "\n".join(lines)


async def main() -> int:
    rows: list[Row] = []
    for name, bench in [
        ("ack", slack_ack.run),
        ("throughput", throughput.run),
        ("tracking", tracking.run),
        ("phrases", phrases.run),
        ("startup", startup.run),
        ("attacks", attacks.run),
        ("replicas", replicas.run),
        ("import", importing.run),
    ]:
        print(f"running {name}…", file=sys.stderr, flush=True)
        rows += await bench()
    header = (
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} CPU(s), "
        f"{platform.python_implementation()} {platform.python_version()}, {platform.machine()}."
    )
    text = table(rows)
    print(f"{header}\n\n{text}")
    old = RESULTS.read_text() if RESULTS.exists() else ""
    notes = old.split(NOTES, 1)[1] if NOTES in old else "\n"
    RESULTS.write_text(f"{TITLE}\n\n{header}\n\n{text}\n\n{NOTES}{notes}")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
