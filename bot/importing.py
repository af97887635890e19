"""`/import`: a CSV file of posts, each row checked as a `/post` would be, previewed as a whole, then sent row by
row once its author says yes.

    /import  (with a CSV file attached)        /import <path>  (the console: a file on this machine)

The preview counts the rows that will be sent, their accounts and time span, and names every refused row with its
reason; nothing is stored before the yes. Then each good row becomes its own request, stored before its create
call and sent in the file's order, under the same rule as any `/post`: a create whose outcome is unknown is never
repeated, and a look-alike of one is held back. A row Infinipost refuses is reported and the rest go on; a create
it does not confirm stops the batch, and the answer says which rows were sent, which is unknown and which were not
sent. The channel is told how far the import has got every PROGRESS_EVERY rows and when it is over, each time in
the same transaction as a row's outcome.
"""

from __future__ import annotations

import logging
import secrets
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.context import Context, run_to_the_end
from bot.dates import format_local
from bot.errors import BadCommand, NotAllowed, UsageError
from bot.exporting import existing_post
from bot.grammar import account_list, media_list
from bot.import_table import (
    EXAMPLE,
    MAX_BYTES,
    ImportPlan,
    PlannedRow,
    Row,
    TableRefused,
    is_csv,
    read_table,
)
from bot.model import LOCAL_FILES, Attachment, Caller, Command, PostDraft, PostRequest, Reply
from bot.notices import ImportProgress, Notice, NoticeKind
from bot.post_checks import check, with_uploads
from bot.posting import PREVIEW_LIFETIME, create, hold_back_look_alikes, store_request
from bot.records import NewNotice, RequestState, StoredRequest
from bot.texts import clip

logger = logging.getLogger(__name__)

IMPORT_PREFIX = "import-"  # what tells an import preview's token from a /post preview's
PROGRESS_EVERY = 50  # rows between two progress notices in the channel
SHOWN_REFUSALS = 20  # refused rows a preview or an answer names one by one
FIELD_REASON = 160  # of a refused row's reason, in the preview's field
FIELD_BUDGET = 900  # characters of that field: within Discord's 1,024, with room for the rows left out
USAGE = (
    "Attach a CSV file of posts to `/import` (on Slack: “Schedule as post” on the message that carries it, or the "
    "file field of the `/post` form), one row per post. " + EXAMPLE
)


@dataclass(frozen=True, kw_only=True)
class _Refused:
    number: int
    reason: str


async def import_posts(ctx: Context, command: Command) -> Reply:
    """`/import`: read the attached CSV file, check every row, and show the preview that asks to send them."""
    caller = command.caller
    if not caller.may_post:
        raise NotAllowed(
            "You are not allowed to schedule posts here. Ask an admin of this workspace or server for access."
        )
    upload = _the_file(command)
    data = await ctx.media.read(upload, max_bytes=MAX_BYTES, limit_name="the most an import takes")
    table = read_table(data, filename=upload.filename)
    if (await ctx.storage.preferences.channel_settings(caller.channel)).approval is not None:
        raise UsageError(
            "This channel's posts wait for approval, and an import cannot ask for it row by row yet. Send these "
            "posts with `/post`, or import them in a channel without approvals."
        )
    tz = await ctx.zone_of(caller)
    row_caller = replace(caller, local_files=False)  # rows hold links only, never paths on the bot's disk
    planned: list[PlannedRow] = []
    refused: list[_Refused] = []
    seen: dict[tuple[object, ...], int] = {}
    for row in table.rows:
        duplicate = await existing_post(ctx, row.cells)  # a re-imported export's row of a post that exists
        if duplicate is not None:
            refused.append(_Refused(number=row.number, reason=f"Not imported: {duplicate}"))
            continue
        try:
            draft = _draft(row)
            checked = await check(ctx, draft, command=Command(name="post", caller=row_caller, draft=draft), tz=tz)
            request = await with_uploads(ctx, checked)  # links only: nothing is fetched
        except UsageError as exc:
            refused.append(_Refused(number=row.number, reason=exc.user_message))
            continue
        same = _identity(request)
        if same in seen:
            refused.append(_Refused(number=row.number, reason=f"The same post as row {seen[same]}."))
            continue
        seen[same] = row.number
        planned.append(PlannedRow(number=row.number, draft=draft, request=request))
    if not planned:
        return Reply(
            text=f"Nothing in `{clip(upload.filename, 60)}` can be scheduled; nothing was sent.\n"
            + _refusals(refused, len(table.rows)),
            error=True,
        )
    token = IMPORT_PREFIX + secrets.token_urlsafe(12)
    ctx.imports[token] = ImportPlan(file=upload.filename, rows=tuple(planned), whose=_whose(caller), asked=ctx.clock())
    return _preview(upload.filename, planned, refused, total=len(table.rows), ignored=table.ignored, tz=tz, token=token)


