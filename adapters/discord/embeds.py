"""Discord messages out: core replies as content or embeds, and channel notices as an embed.

Discord's limits are enforced here, once: message content 2,000 characters; an embed's title 256, description
4,096, 25 fields of 1,024 (names 256), and 6,000 characters across all embeds of a message.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import discord

from bot.model import Reply
from bot.notices import Notice, NoticeKind, Style, render
from bot.texts import clip

CONTENT_LIMIT = 2000
TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
FIELD_NAME_LIMIT = 256
FIELD_VALUE_LIMIT = 1024
MAX_FIELDS = 25
TOTAL_LIMIT = 6000
MAX_EMBEDS = 10
INLINE_FIELD = 40  # values up to this long sit side by side

COLOUR = discord.Colour(0x5865F2)
ERROR_COLOUR = discord.Colour(0xED4245)
WARNING_COLOUR = discord.Colour(0xFEE75C)
_NOTICE_COLOURS = {
    NoticeKind.SCHEDULED: COLOUR,
    NoticeKind.UPDATED: COLOUR,
    NoticeKind.POSTED: discord.Colour(0x57F287),
    NoticeKind.FAILED: ERROR_COLOUR,
    NoticeKind.DELAYED: WARNING_COLOUR,
    NoticeKind.ADOPTED: COLOUR,
    NoticeKind.NOT_CREATED: ERROR_COLOUR,
    NoticeKind.NOT_SENT: ERROR_COLOUR,
    NoticeKind.NOT_HANDLED: ERROR_COLOUR,
    NoticeKind.SEND_INTERRUPTED: WARNING_COLOUR,
    NoticeKind.UNCLEAR: WARNING_COLOUR,
    NoticeKind.MISSING: WARNING_COLOUR,
}


def timestamp(instant: datetime) -> str:
    """A time every reader sees in their own zone: the full date and time, then how far away it is."""
    unix = int(instant.timestamp())
    return f"<t:{unix}:F> (<t:{unix}:R>)"


def escape(text: str) -> str:
    """User-supplied text as literal text: no markdown, and no @everyone, @here, role or user mention."""
    return discord.utils.escape_mentions(discord.utils.escape_markdown(text))


DISCORD_STYLE = Style(
    time=timestamp,
    mention=lambda user_id, _name: f"<@{user_id}>",
    text=escape,
    group=lambda role_id, _name: f"<@&{role_id}>",
    link=lambda guild_id, channel_id, message_id, label: (
        f"[{label}](https://discord.com/channels/{guild_id}/{channel_id}/{message_id})"
    ),
)


@dataclass(frozen=True)
class Rendered:
    """What one Discord message carries: `content`, `embeds`, and whom it may notify."""

    content: str | None
    embeds: list[discord.Embed] = field(default_factory=list)
    mentions: discord.AllowedMentions = field(default_factory=discord.AllowedMentions.none)


def reply_message(reply: Reply) -> Rendered:
    """A core reply: its facts as embed fields when it has some, a week of the calendar under its heading, else its
    text (as embeds when too long)."""
    colour = ERROR_COLOUR if reply.error else COLOUR
    if reply.calendar is not None:
        head, _, rest = reply.text.partition("\n")
        title = clip(head, TITLE_LIMIT)
        parts = line_parts(rest, budget=TOTAL_LIMIT - len(title))
        embeds = [discord.Embed(description=part, colour=colour) for part in parts]
        embeds[0].title = title
        return Rendered(content=None, embeds=embeds)
    if reply.fields:
        head = reply.text.split("\n", 1)[0]
        embed = discord.Embed(title=clip(head, TITLE_LIMIT), colour=colour)
        budget = TOTAL_LIMIT - len(embed.title or "")
        for name, value in reply.fields[:MAX_FIELDS]:
            name, value = clip(name, FIELD_NAME_LIMIT), clip(value or "—", FIELD_VALUE_LIMIT)
            if len(name) + len(value) > budget:
                break
            budget -= len(name) + len(value)
            embed.add_field(name=name, value=value, inline=len(value) <= INLINE_FIELD)
        return Rendered(content=None, embeds=[embed])
    if len(reply.text) <= CONTENT_LIMIT:
        return Rendered(content=reply.text)
    return Rendered(
        content=None, embeds=[discord.Embed(description=part, colour=colour) for part in _parts(reply.text)]
    )


def _parts(text: str) -> list[str]:
    """Long text cut at line ends into embed descriptions, within the per-message total."""
    text = clip(text, TOTAL_LIMIT)
    parts: list[str] = []
    current = ""
    for line in text.split("\n"):
        if current and len(current) + 1 + len(line) > DESCRIPTION_LIMIT:
            parts.append(current)
            current = ""
        current = f"{current}\n{line}" if current else clip(line, DESCRIPTION_LIMIT)
    parts.append(current)
    return parts


def line_parts(text: str, *, budget: int) -> list[str]:
    """Text cut at line ends into embed descriptions: each within Discord's 4,096 characters, at most 10 of them,
    and `budget` characters in all. What does not fit is left out, from the end, and a last line says how much."""
    lines = [clip(line, DESCRIPTION_LIMIT) for line in text.split("\n")]

    def kept(count: int) -> list[str]:
        left_out = len(lines) - count
        more = [f"… and {left_out} more line{'s' if left_out != 1 else ''}"] if left_out else []
        return _packed(lines[:count] + more)

    def fits(parts: list[str]) -> bool:
        return len(parts) <= MAX_EMBEDS and sum(map(len, parts)) <= budget

    if fits(whole := kept(len(lines))):
        return whole
    low, high = 0, len(lines) - 1  # the most lines that fit with the last line after them: found by halving
    while low < high:
        middle = (low + high + 1) // 2
        if fits(kept(middle)):
            low = middle
        else:
            high = middle - 1
    return kept(low)


def _packed(lines: list[str]) -> list[str]:
    """Lines (each within the limit) joined into as few descriptions as the limit allows, in order."""
    parts: list[str] = []
    current: list[str] = []
    size = 0
    for line in lines:
        if current and size + 1 + len(line) > DESCRIPTION_LIMIT:
            parts.append("\n".join(current))
            current, size = [], 0
        size += len(line) + (1 if current else 0)
        current.append(line)
    parts.append("\n".join(current))
    return parts


def notice_marker(ids: Sequence[int]) -> str:
    """The footer that names the outbox notices a message carries, so that they can be found after a crash."""
    return "ref " + " ".join(f"n{i}" for i in sorted(ids))


def notice_message(notices: Sequence[Notice], ids: Sequence[int] = ()) -> Rendered:
    """A channel notice: its text in an embed, times as Discord timestamps. Only its authors and the approvers it
    asks to act may be notified, never @everyone, and never anyone a caption names."""
    first = notices[0]
    footer = notice_marker(ids) if ids else ""
    colour = _NOTICE_COLOURS.get(first.kind, COLOUR)
    # A long text (a week's digest) goes on in further embeds, cut at line ends within the message's total.
    parts = line_parts(render(notices, DISCORD_STYLE), budget=TOTAL_LIMIT - len(footer))
    embeds = [discord.Embed(description=part, colour=colour) for part in parts]
    if footer:
        embeds[-1].set_footer(text=footer)
    authors = sorted({n.author_id for n in notices if n.author_id.isdigit()})
    # Embeds never notify anyone: whoever a notice speaks to is also named in the content. That is the author of
    # a notice that asks them to act, and the approvers (people or roles) of one that asks them to.
    pinged = [a for a in authors if any(n.author_id == a and n.kind.speaks_to_author for n in notices)]
    approvers = {(a.kind, a.id): a for n in notices for a in n.approvers_to_notify if a.id.isdigit()}
    people = sorted({a.id for a in approvers.values() if a.kind == "user"} - set(pinged), key=int)
    roles = sorted((a.id for a in approvers.values() if a.kind == "group"), key=int)
    mentions = discord.AllowedMentions(
        everyone=False,
        roles=[discord.Object(id=int(r)) for r in roles] or False,
        replied_user=False,
        users=[discord.Object(id=int(u)) for u in sorted({*authors, *people}, key=int)],
    )
    named = [DISCORD_STYLE.mention(u, "") for u in (*pinged, *people)] + [DISCORD_STYLE.group(r, "") for r in roles]
    return Rendered(content=" ".join(named) or None, embeds=embeds, mentions=mentions)
