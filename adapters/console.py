"""The console adapter: chat with the bot in a terminal, or script it through standard input.

One channel. Lines are commands (`/post ...`, or without the slash); `yes` / `no` (or `ok`, `send`, `cancel`, ...)
answer the last preview, and `\n` in a line is a line break (for captions on several lines). `/as <name>` types as
someone else from then on (an approver, say), `/as` alone as yourself again: people here are named by plain names.
`/infinipost connect` asks for the key on the next line (read without echo at a terminal). Channel notices are
printed as they are delivered. A file an answer carries (`/posts export`) is written under the data directory
(`data/exports/`), and its path printed.
"""

from __future__ import annotations

import asyncio
import getpass
import logging
import re
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TextIO
from zoneinfo import ZoneInfo

from bot.core import Core
from bot.dates import format_local
from bot.model import PREVIEW_LABELS, Caller, ChannelRef, Command, MessageRef, Reply, ReplyFile
from bot.notices import Notice, Style, render
from bot.texts import COMMANDS, KEY_NOT_GIVEN, KEY_PROMPT, NOTHING_TO_ANSWER, answers_for, still_waiting

logger = logging.getLogger(__name__)

PLATFORM = "console"
_YES = {"yes", "y", "ok", "okay", "sure", "send", "send it", "go", "confirm", "schedule"}
_NO = {"no", "n", "cancel", "cancel it", "drop", "stop"}
_QUIT = {"quit", "exit", "/quit", "/exit"}
_PERSON = re.compile(r"[\w.\-]{1,40}")


def console_caller(*, machine_zone: str | None = None) -> Caller:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "you"
    return Caller(
        platform=PLATFORM,
        workspace_id="local",
        channel_id="console",
        user_id=user,
        display_name=user,
        is_admin=True,
        profile_timezone=machine_zone,  # the terminal's "profile": the clock of the machine it runs on
        profile_timezone_source="this machine's zone",
        local_files=True,  # the person at this terminal may post files from this disk
        plain_names=True,
    )


class ConsoleMessenger:
    """Prints channel notices, as the channel would show them."""

    min_interval = 0.0

    def __init__(self, out: TextIO, zone: Callable[[], Awaitable[ZoneInfo]]) -> None:
        self._out = out
        self._zone = zone
        self._sent = 0

    async def _style(self) -> Style:
        tz = await self._zone()
        return Style(
            time=lambda t: format_local(t, tz),
            mention=lambda _id, name: f"@{name}",
            group=lambda _id, name: f"@{name} (group)",
        )

    async def send(
        self, channel: ChannelRef, notices: Sequence[Notice], *, thread: MessageRef | None, ids: Sequence[int]
    ) -> MessageRef:
        self._sent += 1
        prefix = f"  ↳ in thread of message {thread.message_id}: " if thread else f"📣 #{channel.channel_id}: "
        self._print(prefix + render(notices, await self._style()))
        return MessageRef(channel_id=channel.channel_id, message_id=str(self._sent))

    async def edit(self, ref: MessageRef, notice: Notice, *, channel: ChannelRef) -> None:
        self._print(f"✏️  message {ref.message_id} now reads: " + render([notice], await self._style()))

    async def find(self, channel: ChannelRef, notice_id: int, *, thread: MessageRef | None) -> MessageRef | None:
        return None  # a terminal keeps no history to look in

    async def warn_author(self, channel: ChannelRef, notice: Notice, problem: str) -> None:
        self._print(f"⚠️  request #{notice.request_id} could not be announced: {problem}")

    def _print(self, text: str) -> None:
        print(text, file=self._out, flush=True)


