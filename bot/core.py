"""The one entry point every adapter calls: `await core.handle(command) -> Reply`.

It routes a neutral Command to its handler and is the error boundary: a BotError becomes its user message, and
anything else is logged with its traceback and becomes a fixed apology, so no stack trace reaches a chat.
"""

from __future__ import annotations

import asyncio
import difflib
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime

from bot import manage, posting, preferences, queue
from bot.context import Context, time_limit
from bot.dates import parse_when
from bot.errors import BadCommand, BotError, NotSetUp, OutOfTime
from bot.model import Caller, Command, Place, PostDraft, PostForm, Reply
from bot.outbox import Messenger
from bot.texts import COMMANDS, clip, help_text

logger = logging.getLogger(__name__)

GENERIC_ERROR = "Sorry, something went wrong on my side and nothing was changed. Please try again."
SANDBOX_PREFIX = "[sandbox] "

MAX_ARGUMENTS = 500
# One limit for all of a command's work, downloads included: well inside the 15 minutes a Discord interaction
# token lives (and Slack's 30-minute response_url), so the answer can still reach the person who asked.
COMMAND_TIME_LIMIT = 10 * 60.0
# Commands that send nothing to Infinipost until the limit can no longer cut them short.
_SENDING = frozenset({"post", "confirm"})
# Control characters (but tab and newline) that would be stored, sent to Infinipost and echoed into terminals.
_UNPRINTABLE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")

Handler = Callable[[Context, Command], Awaitable[Reply]]


def readable(text: str) -> str:
    """Text as it can be stored and shown: no control characters, and no lone surrogates (from broken input)."""
    return _UNPRINTABLE.sub("", text.encode("utf-8", "replace").decode("utf-8"))


def _readable_draft(draft: PostDraft | None) -> PostDraft | None:
    if draft is None:
        return None
    return replace(
        draft,
        media=tuple(map(readable, draft.media)),
        accounts=tuple(map(readable, draft.accounts)),
        when=(readable(draft.when) or "?") if draft.when else draft.when,  # nothing readable is no time, not "now"
        sound_url=readable(draft.sound_url) if draft.sound_url else draft.sound_url,
        caption=readable(draft.caption) if draft.caption else draft.caption,
    )


async def _help(ctx: Context, command: Command) -> Reply:
    return Reply(text=help_text(command.text))


def _answer(*, yes: bool) -> Handler:
    """The handler of a yes or no button, by the question it answers: a `/cancel`'s or a preview's."""

    async def answer(ctx: Context, command: Command) -> Reply:
        if command.text.strip().startswith(manage.CANCEL_PREFIX):
            return await (manage.confirm_cancel if yes else manage.keep)(ctx, command)
        return await (posting.confirm if yes else posting.discard)(ctx, command)

    return answer


HANDLERS: dict[str, Handler] = {
    "post": posting.post,
    "posts": queue.list_posts,
    "cancel": manage.cancel,
    "reschedule": manage.reschedule,
    "accounts": preferences.accounts,
    "timezone": preferences.timezone,
    "help": _help,
    # Not typed by people: the yes and no buttons of a preview, or of a `/cancel` of several posts.
    "confirm": _answer(yes=True),
    "discard": _answer(yes=False),
}
assert set(COMMANDS) <= set(HANDLERS)


