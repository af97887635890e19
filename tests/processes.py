"""Running `infinipost-bot` as a real process in tests, as `make run` and CI would."""

from __future__ import annotations

import asyncio
import contextlib
import os
import resource
import signal
import socket
import sys
from pathlib import Path

import httpx

from tests.fakes.slack import BOT_TOKEN, SIGNING_SECRET

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def clean_env(**settings: str) -> dict[str, str]:
    """The machine's environment without any bot setting, on a UTC clock (not the developer's), plus `settings`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "SLACK_", "DISCORD_", "INFINIPOST_"))}
    env["PYTHONPATH"] = str(ROOT)
    env["TZ"] = "UTC"
    env.update(settings)
    return env


async def run_until_exit(
    cwd: Path, *args: str, env: dict[str, str], stdin: bytes = b"", timeout: float = 60
) -> tuple[int, str, str]:
    """`python -m app <args>` until it exits by itself, as at a start-up that must stop: (exit code, stdout,
    stderr)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "app", *args, cwd=cwd, env=env,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        out, err = await asyncio.wait_for(process.communicate(stdin), timeout)
    finally:
        if process.returncode is None:  # it hangs: SIGKILL, as it may not heed SIGTERM
            process.kill()
            await process.wait()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


class BotProcess:
    """`python -m app run` in `cwd`, its HTTP port answering before `start()` returns."""

    def __init__(self, cwd: Path, port: int, *, open_files: int | None = None, **settings: str) -> None:
        """`open_files`: the process's limit on open files (its soft and hard RLIMIT_NOFILE), as on a host."""
        self.cwd, self.port = cwd, port
        self.open_files = open_files
        self.env = clean_env(BOT_HTTP_HOST="127.0.0.1", BOT_HTTP_PORT=str(port), **settings)
        self.process: asyncio.subprocess.Process | None = None
        self._log = bytearray()  # stderr, read as it comes: a chatty bot must not block on a full pipe
        self._reading: asyncio.Task[None] | None = None

    @property
    def stderr(self) -> bytes:
        """What the bot has written to stderr so far (all of it, once it has exited)."""
        return bytes(self._log)

    async def _read_stderr(self) -> None:
        assert self.process is not None
        assert self.process.stderr is not None
        while chunk := await self.process.stderr.read(1 << 16):
            self._log += chunk

    async def _exited(self) -> None:
        assert self.process is not None
        assert self._reading is not None
        await self.process.wait()
        await self._reading

    async def start(self) -> BotProcess:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "app",
            "run",
            cwd=self.cwd,
            env=self.env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
            preexec_fn=self._limit_open_files if self.open_files else None,
        )
        self._reading = asyncio.create_task(self._read_stderr())
        async with httpx.AsyncClient() as http:
            for _ in range(300):
                if self.process.returncode is not None:
                    await self._exited()
                    raise AssertionError(
                        f"the bot exited with {self.process.returncode}: {self.stderr.decode()[-2000:]}"
                    )
                try:
                    if (await http.get(f"http://127.0.0.1:{self.port}/healthz")).status_code == 200:
                        return self
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.05)
        raise AssertionError("the bot never answered /healthz")

    @classmethod
    def on_slack(
        cls,
        cwd: Path,
        *,
        slack_api_url: str,
        api_url: str | None = None,
        port: int | None = None,
        open_files: int | None = None,
        **settings: str,
    ) -> BotProcess:
        """The bot in Slack's HTTP mode against a Slack double, and against the Infinipost at `api_url` (None:
        its built-in sandbox)."""
        if api_url is not None:
            settings = {"INFINIPOST_API_KEY": "sk_test_process", "INFINIPOST_API_URL": api_url, **settings}
        return cls(
            cwd,
            port or free_port(),
            open_files=open_files,
            SLACK_BOT_TOKEN=BOT_TOKEN,
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            SLACK_API_URL=slack_api_url,
            **settings,
        )

    def _limit_open_files(self) -> None:
        assert self.open_files is not None
        resource.setrlimit(resource.RLIMIT_NOFILE, (self.open_files, self.open_files))

    async def kill(self) -> None:
        """SIGKILL: no clean-up, as in a crash or an out-of-memory kill."""
        assert self.process is not None
        self.process.kill()
        await self._exited()

    async def stop(self) -> int:
        assert self.process is not None
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(self._exited(), 20)
        assert self.process.returncode is not None
        return self.process.returncode


# Attacks on the bot's HTTP server, for the tests and the benchmark.
SLOW_HEADERS = b"POST /slack/events HTTP/1.1\r\nHost: bot\r\nX-Slow: "  # never finished
SLOW_BODY = b"POST /slack/events HTTP/1.1\r\nHost: bot\r\nContent-Length: 4000\r\n\r\ncommand=/po"  # 3,989 to come


async def open_slow_connections(port: int, count: int) -> list[asyncio.StreamWriter]:
    """`count` connections that never finish their request: half stop in the headers, half in the body."""
    writers = []
    for n in range(count):
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        writers.append(writer)
        writer.write(SLOW_HEADERS if n % 2 else SLOW_BODY)
        await writer.drain()
    return writers


async def post_oversized_bodies(port: int, *, count: int, megabytes: int = 10, at_once: int = 50) -> None:
    """`count` unauthenticated POSTs of `megabytes` each, `at_once` at a time, each sent whole unless the bot
    closes the connection first."""
    gate = asyncio.Semaphore(at_once)
    head = b"POST /slack/events HTTP/1.1\r\nHost: bot\r\nContent-Length: %d\r\n\r\n" % (megabytes * 1024 * 1024)
    megabyte = b"a" * 1024 * 1024

    async def post() -> None:
        async with gate:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            try:
                writer.write(head)
                for _ in range(megabytes):
                    writer.write(megabyte)
                    await writer.drain()
                await reader.read()
            except ConnectionError:
                pass  # refused: the bot closed the connection rather than take the body
            finally:
                writer.close()
                with contextlib.suppress(ConnectionError):
                    await writer.wait_closed()

    await asyncio.gather(*(post() for _ in range(count)))


def rss_mb(pid: int) -> float:
    """Resident memory of a process, from /proc (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")