async def confirm_import(ctx: Context, command: Command) -> Reply:
    """Schedule (or `yes`) under an import's preview: its good rows sent in order, each as its own request."""
    plan = _plan(ctx, command)
    caller = command.caller
    if (await ctx.storage.preferences.channel_settings(caller.channel)).approval is not None:
        raise UsageError(  # turned on while the preview waited: nothing goes out unapproved
            "This channel's posts now wait for approval, which an import cannot ask for row by row yet; nothing was "
            "sent. Send these posts with `/post`, or import them in a channel without approvals."
        )
    run_to_the_end()  # what follows reaches Infinipost, and is never cut short
    tz = await ctx.zone_of(caller)
    total = len(plan.rows)
    sent: list[tuple[int, int]] = []  # (row, request)
    refused: list[_Refused] = []
    for index, row in enumerate(plan.rows, start=1):
        now = ctx.clock()
        scheduled = row.request.scheduled_time
        if scheduled is not None and scheduled <= now:
            refused.append(_Refused(number=row.number, reason="Its time passed while the preview waited."))
            continue
        row_command = Command(name="post", caller=replace(caller, local_files=False), draft=row.draft)
        async with ctx.create_lock:
            try:
                await hold_back_look_alikes(ctx, row.request)
            except UsageError as exc:
                refused.append(_Refused(number=row.number, reason=exc.user_message))
                continue
            stored = await store_request(ctx, row_command, request=row.request, state=RequestState.SENDING)

        def progress(
            state: str, stored: StoredRequest = stored, index: int = index, row: PlannedRow = row
        ) -> list[NewNotice]:
            went = len(sent) + (state == RequestState.SENT)
            failed = len(refused) + (state == RequestState.FAILED)
            stopped = row.number if state in (RequestState.UNCONFIRMED, RequestState.SENDING) else None
            if index % PROGRESS_EVERY and index < total and stopped is None:
                return []
            status = ImportProgress(
                file=plan.file, done=index, total=total, sent=went, refused=failed, stopped_at=stopped
            )
            return [_progress_notice(ctx, stored, status)]

        outcome = await create(ctx, stored, caller=caller, tz=tz, also=progress)
        if outcome.state == RequestState.SENT:
            sent.append((row.number, stored.id))
        elif outcome.state == RequestState.FAILED:
            refused.append(_Refused(number=row.number, reason=outcome.reply.text))
        else:  # Infinipost may have created it: nothing more is sent until that is known
            ctx.outbox.wake()
            return _stopped(plan, sent, refused, unknown=(row.number, stored.id), after=plan.rows[index:])
    ctx.outbox.wake()
    return _finished(plan, sent, refused)


async def discard_import(ctx: Context, command: Command) -> Reply:
    """Cancel (or `no`) under an import's preview."""
    plan = _plan(ctx, command)
    return Reply(text=f"Dropped the import of `{clip(plan.file, 60)}`. Nothing was sent.")


