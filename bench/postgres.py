"""PostgreSQL for the benchmarks: a scratch database per measure on the server at BENCH_POSTGRES_URL (default
postgresql://postgres@127.0.0.1:5432/test), dropped afterwards. When no server answers there, the PostgreSQL rows
are skipped and the table says so."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

from bench.common import Row

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"


def server_url() -> str:
    """The server's URL as asyncpg takes it (no `+asyncpg` in the scheme)."""
    url = make_url(os.environ.get("BENCH_POSTGRES_URL") or DEFAULT_URL)
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


async def reachable() -> bool:
    try:
        connection = await asyncpg.connect(server_url(), timeout=3)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    await connection.close()
    return True


def skipped(measure: str) -> Row:
    where = make_url(server_url()).render_as_string(hide_password=True)
    return Row(f"{measure} (PostgreSQL)", f"skipped: no PostgreSQL at {where} (set BENCH_POSTGRES_URL)", "—", None)


@asynccontextmanager
async def scratch_database() -> AsyncIterator[str]:
    """A new, empty database on the server; yields its URL and drops it afterwards, whoever is still connected."""
    name = f"bench_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(server_url())
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield make_url(server_url()).set(database=name).render_as_string(hide_password=False)
        finally:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def connections_by_pid(database_url: str, pids: list[int]) -> dict[int, int]:
    """How many backends in pg_stat_activity each of `pids` holds on the database: each backend's client port is
    matched to the process whose socket has it (Linux /proc)."""
    url = make_url(database_url)
    connection = await asyncpg.connect(database_url)
    try:
        rows = await connection.fetch(
            "SELECT client_port FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", url.database
        )
    finally:
        await connection.close()
    ports = {int(row["client_port"]) for row in rows if row["client_port"] is not None}
    return _holding(ports, url.port or 5432, pids)


def _holding(ports: set[int], server_port: int, pids: list[int]) -> dict[int, int]:
    """How many sockets each process has from one of the local `ports` to the server's port."""
    inode_port: dict[str, int] = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local, remote = (int(end.rsplit(":", 1)[1], 16) for end in fields[1:3])
            if local in ports and remote == server_port:
                inode_port[fields[9]] = local
    counts = {}
    for pid in pids:
        held = 0
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            held += target.startswith("socket:[") and target[8:-1] in inode_port
        counts[pid] = held
    return counts