class ConsoleAdapter:
    """Reads commands line by line and prints the core's replies."""

    def __init__(
        self,
        core: Core,
        *,
        out: TextIO = sys.stdout,
        interactive: bool = False,
        machine_zone: str | None = None,
        read_secret: Callable[[], Awaitable[str]] | None = None,
        exports_dir: Path = Path("data") / "exports",
    ) -> None:
        """`read_secret`: how a key is read after `/infinipost connect` (default: as the next line).
        `exports_dir`: where the files answers carry are written (the data directory's `exports`)."""
        self.core = core
        self._exports_dir = exports_dir
        self._read_secret = read_secret
        self._awaiting_key = False
        self.caller = self.operator = console_caller(machine_zone=machine_zone)
        core.serve(PLATFORM, workspaces=[self.caller.workspace_id])  # the operator's own terminal
        self._out = out
        self._interactive = interactive
        self._pending_token: str | None = None
        self._pending_labels = PREVIEW_LABELS
        self.messenger = ConsoleMessenger(out, lambda: core.zone_of(self.caller))
        core.attach(PLATFORM, self.messenger)

    async def run(self, read_line: Callable[[], Awaitable[str]]) -> None:
        """Handle lines until end of input or `quit`, then deliver what is still due."""
        while True:
            if self._interactive:
                print("> ", end="", file=self._out, flush=True)
            if self._awaiting_key and self._read_secret is not None:
                line = await self._read_secret() + "\n"  # an empty key is not the end of input
            else:
                line = await read_line()
            if not line or (not self._awaiting_key and line.strip().lower() in _QUIT):
                break
            await self.handle_line(line)
        await self.core.deliver_notices()

    async def handle_line(self, line: str) -> Reply | None:
        if self._awaiting_key:
            return await self._connect(line)
        command = self.to_command(line)
        if command is None:
            return None
        if command.name == "as":
            self._switch(command.text)
            return None
        if self.core.asks_for_key(command.name, command.text):
            refused = self.core.key_form_refusal(self.caller)
            if refused is not None:
                self.render(refused)
                return refused
            self._awaiting_key = True
            self._note(KEY_PROMPT)
            return None
        earlier, earlier_kind = self._pending_token, self._waiting()
        reply = await self.core.handle(command)
        if reply.confirm_token and earlier:
            # Only the newest question can be answered here, so the one it replaces is dropped, and said to be.
            self._pending_token = None
            await self.core.handle(Command(name="discard", caller=self.caller, text=earlier))
            self._note(f"(The earlier {earlier_kind} was dropped; this one replaces it.)")
        self.render(reply)
        if reply.file is not None:
            path = await asyncio.to_thread(self._save, reply.file)
            print(f"📎 {reply.file.name} is saved as {path}", file=self._out, flush=True)
        await self.core.deliver_notices()  # notices right after the reply that caused them
        return reply

    def _save(self, file: ReplyFile) -> Path:
        """Write a file an answer carries under `exports_dir`, never over an earlier one (`name-2.csv` then)."""
        self._exports_dir.mkdir(parents=True, exist_ok=True)
        name = Path(file.name).name  # a name, never a path out of the folder
        for attempt in range(1, 1000):
            path = self._exports_dir / (name if attempt == 1 else f"{Path(name).stem}-{attempt}{Path(name).suffix}")
            try:
                with path.open("xb") as out:
                    out.write(file.content)
            except FileExistsError:
                continue
            return path
        raise FileExistsError(f"no free name for {file.name} in {self._exports_dir}")

    def _switch(self, name: str) -> None:
        """`/as <name>`: who types from now on, with the operator's rights; `/as` alone: the operator again."""
        name = name.strip().lstrip("@")
        if not name or name == self.operator.user_id:
            self.caller = self.operator
        elif not _PERSON.fullmatch(name):
            self._note("A name is one word of letters, digits, `.`, `_` or `-`: `/as alice`.")
            return
        else:
            self.caller = replace(self.operator, user_id=name, display_name=name)
        self._note(f"You are typing as {self.caller.display_name} now.")

    async def _connect(self, line: str) -> Reply | None:
        """The line after `/infinipost connect`: the key, sent to the core as a secret and never printed."""
        self._awaiting_key = False
        key = line.strip()
        if not key:
            self._note(KEY_NOT_GIVEN)
            return None
        reply = await self.core.handle(Command(name="infinipost", text="connect", caller=self.caller, secret=key))
        self.render(reply)
        return reply

    def to_command(self, line: str) -> Command | None:
        text = line.strip()
        if not text:
            return None
        answer = text.lower().strip(" .!").removeprefix("/")  # `/ok` as well as `ok`
        if self._pending_token and answer in _YES | _NO:
            token, self._pending_token = self._pending_token, None
            name = "confirm" if answer in _YES else "discard"
            return Command(name=name, caller=self.caller, text=token)
        if answer in _YES | _NO and not (text.startswith("/") and answer in COMMANDS):  # `/cancel` is a command
            self._note(NOTHING_TO_ANSWER)
            return None
        # Any whitespace ends the command's name: a no-break space pasted from a web page as well.
        name, *rest = text.lstrip("/").split(maxsplit=1)
        if self._pending_token and name.lower() not in COMMANDS and name.lower() != "as":
            self._note(still_waiting(self._waiting(), self._answers()))
            return None
        # `\n` typed in a line is a line break: a terminal line cannot hold a real one.
        return Command(name=name.lower(), caller=self.caller, text="".join(rest).strip().replace("\\n", "\n"))

    def render(self, reply: Reply) -> None:
        print(reply.text, file=self._out, flush=True)
        if reply.confirm_token:
            self._pending_token, self._pending_labels = reply.confirm_token, reply.confirm_labels
            asking = "Send it? " if self._waiting() == "preview" else ""
            print(f"{asking}Type {self._answers()}.", file=self._out, flush=True)

    def _note(self, text: str) -> None:
        """A line of the console's own, marked as the core's replies are when nothing is really posted."""
        print(self.core.said(text), file=self._out, flush=True)

    def _waiting(self) -> str:
        return "preview" if self._pending_labels == PREVIEW_LABELS else "question"

    def _answers(self) -> str:
        return answers_for(None if self._waiting() == "preview" else self._pending_labels)


async def stdin_lines() -> str:
    """One line of standard input without blocking the event loop; '' at end of input."""
    return await asyncio.to_thread(sys.stdin.readline)


async def hidden_line() -> str:
    """One line typed at the terminal without echo, for a key (the prompt is printed already)."""
    try:
        return await asyncio.to_thread(getpass.getpass, "")
    except EOFError:
        return ""