def _the_file(command: Command) -> Attachment:
    """The CSV file to import: the one attached, or (for whoever may name this machine's files) a path."""
    uploads = command.attachments
    path = command.text.strip()
    if not uploads and path and command.caller.local_files:
        local = Path(path).expanduser().resolve()
        uploads = (Attachment(filename=local.name, url=local.as_uri(), source=LOCAL_FILES),)
    if not uploads:
        raise BadCommand(USAGE)
    if len(uploads) > 1:
        raise BadCommand(f"Attach one CSV file to `/import`; this has {len(uploads)} files.")
    upload = uploads[0]
    if not is_csv(upload.filename, upload.content_type):
        raise TableRefused(
            f"`{clip(upload.filename, 60)}` is not a CSV file. Save the sheet as “CSV UTF-8 (comma delimited)” and "
            "attach that."
        )
    return upload


def _draft(row: Row) -> PostDraft:
    """A row as a /post's draft: the same fields a form fills in."""
    cells = row.cells
    slides = cells.get("slides")
    if slides is not None and not (slides.isascii() and slides.isdigit() and len(slides) < 3):
        raise BadCommand(f"`slides` is 4, 6 or 8 (seconds per image), not `{clip(slides, 20)}`.")
    return PostDraft(
        media=media_list(cells.get("media", "")),
        accounts=account_list(cells["accounts"]) if "accounts" in cells else (),
        when=cells.get("when"),
        sound_url=cells.get("sound"),
        slides=int(slides) if slides is not None else None,
        caption=cells.get("caption"),
    )


def _identity(request: PostRequest) -> tuple[object, ...]:
    """What makes two rows the same post: sending both would post it twice."""
    return (
        tuple(sorted(a.id for a in request.accounts)),
        request.media_urls,
        request.caption,
        request.scheduled_time,
    )


def _plan(ctx: Context, command: Command) -> ImportPlan:
    """The preview a button names: only its author's, once, within its lifetime."""
    token = command.text.strip()
    plan = ctx.imports.get(token)
    if plan is None or ctx.clock() - plan.asked > PREVIEW_LIFETIME:
        ctx.imports.pop(token, None)
        raise UsageError("That import preview is no longer available; nothing was sent. Send `/import` again.")
    if plan.whose != _whose(command.caller):
        raise NotAllowed("Only the person who sent this import can confirm or cancel it.")
    del ctx.imports[token]
    return plan


def _whose(caller: Caller) -> tuple[str, str, str]:
    return (caller.platform, caller.workspace_id, caller.user_id)


def _preview(
    file: str,
    planned: Sequence[PlannedRow],
    refused: Sequence[_Refused],
    *,
    total: int,
    ignored: Sequence[str],
    tz: ZoneInfo,
    token: str,
) -> Reply:
    count = len(planned)
    accounts = Counter(a.label for row in planned for a in row.request.accounts)
    fields: list[tuple[str, str]] = [
        ("Posts", f"{count} of {total} row{'s' if total != 1 else ''}, each its own request, sent in the file's order"),
        ("Accounts", ", ".join(f"{label}: {n}" for label, n in accounts.most_common())),
        ("When", _span(planned, tz)),
    ]
    if refused:
        fields.append(("Refused, nothing sent (the header is row 1)", _refused_field(refused)))
    if ignored:
        fields.append(("Ignored columns", ", ".join(f"`{clip(name, 20)}`" for name in ignored)))
    lines = [f"Import {count} post{'s' if count != 1 else ''} from `{clip(file, 60)}`?"]
    lines += [f"{name}: {value}" for name, value in fields]
    if refused:
        lines.append(_refusals(refused, total))
    return Reply(
        title=f"Import {count} post{'s' if count != 1 else ''}?",
        text="\n".join(lines),
        fields=tuple(fields),
        confirm_token=token,
    )


def _span(planned: Sequence[PlannedRow], tz: ZoneInfo) -> str:
    times = sorted(t for row in planned if (t := row.request.scheduled_time) is not None)
    now = len(planned) - len(times)
    parts = []
    if times:
        first, last = format_local(times[0], tz), format_local(times[-1], tz)
        parts.append(first if first == last else f"from {first} to {last}")
    if now:
        parts.append(f"{now} right away (no `when`)")
    return "; ".join(parts)


