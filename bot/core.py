"""The one entry point every adapter calls: `await core.handle(command) -> Reply`, and the little else they ask.

It routes a neutral Command to its handler, admits only so many at once, and is the error boundary: a BotError
becomes its user message, and anything else is logged with its traceback and becomes a fixed apology, so no
stack trace reaches a chat. Adapters that fail outside a command answer through the same `failure_reply`.

What adapters use, and nothing else: `attach`, `grant_channel_access`, `detach`, `handle`, `refusal`, `post_form`,
`time_problem`, `first_sighting`, `first_submission`, `serve`, `zone_of`, `said`, `deliver_notices`,
`failure_reply`, `decision_refusal`, `calendar_home`, `asks_for_key` and `key_form_refusal`.
"""

from __future__ import annotations

import asyncio
import contextlib
import difflib
import logging
import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot import approvals, approve, connecting, editing, importing, manage, posting, preferences, queue, slots
from bot.api import MAX_IN_FLIGHT
from bot.calendar import command as calendar_command
from bot.calendar import digest
from bot.calendar.home import HomeView, home
from bot.context import Context, time_limit
from bot.dates import parse_when
from bot.errors import BadCommand, BotError, NotSetUp, OutOfTime, StorageError
from bot.metrics import UNKNOWN_COMMAND, CommandOutcome
from bot.model import Caller, Command, Place, PostDraft, PostForm, Reply
from bot.outbox import Messenger
from bot.platform import ChannelAccess
from bot.records import Installation
from bot.recurrence import read_recurrence, rule_in
from bot.sealing import Sealer
from bot.slots import says_next_slot
from bot.texts import COMMANDS, GENERIC_ERROR, SANDBOX_PREFIX, clip, help_text

logger = logging.getLogger(__name__)


MAX_ARGUMENTS = 500
# Commands that take more: /post and /edit (checked by the grammar), an approver's note or reason (and its `#N`).
_LONGER = {"post": None, "edit": None, "changes": approvals.MAX_NOTE + 30, "reject": approvals.MAX_NOTE + 30}
# One limit for all of a command's work, downloads included: well inside the 15 minutes a Discord interaction
# token lives (and Slack's 30-minute response_url), so the answer can still reach the person who asked.
COMMAND_TIME_LIMIT = 10 * 60.0
# Commands that send nothing to Infinipost until the limit can no longer cut them short.
_SENDING = frozenset({"post", "confirm", "approve", "edit"})
# Control characters (but tab and newline) that would be stored, sent to Infinipost and echoed into terminals.
_UNPRINTABLE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# How long a sent form is remembered, so that a second Submit (after a slow answer, or a restart) posts nothing.
FORM_MEMORY = timedelta(days=1)
FORM_CHECK_BUDGET = 1.0  # seconds, of the three a platform gives to answer a form's submission
ACCEPT_BUDGET = 1.0  # seconds, of the three a platform gives to acknowledge a command, to keep a /post first

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
    """The handler of a yes or no button, by the question it answers: a `/cancel`'s, an import's or a preview's."""

    async def answer(ctx: Context, command: Command) -> Reply:
        if command.text.strip().startswith(manage.CANCEL_PREFIX):
            return await (manage.confirm_cancel if yes else manage.keep)(ctx, command)
        if command.text.strip().startswith(importing.IMPORT_PREFIX):
            return await (importing.confirm_import if yes else importing.discard_import)(ctx, command)
        return await (posting.confirm if yes else posting.discard)(ctx, command)

    return answer


HANDLERS: dict[str, Handler] = {
    "post": posting.post,
    "posts": queue.list_posts,
    "cancel": manage.cancel,
    "reschedule": manage.reschedule,
    "accounts": preferences.accounts,
    "timezone": preferences.timezone,
    "infinipost": connecting.infinipost,
    "approvals": approvals.approvals,
    "approve": approve.approve,
    "changes": approvals.request_changes,
    "reject": approvals.reject,
    "edit": editing.edit,
    "calendar": calendar_command.calendar,
    "digest": digest.digest,
    "slots": slots.slots,
    "import": importing.import_posts,
    "help": _help,
    # Not typed by people: the yes and no buttons of a preview, or of a `/cancel` of several posts.
    "confirm": _answer(yes=True),
    "discard": _answer(yes=False),
}
assert set(COMMANDS) <= set(HANDLERS)


