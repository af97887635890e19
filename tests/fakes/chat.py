"""An in-memory chat platform, so that core tests read like a conversation."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.core import Core
from bot.model import Caller, ChannelRef, Command, MessageRef, PostDraft, Reply
from bot.notices import Notice, Style, render

PLATFORM = "memory"


@dataclass
class Delivered:
    """A message the fake channel shows: new, in a thread, or an edit of an earlier one."""

    channel: str
    text: str
    notices: list[Notice]
    thread: str | None = None
    edits: str | None = None
    ids: list[int] = field(default_factory=list)


@dataclass
class MemoryMessenger:
    min_interval: float = 0.0
    messages: list[Delivered] = field(default_factory=list)
    warnings: list[tuple[str, str]] = field(default_factory=list)
    style: Style = field(
        default_factory=lambda: Style(time=lambda t: t.strftime("%Y-%m-%dT%H:%MZ"), mention=lambda i, n: f"<@{i}>")
    )

    async def send(
        self, channel: ChannelRef, notices: Sequence[Notice], *, thread: MessageRef | None, ids: Sequence[int]
    ) -> MessageRef:
        self.messages.append(
            Delivered(
                channel.channel_id,
                render(notices, self.style),
                list(notices),
                thread=thread.message_id if thread else None,
                ids=list(ids),
            )
        )
        return MessageRef(channel_id=channel.channel_id, message_id=f"m{len(self.messages)}")

    async def find(self, channel: ChannelRef, notice_id: int, *, thread: MessageRef | None) -> MessageRef | None:
        """Like a platform's search: the thread's replies when a thread is named, then the channel's messages."""
        places = [thread.message_id, None] if thread else [None]
        for place in places:
            for number, message in enumerate(self.messages, start=1):
                here = message.channel == channel.channel_id and message.thread == place and not message.edits
                if here and notice_id in message.ids:
                    return MessageRef(channel_id=channel.channel_id, message_id=f"m{number}")
        return None

    async def warn_author(self, channel: ChannelRef, notice: Notice, problem: str) -> None:
        self.warnings.append((notice.author_id, problem))

    async def edit(self, ref: MessageRef, notice: Notice, *, channel: ChannelRef) -> None:
        self.messages.append(Delivered(ref.channel_id, render([notice], self.style), [notice], edits=ref.message_id))


class ChatHarness:
    """`await chat.say("/post ...")` returns the core's reply; `chat.channel` holds the notices delivered."""

    def __init__(self, core: Core) -> None:
        self.core = core
        core.serve(PLATFORM, workspaces=["T1"])
        self.messenger = MemoryMessenger()
        core.attach(PLATFORM, self.messenger)

    def caller(self, user: str = "U1", *, channel: str = "C1", **extra: Any) -> Caller:
        values: dict[str, Any] = {
            "platform": PLATFORM,
            "workspace_id": "T1",
            "channel_id": channel,
            "user_id": user,
            "display_name": f"user-{user}",
            "is_admin": False,
        }
        values.update(extra)
        return Caller(**values)

    async def say(self, line: str, *, caller: Caller | None = None, draft: PostDraft | None = None) -> Reply:
        name, _, rest = line.lstrip("/").partition(" ")
        reply = await self.core.handle(
            Command(name=name, text=rest.strip(), caller=caller or self.caller(), draft=draft)
        )
        await self.core.deliver_notices()
        return reply

    @property
    def caller_channel(self) -> ChannelRef:
        return ChannelRef(platform=PLATFORM, workspace_id="T1", channel_id="C1")

    @property
    def channel(self) -> list[Delivered]:
        return self.messenger.messages