def _refusals(refused: Sequence[_Refused], total: int) -> str:
    """The refused rows, each with its number and reason (rows as the spreadsheet numbers them)."""
    lines = [f"Refused rows ({len(refused)} of {total}; the header is row 1):"]
    lines += [f"• Row {r.number}: {clip(r.reason, 300)}" for r in refused[:SHOWN_REFUSALS]]
    if len(refused) > SHOWN_REFUSALS:
        rest = [r.number for r in refused[SHOWN_REFUSALS:]]
        lines.append(f"• …and rows {_numbers(rest)}.")
    return "\n".join(lines)


def _refused_field(refused: Sequence[_Refused]) -> str:
    """The refused rows in what a platform's field holds (Discord's 1,024 characters): as many with their reason
    as fit, then the numbers of the rest."""
    lines: list[str] = []
    for at, r in enumerate(refused):
        line = f"Row {r.number}: {clip(r.reason, FIELD_REASON)}"
        rest = refused[at + 1 :]
        if sum(map(len, lines)) + len(line) > FIELD_BUDGET - (len(rest) * 6 if rest else 0):
            lines.append(f"…and rows {_numbers([x.number for x in refused[at:]])}")
            break
        lines.append(line)
    return "\n".join(lines)


def _finished(plan: ImportPlan, sent: Sequence[tuple[int, int]], refused: Sequence[_Refused]) -> Reply:
    lines = [f"Imported `{clip(plan.file, 60)}`: {len(sent)} of {len(plan.rows)} posts scheduled."]
    if sent:
        lines.append(f"Sent: rows {_numbers([r for r, _ in sent])} (requests {_numbers([q for _, q in sent], '#')}).")
    if refused:
        lines.append(_refusals(refused, len(plan.rows)))
    return Reply(text="\n".join(lines), error=not sent)


def _stopped(
    plan: ImportPlan,
    sent: Sequence[tuple[int, int]],
    refused: Sequence[_Refused],
    *,
    unknown: tuple[int, int],
    after: Sequence[PlannedRow],
) -> Reply:
    row, request = unknown
    lines = [
        f"The import of `{clip(plan.file, 60)}` stopped at row {row}: Infinipost did not say whether it created that "
        "post, so nothing more was sent. Do not send that row again yet: I am checking, and will say what became of "
        f"request #{request} within a quarter of an hour.",
        "Sent: "
        + (
            f"rows {_numbers([r for r, _ in sent])} (requests {_numbers([q for _, q in sent], '#')})."
            if sent
            else "none."
        ),
        f"Unknown: row {row} (request #{request}).",
        "Not sent: "
        + (
            f"rows {_numbers([r.number for r in after])}: import them again in a new file once row {row} is settled."
            if after
            else "none."
        ),
    ]
    if refused:
        lines.append(_refusals(refused, len(plan.rows)))
    return Reply(text="\n".join(lines), error=True)


def _numbers(numbers: Sequence[int], mark: str = "") -> str:
    """`2–5, 7, 9–10`: runs of consecutive numbers written as ranges."""
    runs: list[list[int]] = []
    for n in sorted(numbers):
        if runs and n == runs[-1][-1] + 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    return ", ".join(f"{mark}{r[0]}" if len(r) == 1 else f"{mark}{r[0]}–{mark}{r[-1]}" for r in runs)


def _progress_notice(ctx: Context, stored: StoredRequest, status: ImportProgress) -> NewNotice:
    notice = Notice(
        kind=NoticeKind.IMPORT_PROGRESS,
        request_id=stored.id,
        author_id=stored.user_id,
        author_name=stored.user_name,
        content_type=stored.request.content_type,
        media_count=len(stored.request.media_urls),
        caption=None,
        scheduled_time=None,
        items=(),
        sandbox=ctx.sandbox,
        progress=status,
    )
    return NewNotice(
        channel=stored.channel, kind=NoticeKind.IMPORT_PROGRESS.value, request_id=stored.id, payload=notice.to_json()
    )


def wants_import(attachments: Sequence[Attachment]) -> bool:
    """Whether uploads handed to `/post` (a form's file field, “Schedule as post”) are a table to import instead."""
    return any(is_csv(a.filename, a.content_type) for a in attachments)
