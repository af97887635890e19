"""Platform-neutral types that flow between the adapters and the core.

Raw Slack and Discord payloads never get past the adapters: they translate them into these small frozen types,
and render the core's replies and notices back out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Literal

ContentType = Literal["video", "slideshow"]
PREVIEW_LABELS = ("Schedule", "Cancel")  # the buttons under a /post preview
WARMUP_DAYS = 7  # Infinipost warms a new account up for a week before it posts
CONTENT_TYPES: tuple[ContentType, ...] = ("video", "slideshow")
SLIDE_SECONDS = (4, 6, 8)  # the seconds each image of a slideshow may be shown, as Infinipost takes them


class PostStatus(StrEnum):
    """A post's state as the bot tracks it; the first five are Infinipost's own words."""

    SCHEDULED = "scheduled"  # Infinipost says "scheduled" or "generated" for the same waiting state
    PENDING_RENDER = "pending_render"
    POSTED = "posted"
    FAILED = "failed"
    CANCELLED = "cancelled"  # deleted through the bot
    MISSING = "missing"  # Infinipost answers that it has no such post: not known to be cancelled by anyone
    UNKNOWN = "unknown"  # a status word Infinipost has not documented

    @classmethod
    def from_api(cls, value: object) -> PostStatus:
        if value in ("scheduled", "generated"):
            return cls.SCHEDULED
        try:
            return cls(str(value))
        except ValueError:
            return cls.UNKNOWN

    @property
    def is_final(self) -> bool:
        return self in (PostStatus.POSTED, PostStatus.FAILED, PostStatus.CANCELLED, PostStatus.MISSING)


@dataclass(frozen=True, kw_only=True)
class Place:
    """Where a request comes from: a Discord server or a Slack workspace, and the Enterprise Grid org around it."""

    platform: str
    workspace_id: str
    organization_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class Caller:
    """Who sent a command, and from where. `platform` is for storage and logs, never for branching."""

    platform: str
    workspace_id: str
    channel_id: str
    user_id: str
    display_name: str
    is_admin: bool = False
    # Named a poster as the platform's own settings say (a listed user or group, a role): on Slack everyone when
    # none are listed, on Discord nobody but admins. The default serves callers that are never asked (the console).
    is_poster: bool = True
    profile_timezone: str | None = None  # the platform's own idea of the user's zone, when it has one
    profile_timezone_source: str = "from your profile"  # where that zone comes from, as `/timezone` says it
    locale: str | None = None  # the user's language and region on the platform (`en-GB`): how they write dates
    local_files: bool = False  # may name files on the bot's own disk as media (the console's user only)
    organization_id: str | None = None  # the Enterprise Grid org of a Slack workspace
    # The Slack user groups or Discord roles the caller is in, as far as the adapter looked: who is an approver.
    groups: tuple[str, ...] = ()
    plain_names: bool = False  # people are named by plain names, not mentions (the console's users)

    @property
    def may_post(self) -> bool:
        """Who may schedule posts: an admin always, anyone else when named a poster."""
        return self.is_admin or self.is_poster

    @property
    def place(self) -> Place:
        return Place(platform=self.platform, workspace_id=self.workspace_id, organization_id=self.organization_id)

    @property
    def channel(self) -> ChannelRef:
        return ChannelRef(platform=self.platform, workspace_id=self.workspace_id, channel_id=self.channel_id)


@dataclass(frozen=True, kw_only=True)
class MediaSource:
    """Where an upload may be fetched from: the adapter's policy, applied by the core's downloader."""

    allowed_hosts: tuple[str, ...]  # "host", "host:port", or ".suffix" for every subdomain
    bearer_token: str | None = field(default=None, repr=False)
    token_hosts: tuple[str, ...] = ()  # hosts that may see the bearer token
    local_files: bool = False  # `file://` URLs on the bot's own disk


LOCAL_FILES = MediaSource(allowed_hosts=(), local_files=True)


@dataclass(frozen=True, kw_only=True)
class Attachment:
    """A file uploaded in chat. Data only: fetching it is the core's job, with the adapter's `source`."""

    filename: str
    url: str
    content_type: str | None = None
    size: int | None = None
    source: MediaSource | None = None


@dataclass(frozen=True, kw_only=True)
class PostDraft:
    """What a user asked to post, as typed: names and phrases not yet resolved or checked."""

    media: tuple[str, ...] = ()
    accounts: tuple[str, ...] = ()
    when: str | None = None  # a time phrase; None means "now"
    sound_url: str | None = None
    slides: int | None = None
    content_type: ContentType | None = None
    caption: str | None = None
    every: str | None = None  # how often a recurring post goes out: `monday 9am for 4 times`


@dataclass(frozen=True, kw_only=True)
class Command:
    """A command in neutral form. `draft` carries structured /post input from a form or typed options."""

    name: str
    caller: Caller
    text: str = ""
    attachments: tuple[Attachment, ...] = ()
    draft: PostDraft | None = None
    # A secret typed into a private form (`/infinipost connect`'s API key): never in `text`, never shown.
    secret: str | None = field(default=None, repr=False)
    # The stored request a /post was kept as when the core accepted it (bot/posting.py `accepted`).
    accepted_id: int | None = None


@dataclass(frozen=True, kw_only=True)
class Account:
    id: str
    platform: str
    name: str = ""
    username: str = ""
    status: str = "ready"
    warmup_day: int | None = None  # of Infinipost's 7-day warm-up; 0: not started

    @property
    def readiness(self) -> str:
        """What Infinipost says of the account, in words: `ready`, `warming up: day 3 of 7`..."""
        day = f": day {self.warmup_day} of {WARMUP_DAYS}" if self.warmup_day else ""
        return {
            "ready": "ready",
            "warming_up": f"warming up{day}",
            "created_pending_warmup": "created; its warm-up has not started",
            "pending_creation": "being created",
            "cancelled": "cancelled",
        }.get(self.status, f"not ready: {self.status}")

    @property
    def label(self) -> str:
        """How people recognise the account: its name and handle, then its platform."""
        name = self.name or self.username or self.id
        handle = f" (@{self.username})" if self.username and self.username != name else ""
        return f"{name}{handle} on {self.platform_label}"

    @property
    def platform_label(self) -> str:
        return {"tiktok": "TikTok", "instagram": "Instagram"}.get(self.platform, self.platform or "?")

    @property
    def is_ready(self) -> bool:
        return self.status == "ready"


@dataclass(frozen=True, kw_only=True)
class PostRequest:
    """A checked request, ready for `POST /v1/posts`. Times are aware and in UTC."""

    accounts: tuple[Account, ...]
    content_type: ContentType
    media_urls: tuple[str, ...]
    caption: str | None = None
    sound_url: str | None = None
    slide_duration: int | None = None
    scheduled_time: datetime | None = None
    media_keys: tuple[str, ...] = ()  # per media URL, the upload the bot re-hosts there ("" for a plain link)


@dataclass(frozen=True, kw_only=True)
class RemotePost:
    """One post as Infinipost describes it."""

    id: str
    account_id: str
    status: PostStatus
    platform: str = ""
    scheduled_time: datetime | None = None
    posted_at: datetime | None = None
    caption: str | None = None
    content_urls: tuple[str, ...] = ()
    raw_status: str = ""


@dataclass(frozen=True, kw_only=True)
class Reply:
    """The core's answer to a command.

    `text` is complete on its own (times already in the caller's zone). `fields` repeat the key facts for
    platforms that can lay them out; `confirm_token` asks the adapter to offer Schedule / Cancel buttons.
    """

    text: str
    ephemeral: bool = True
    error: bool = False
    title: str | None = None
    fields: tuple[tuple[str, str], ...] = ()
    confirm_token: str | None = None
    confirm_labels: tuple[str, str] = PREVIEW_LABELS  # the yes and no buttons under `confirm_token`
    sandbox: bool = False
    more: str | None = None  # `/posts` arguments that show the next page: adapters draw a More button
    calendar: CalendarControls | None = None  # a week of `/calendar`: adapters draw its buttons and filter
    file: ReplyFile | None = None  # a file the answer carries (`/posts export`): adapters attach it privately


@dataclass(frozen=True, kw_only=True)
class ReplyFile:
    """A file that goes with a reply, as bytes: each adapter delivers it its own way, to the person who asked."""

    name: str  # a file name, with its extension
    content: bytes = field(repr=False)
    content_type: str  # a MIME type: `text/csv`


@dataclass(frozen=True, kw_only=True)
class ChannelRef:
    """A chat channel the bot can write to."""

    platform: str
    workspace_id: str
    channel_id: str


@dataclass(frozen=True, kw_only=True)
class MessageRef:
    """A message the bot wrote, so it can be edited or replied to later (Slack `ts`, Discord message ID)."""

    channel_id: str
    message_id: str


@dataclass(frozen=True, kw_only=True)
class PostForm:
    """What a /post form offers: the accounts this channel may use, with its defaults preselected, and the
    workspace's aliases of those accounts."""

    accounts: tuple[Account, ...]
    defaults: tuple[str, ...]
    aliases: tuple[tuple[str, str], ...] = ()  # (alias, account ID)


@dataclass(frozen=True, kw_only=True)
class CalendarControls:
    """What a week of `/calendar` lets its reader do next: `/calendar` arguments for the weeks around it, and the
    accounts it can be narrowed to (`/calendar week <n> @<id>`)."""

    week: int  # the week shown: 0 is the coming one
    previous: str | None  # None at the edge of how far `/calendar` goes
    next: str | None
    accounts: tuple[tuple[str, str], ...]  # (account ID, label)
    account: str | None = None  # the account it shows, if narrowed