class Core:
    """The platform-neutral bot.

    Args:
        ctx: what the handlers need.
        max_in_flight: commands worked on at once, on every platform together; more wait their turn, so that a
            burst of work cannot starve the adapters' acknowledgements. As many as the Infinipost client has calls
            in flight: more could only queue there.
    """

    def __init__(self, ctx: Context, *, max_in_flight: int = MAX_IN_FLIGHT) -> None:
        self.ctx = ctx
        self._admission = asyncio.Semaphore(max_in_flight)
        self._late: set[asyncio.Future[None]] = set()  # accepted commands written after their budget, being forgotten

    def attach(self, platform: str, messenger: Messenger) -> None:
        """A chat platform can deliver its notices from now on: those left waiting for it (by a restart) go now."""
        self.ctx.outbox.register(platform, messenger)

    def grant_channel_access(self, platform: str, access: ChannelAccess) -> None:
        """What the platform says of who may see which channel: the calendar shows nobody a post from a channel they
        may not see. A platform that registers none shows every channel to everyone (the console)."""
        self.ctx.channel_access[platform] = access

    def detach(self, platform: str) -> None:
        """A chat platform is stopping: its notices wait in the database for the next start."""
        self.ctx.outbox.messengers.pop(platform, None)

    async def handle(self, command: Command) -> Reply:
        name = command.name.lower().lstrip("/")
        handler = HANDLERS.get(name)
        command = replace(command, text=readable(command.text), draft=_readable_draft(command.draft))
        counted = name if handler is not None else UNKNOWN_COMMAND
        refused = self.refusal(command.caller.place)
        if refused is not None:
            if command.accepted_id is not None:
                await self._forget(command.accepted_id)
            self.ctx.metrics.command_handled(counted, "refused")
            return refused
        outcome: CommandOutcome = "ok"
        try:
            if handler is None:
                raise _unknown(command.name)
            limit = _LONGER.get(name, MAX_ARGUMENTS)
            if limit is not None and len(command.text) > limit:
                raise BadCommand(f"That is {len(command.text):,} characters; `/{name}` takes at most {limit:,}.")
            if name == "post":  # kept from now on, so that a replica that dies with it in hand leaves a trace
                async with posting.accepted(self.ctx, command) as kept:
                    reply = await self._within_time_limit(handler, kept, name)
            else:
                reply = await self._within_time_limit(handler, command, name)
        except Exception as exc:
            reply = self.failure_reply(exc, during=f"/{command.name}")
            outcome = "refused" if isinstance(exc, BotError) else "failed"
        else:
            if reply.error:  # told why it could not be done, without an exception (a create Infinipost refused)
                outcome = "refused"
        self.ctx.metrics.command_handled(counted, outcome)
        return self._marked(reply)

    async def _within_time_limit(self, handler: Handler, command: Command, name: str) -> Reply:
        limit: asyncio.Timeout | None = None
        try:
            async with time_limit(COMMAND_TIME_LIMIT) as limit, self._admission:
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

    @staticmethod
    def failure_reply(error: Exception, *, during: str) -> Reply:
        """The one answer to a failure, for the core and for adapters that fail outside a command: a BotError's
        own words; anything else is a bug, logged with its traceback and answered with a fixed apology.

        Args:
            error: what was raised.
            during: what was being done, for the log (`/post`, `a Slack listener`).
        """
        if isinstance(error, BotError):
            logger.info("%s refused: %s", during, type(error).__name__)
            return Reply(text=error.user_message, error=True)
        logger.error("%s failed", during, exc_info=error)
        return Reply(text=GENERIC_ERROR, error=True)

    def _marked(self, reply: Reply) -> Reply:
        if self.ctx.sandbox:
            return replace(reply, text=SANDBOX_PREFIX + reply.text, sandbox=True)
        return reply

    async def calendar_home(self, caller: Caller, *, with_link: bool = True) -> HomeView:
        """A person's overview of the next two weeks, for a platform's home tab (`with_link`: with a signed link to
        their calendar page, which costs more to make). StorageError (a BotError) if the database cannot be read;
        the place must be served (`refusal` first)."""
        return await home(self.ctx, caller, with_link=with_link)

    async def decision_refusal(self, caller: Caller, request_id: int, *, action: str) -> Reply | None:
        """Before a form asks an approver for a note (Request changes, Reject): the refusal to show instead, if
        they may not decide on that request now (not an approver, or it was decided); None if they may. Never
        raises: what cannot be checked now is checked again when the form is sent."""
        refused = self.refusal(caller.place)
        if refused is not None:
            return refused
        try:
            reason = await approvals.decision_refusal(self.ctx, caller, request_id, action=action)
        except Exception:
            logger.warning("could not check a decision before its form; the form's answer will", exc_info=True)
            return None
        return self._marked(Reply(text=reason, error=True)) if reason else None

    def said(self, text: str) -> str:
        """A sentence of an adapter's own, marked as the core's replies are when nothing is really posted."""
        return (SANDBOX_PREFIX if self.ctx.sandbox else "") + text

    def refusal(self, place: Place) -> Reply | None:
        """The one answer for a place the operator did not name; None where the bot serves. Adapters ask this
        first, so that such a request gets that sentence and nothing else: no choices, no form, no preview."""
        if self.ctx.places.serves(place):
            return None
        return Reply(text=NotSetUp.default_message, error=True)

    def serve(self, platform: str, *, workspaces: Iterable[str] = (), organizations: Iterable[str] = ()) -> None:
        """Serve these workspaces (servers) or whole organizations of a platform, as the operator set them up."""
        self.ctx.places.allow(platform, workspaces=workspaces, organizations=organizations)

    async def install(self, installation: Installation) -> None:
        """Keep a workspace's (or organization's) install of the app, its record sealed with BOT_ENCRYPTION_KEY,
        and serve it from now on."""
        sealed = replace(installation, record=self._sealer().seal(installation.record))
        await self.ctx.storage.installations.save(sealed)
        self._serve_installed(installation)

    async def installation(self, platform: str, *, workspace_id: str, organization_id: str) -> Installation | None:
        """The install of exactly this place, its record opened."""
        found = await self.ctx.storage.installations.find(
            platform, workspace_id=workspace_id, organization_id=organization_id
        )
        return replace(found, record=self._sealer().open(found.record)) if found else None

    async def uninstall(self, platform: str, *, workspace_id: str, organization_id: str) -> None:
        """Forget an install; its place is refused again."""
        installations = self.ctx.storage.installations
        await installations.delete(platform, workspace_id=workspace_id, organization_id=organization_id)
        if workspace_id:
            self.ctx.places.withdraw(platform, workspaces=[workspace_id])
        else:
            self.ctx.places.withdraw(platform, organizations=[organization_id])

    async def serve_if_installed(self, place: Place) -> None:
        """Serve a place not served yet if the database has its install (or its organization's): another replica
        on the same database may have installed it since this one started, and its `install` served it there
        only."""
        if self.ctx.places.covers(place):
            return
        installations = self.ctx.storage.installations
        organization = place.organization_id or ""
        found = await installations.find(place.platform, workspace_id=place.workspace_id, organization_id=organization)
        if found is None and organization:
            found = await installations.find(place.platform, workspace_id="", organization_id=organization)
        if found is not None:
            self._serve_installed(found)

    async def serve_installed(self, platform: str) -> int:
        """At start-up: serve every place that installed the app on this platform; how many there are."""
        installed = await self.ctx.storage.installations.all(platform)
        for installation in installed:
            self._serve_installed(installation)
        return len(installed)

    def _serve_installed(self, installation: Installation) -> None:
        if installation.workspace_id:
            self.serve(installation.platform, workspaces=[installation.workspace_id])
        else:
            self.serve(installation.platform, organizations=[installation.organization_id])

    def _sealer(self) -> Sealer:
        key = self.ctx.settings.encryption_key
        if key is None:
            raise NotSetUp("BOT_ENCRYPTION_KEY is not set: installs cannot be kept.")
        return Sealer(key.get_secret_value())

    async def time_problem(self, caller: Caller, phrase: str) -> str | None:
        """What is wrong with a form's time phrase, to show beside the field before the form closes; None if it
        reads (or is empty: now)."""
        if not self.ctx.places.serves(caller.place):
            return NotSetUp.default_message
        if not phrase.strip() or says_next_slot(phrase):  # a slot is found (and claimed) when the form is sent
            return None
        tz = await self.ctx.zone_of(caller)
        try:
            rule = rule_in(readable(phrase))
            if rule is not None:  # a recurring post's rule
                read_recurrence(rule, tz=tz, now=self.ctx.clock())
                return None
            parse_when(readable(phrase), now=self.ctx.clock(), tz=tz, locale=caller.locale)
        except BotError as exc:
            return exc.user_message
        return None

    async def first_sighting(self, key: str, *, until: datetime, now: datetime) -> bool:
        """Whether a one-time key (a signed request's signature) is seen for the first time. It is remembered in
        the database until `until`, so that a request replayed after a restart is refused too."""
        return await self.ctx.storage.once_keys.remember(key, until=until, now=now)

    async def accept(self, caller: Caller, text: str) -> int | None:
        """Keep a `/post` (its text) before the platform is told it arrived, so that a replica that dies before it
        is handled leaves a trace, and its author is told it was not sent; pass the number it returns on in the
        Command (`accepted_id`). Asked while the platform's seconds to answer run: it never takes longer than
        ACCEPT_BUDGET and never raises; None: `handle` keeps the command itself (a moment later)."""
        keeping = asyncio.ensure_future(posting.accept(self.ctx, caller, text))
        try:
            async with asyncio.timeout(ACCEPT_BUDGET):
                return await asyncio.shield(keeping)
        except TimeoutError:
            # It may still be written: then it is forgotten once written, not left for recovery to report.
            keeping.add_done_callback(self._forget_late)
        except Exception:
            logger.warning("could not keep a command before answering; handling it without", exc_info=True)
        return None

    def _forget_late(self, keeping: asyncio.Future[int]) -> None:
        if not keeping.cancelled() and keeping.exception() is None:
            forgetting = asyncio.ensure_future(self._forget(keeping.result()))
            self._late.add(forgetting)  # held until done: the loop keeps only a weak reference to a task
            forgetting.add_done_callback(self._late.discard)

    async def _forget(self, accepted_id: int) -> None:
        with contextlib.suppress(StorageError):
            await self.ctx.storage.requests.drop_received(accepted_id)

    async def first_submission(self, form: str) -> bool:
        """Whether a form (by the platform's ID of it, with the platform's name) is submitted for the first time.
        Only then is it sent on: a second Submit of the same form, also after a restart, posts nothing.

        Asked while the platform's three seconds to answer the submission run, so it never takes longer than
        FORM_CHECK_BUDGET and never raises: a form that cannot be checked in time counts as new (a missed double
        Submit is better than a lost post)."""
        # Counted on the wall clock, as every one-time key is (a Slack signature's lifetime is): keys counted on
        # two clocks in one store would expire each other.
        now = datetime.now(UTC)
        try:
            async with asyncio.timeout(FORM_CHECK_BUDGET):
                return await self.ctx.storage.once_keys.remember(f"form:{form}", until=now + FORM_MEMORY, now=now)
        except Exception:
            logger.warning("could not check whether a form was sent already; sending it", exc_info=True)
            return True

    @staticmethod
    def asks_for_key(name: str, text: str) -> bool:
        """Whether a command is `/infinipost connect` alone, which adapters answer with a private form (a prompt
        in the console) for the key, then send on as `Command(name="infinipost", text="connect", secret=key)`.
        A key typed in the command itself goes to `handle`, which refuses it without saying it back."""
        return connecting.asks_for_key(name, text)

    def key_form_refusal(self, caller: Caller) -> Reply | None:
        """Why the caller may not be shown the key form here (a place not served, not an admin, no
        BOT_ENCRYPTION_KEY), as the reply to give instead; None: show it."""
        refused = self.refusal(caller.place)
        if refused is not None:
            return refused
        try:
            connecting.connect_refusal(self.ctx, caller)
        except BotError as exc:
            return self._marked(self.failure_reply(exc, during="/infinipost connect"))
        return None

    async def post_form(self, caller: Caller) -> PostForm:
        """The accounts a /post form offers in the caller's channel. Raises BotError with a user message."""
        if not self.ctx.places.serves(caller.place):
            raise NotSetUp()
        try:
            return await posting.form(self.ctx, caller)
        except BotError:
            raise
        except Exception as exc:
            raise BotError(self.failure_reply(exc, during="building the /post form").text) from exc

    async def zone_of(self, caller: Caller) -> ZoneInfo:
        """The zone the caller's times are read and shown in."""
        return await self.ctx.zone_of(caller)

    async def deliver_notices(self) -> None:
        """Deliver the channel notices that are due now, rather than at the outbox worker's next round."""
        await self.ctx.outbox.flush()


def _unknown(name: str) -> BadCommand:
    """`/pots`, `\\post`: the command most likely meant, else /help."""
    meant = name.lower().lstrip("\\/")
    if meant not in HANDLERS:
        meant = next(iter(difflib.get_close_matches(meant, COMMANDS, n=1, cutoff=0.75)), "")
    shown = clip(name.replace("`", "'"), 30)
    return BadCommand(f"I don't know `/{shown}`." + (f" Did you mean `/{meant}`?" if meant else " Try /help."))