class Core:
    """The platform-neutral bot."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def attach(self, platform: str, messenger: Messenger) -> None:
        """A chat platform can deliver its notices from now on: those left waiting for it (by a restart) go now."""
        self.ctx.outbox.register(platform, messenger)

    def detach(self, platform: str) -> None:
        """A chat platform is stopping: its notices wait in the database for the next start."""
        self.ctx.outbox.messengers.pop(platform, None)

    async def handle(self, command: Command) -> Reply:
        name = command.name.lower().lstrip("/")
        handler = HANDLERS.get(name)
        command = replace(command, text=readable(command.text), draft=_readable_draft(command.draft))
        refused = self.refusal(command.caller.place)
        if refused is not None:
            return refused
        try:
            if handler is None:
                raise _unknown(command.name)
            if name != "post" and len(command.text) > MAX_ARGUMENTS:  # /post has its own, larger limit
                raise BadCommand(f"That is {len(command.text):,} characters; `/{name}` takes at most {MAX_ARGUMENTS}.")
            reply = await self._within_time_limit(handler, command, name)
        except BotError as exc:
            logger.info("/%s refused: %s", command.name, type(exc).__name__)
            reply = Reply(text=exc.user_message, error=True)
        except Exception:
            logger.exception("/%s failed", command.name)
            reply = Reply(text=GENERIC_ERROR, error=True)
        if self.ctx.sandbox:
            reply = replace(reply, text=SANDBOX_PREFIX + reply.text, sandbox=True)
        return reply

    async def _within_time_limit(self, handler: Handler, command: Command, name: str) -> Reply:
        limit: asyncio.Timeout | None = None
        try:
            async with time_limit(COMMAND_TIME_LIMIT) as limit:
                return await handler(self.ctx, command)
        except TimeoutError as exc:
            if limit is None or not limit.expired():
                raise
            logger.warning("/%s outlasted the %g-second limit and was stopped", name, COMMAND_TIME_LIMIT)
            after = (
                "Nothing was sent; send it again (links are quicker than uploads)."
                if name in _SENDING
                else "`/posts` shows where things stand."
            )
            seconds = COMMAND_TIME_LIMIT
            limit_text = f"{seconds / 60:g} minutes" if seconds >= 60 else f"{seconds:g} seconds"
            raise OutOfTime(f"That took longer than {limit_text}, so I stopped it. {after}") from exc

    def refusal(self, place: Place) -> Reply | None:
        """The one answer for a place the operator did not name; None where the bot serves. Adapters ask this
        first, so that such a request gets that sentence and nothing else: no choices, no form, no preview."""
        if self.ctx.places.serves(place):
            return None
        return Reply(text=NotSetUp.default_message, error=True)

    async def time_problem(self, caller: Caller, phrase: str) -> str | None:
        """What is wrong with a form's time phrase, to show beside the field before the form closes; None if it
        reads (or is empty: now)."""
        if not self.ctx.places.serves(caller.place):
            return NotSetUp.default_message
        if not phrase.strip():
            return None
        try:
            parse_when(readable(phrase), now=self.ctx.clock(), tz=await self.ctx.zone_of(caller), locale=caller.locale)
        except BotError as exc:
            return exc.user_message
        return None

    async def first_sighting(self, key: str, *, until: datetime, now: datetime) -> bool:
        """Whether a one-time key (a signed request's signature) is seen for the first time. It is remembered in
        the database until `until`, so that a request replayed after a restart is refused too."""
        return await self.ctx.storage.once_keys.remember(key, until=until, now=now)

    async def post_form(self, caller: Caller) -> PostForm:
        """The accounts a /post form offers in the caller's channel. Raises BotError with a user message."""
        if not self.ctx.places.serves(caller.place):
            raise NotSetUp()
        try:
            return await posting.form(self.ctx, caller)
        except BotError:
            raise
        except Exception as exc:
            logger.exception("building the /post form failed")
            raise BotError(GENERIC_ERROR) from exc


def _unknown(name: str) -> BadCommand:
    """`/pots`, `\\post`: the command most likely meant, else /help."""
    meant = name.lower().lstrip("\\/")
    if meant not in HANDLERS:
        meant = next(iter(difflib.get_close_matches(meant, COMMANDS, n=1, cutoff=0.75)), "")
    shown = clip(name.replace("`", "'"), 30)
    return BadCommand(f"I don't know `/{shown}`." + (f" Did you mean `/{meant}`?" if meant else " Try /help."))
