"""What a `/post` asks, checked completely before anything is stored: media (links and uploads, their kind and
count), caption, sound, time and accounts, and then the uploads fetched, checked by their bytes and re-hosted."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path, PurePosixPath
from typing import Literal
from zoneinfo import ZoneInfo

from bot.accounts import describe_known, resolve_accounts
from bot.context import Context
from bot.dates import parse_when
from bot.errors import BadCommand, NotAllowed
from bot.grammar import USAGE
from bot.links import parse_link
from bot.media import Rehosted
from bot.model import (
    CONTENT_TYPES,
    LOCAL_FILES,
    SLIDE_SECONDS,
    Account,
    Attachment,
    Caller,
    Command,
    ContentType,
    PostDraft,
    PostRequest,
)
from bot.slots import next_free, says_next_slot
from bot.texts import clip

MAX_CAPTION = 2200  # TikTok's caption limit, the tighter of the two platforms
MAX_SLIDES = 35
UPLOADS_AT_ONCE = 3  # fetched side by side: ten uploads of a slideshow need not wait on each other
VIDEO_EXTENSIONS = {".mp4", ".mov", ".m4v", ".webm"}
IMAGE_EXTENSIONS = {".jpg", ".jpeg", ".png", ".webp"}

MediaKind = Literal["video", "image"]


@dataclass(frozen=True, kw_only=True)
class Checked:
    """A draft checked against everything that can be known before its uploads are fetched."""

    draft: PostDraft
    items: tuple[str | Attachment, ...]  # links and uploads, in the order given
    named: tuple[MediaKind | None, ...]  # what each is by its name or MIME type
    accounts: tuple[Account, ...]
    scheduled: datetime | None
    slot: bool = False  # the time is the channel's next free posting slot

    @property
    def uploads(self) -> tuple[Attachment, ...]:
        return tuple(item for item in self.items if isinstance(item, Attachment))

    def as_received(self) -> PostRequest:
        """The request as received, before its uploads are fetched: each upload is named by its file name."""
        try:
            content_type = _content_type(self.draft, self.named)
        except BadCommand:  # only the bytes can tell
            content_type = "video" if len(self.items) == 1 else "slideshow"
        return PostRequest(
            accounts=self.accounts,
            content_type=content_type,
            media_urls=tuple(item if isinstance(item, str) else item.filename for item in self.items),
            caption=self.draft.caption or None,
            sound_url=self.draft.sound_url,
            slide_duration=self.draft.slides,
            scheduled_time=self.scheduled,
        )


async def check(ctx: Context, draft: PostDraft, *, command: Command, tz: ZoneInfo) -> Checked:
    """Check a draft against everything known before any upload is fetched; raise a UsageError if it is wrong."""
    _check_choices(draft)
    items = _media_items(draft, command)
    named = [_kind(item) for item in items]  # by extension or MIME type
    # An upload whose name and MIME type say nothing is decided by its bytes, once downloaded.
    if not any(kind is None and isinstance(item, Attachment) for item, kind in zip(items, named, strict=True)):
        check_slides(draft, _content_type(draft, named))
    if draft.caption and len(draft.caption) > MAX_CAPTION:
        raise BadCommand(f"The caption is {len(draft.caption):,} characters; the limit is {MAX_CAPTION:,}.")
    if draft.sound_url:
        parse_link(draft.sound_url)
    slot = says_next_slot(draft.when)
    scheduled = None
    if draft.when and not slot:
        scheduled = parse_when(draft.when, now=ctx.clock(), tz=tz, locale=command.caller.locale)
    accounts = await accounts_for(ctx, draft, command.caller)
    if slot:  # last: the slot is claimed for these accounts once all else is known to be right
        scheduled = await next_free(ctx, command.caller, [a.id for a in accounts])
    return Checked(
        draft=draft, items=tuple(items), named=tuple(named), accounts=accounts, scheduled=scheduled, slot=slot
    )


async def with_uploads(ctx: Context, checked: Checked) -> PostRequest:
    """The checked request with its uploads fetched, checked by their bytes and re-hosted, a few at a time."""
    draft = checked.draft
    until = (checked.scheduled or ctx.clock()) + timedelta(hours=ctx.settings.media_link_hours)
    gate = asyncio.Semaphore(UPLOADS_AT_ONCE)

    async def rehost(upload: Attachment) -> Rehosted:
        async with gate:
            return await ctx.media.rehost(upload, until=until)

    fetching = [asyncio.ensure_future(rehost(upload)) for upload in checked.uploads]
    try:
        rehosted = iter(await asyncio.gather(*fetching))
    finally:
        for task in fetching:  # one refused: the others need not finish
            task.cancel()
        await asyncio.gather(*fetching, return_exceptions=True)
    urls: list[str] = []
    keys: list[str] = []  # the stored upload behind each URL; "" for a link given as it is
    kinds: list[MediaKind | None] = []
    for item in checked.items:
        if isinstance(item, str):
            urls.append(item)
            keys.append("")
            kinds.append(media_kind(item))
            continue
        upload = next(rehosted)
        urls.append(upload.url)
        keys.append(upload.key)
        kinds.append(upload.kind)
    content_type = _content_type(draft, kinds)  # from the bytes of uploads, which may differ from their names
    check_slides(draft, content_type)
    return PostRequest(
        accounts=checked.accounts,
        content_type=content_type,
        media_urls=tuple(urls),
        caption=draft.caption or None,
        sound_url=draft.sound_url,
        slide_duration=draft.slides,
        scheduled_time=checked.scheduled,
        media_keys=tuple(keys),
    )


def _media_items(draft: PostDraft, command: Command) -> list[str | Attachment]:
    """Links (passed to Infinipost untouched, never fetched by the bot) and uploads, in the order given."""
    items: list[str | Attachment] = []
    for ref in draft.media:
        if command.caller.local_files and not re.match(r"^\w+:", ref):
            path = Path(ref).expanduser().resolve()
            items.append(Attachment(filename=path.name, url=path.as_uri(), source=LOCAL_FILES))
        else:
            items.append(parse_link(ref).url)
    items.extend(command.attachments)
    if not items:
        raise BadCommand(f"Give a link to a video or to images, or attach a file. {USAGE}")
    images = sum(1 for item in items if _kind(item) != "video")
    if images > MAX_SLIDES:
        raise BadCommand(f"A slideshow can have at most {MAX_SLIDES} images; you gave {images}.")
    return items


def _kind(item: str | Attachment) -> MediaKind | None:
    if isinstance(item, str):
        return media_kind(item)
    return media_kind(item.filename, item.content_type)


def _check_choices(draft: PostDraft) -> None:
    """What a form or typed options offer as a choice, checked again: a client may send anything."""
    if draft.slides is not None and draft.slides not in SLIDE_SECONDS:
        raise BadCommand(f"Each slide shows for 4, 6 or 8 seconds, not {draft.slides}.")
    if draft.content_type is not None and draft.content_type not in CONTENT_TYPES:
        raise BadCommand(f"The type is `video` or `slideshow`, not `{clip(str(draft.content_type), 40)}`.")


def check_slides(draft: PostDraft, content_type: ContentType) -> None:
    if draft.slides is not None and content_type != "slideshow":
        raise BadCommand("`slides` only applies to slideshows (several images).")


def _content_type(draft: PostDraft, kinds: Sequence[MediaKind | None]) -> ContentType:
    videos, images = kinds.count("video"), kinds.count("image")
    if videos and images:
        raise BadCommand("A post is either one video or a slideshow of images, not both.")
    if videos > 1 or (draft.content_type == "video" and len(kinds) > 1):
        raise BadCommand("A post can carry one video. Send each video as its own /post.")
    inferred: ContentType | None = "video" if videos else ("slideshow" if images else None)
    if draft.content_type and inferred and draft.content_type != inferred:
        raise BadCommand(f"You said `{draft.content_type}`, but the media look like a {inferred}.")
    chosen = draft.content_type or inferred
    if chosen is None:
        if len(kinds) > 1:
            return "slideshow"
        raise BadCommand("I can't tell from the link whether it is a video or an image. Add `video` or `slideshow`.")
    return chosen


def media_kind(name: str, content_type: str | None = None) -> MediaKind | None:
    """Video or image, from a MIME type when there is one, else from the file extension."""
    if content_type:
        if content_type.startswith("video/"):
            return "video"
        if content_type.startswith("image/"):
            return "image"
    path = name.partition("?")[0].partition("#")[0]  # a link's query or fragment says nothing of its type
    suffix = PurePosixPath(path).suffix.lower()
    if suffix in VIDEO_EXTENSIONS:
        return "video"
    if suffix in IMAGE_EXTENSIONS:
        return "image"
    return None


async def accounts_for(ctx: Context, draft: PostDraft, caller: Caller) -> tuple[Account, ...]:
    settings = await ctx.storage.preferences.channel_settings(caller.channel)
    known = await (await ctx.infinipost(caller)).accounts.all()
    names = draft.accounts or settings.default_accounts
    if not names:
        raise BadCommand(
            "Say which accounts to post to, e.g. `to acc_123`: this channel has no default accounts "
            f"(an admin can set them with `/accounts default ...`). {describe_known(known)}"
        )
    aliases = await ctx.storage.preferences.aliases(caller.platform, caller.workspace_id)
    accounts = resolve_accounts(names, known=known, aliases=aliases, caption_given=draft.caption is not None)
    refused = [a for a in accounts if not settings.allows(a.id)]
    if refused:
        raise NotAllowed(
            f"This channel may not post to {', '.join(a.label for a in refused)}. "
            f"It may post to: {', '.join(f'`{a}`' for a in settings.allowed_accounts or ()) or 'no account'}."
        )
    return accounts
