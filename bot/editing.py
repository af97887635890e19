"""`/edit #N` plus any part of the `/post` grammar: change a request that waits for approval, or a post already
scheduled.

A request waiting for approval (or for changes an approver asked for) takes any change, and goes back to its
approvers. A scheduled post changes through Infinipost's `PATCH /v1/posts/{id}`, which takes a caption, a time and
media: the parts it cannot change (accounts, sound, slide length, "now") are refused, with the reason.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from zoneinfo import ZoneInfo

from bot.approvals import named, next_look, step
from bot.context import Context, run_to_the_end
from bot.dates import parse_when
from bot.errors import ApiError, BadCommand, InvalidTime, NotAllowed, UsageError
from bot.grammar import parse_changes
from bot.links import parse_link
from bot.model import Command, PostDraft, PostRequest, PostStatus, Reply
from bot.notices import NoticeKind, notice_for
from bot.post_checks import MAX_CAPTION, accounts_for, check, check_slides, with_uploads
from bot.records import Approval, RequestState, StoredPost, StoredRequest
from bot.relink import renewed_links
from bot.texts import clip, fields_text, request_fields

USAGE = (
    "Write `/edit #<request>` and what to change, in the `/post` words: `to <accounts>`, `at <time>` or `now`, "
    "`sound <link>`, `slides 4|6|8`, new links (or attach files), `-- <caption>`. E.g. `/edit #12 at friday 9am -- "
    "New caption`."
)


async def edit(ctx: Context, command: Command) -> Reply:
    caller = command.caller
    target, _, rest = command.text.strip().partition(" ")
    if not target:
        raise BadCommand(USAGE)
    draft, now_said = parse_changes(rest.strip())
    if draft == PostDraft() and not now_said and not command.attachments:
        raise BadCommand(f"Say what to change. {USAGE}")
    number = target.strip("`").lstrip("#")
    stored = await ctx.storage.requests.get(int(number)) if number.isascii() and number.isdigit() else None
    if stored is None or stored.channel.workspace_id != caller.workspace_id or len(number) >= 18:
        raise UsageError(f"I have no request `{clip(target, 20)}`. `/posts` lists this channel's, with their numbers.")
    if stored.user_id != caller.user_id and not caller.is_admin:
        raise NotAllowed(f"Only {stored.user_name}, who asked for it, or an admin can edit request #{stored.id}.")
    tz = await ctx.zone_of(caller)
    if stored.state in RequestState.PENDING:
        return await _edit_waiting(ctx, command, stored, draft, now_said=now_said, tz=tz)
    if stored.state == RequestState.SENT:
        return await _edit_scheduled(ctx, command, stored, draft, now_said=now_said, tz=tz)
    raise UsageError(f"Request #{stored.id} cannot be edited: it is {stored.state.replace('_', ' ')}.")


async def _edit_waiting(
    ctx: Context, command: Command, stored: StoredRequest, draft: PostDraft, *, now_said: bool, tz: ZoneInfo
) -> Reply:
    """Any part of a request still waiting for approval changes; it then waits for its approvers again."""
    caller, current = command.caller, stored.request
    caption = draft.caption if draft.caption is not None else current.caption
    sound = draft.sound_url or current.sound_url
    slides = draft.slides or current.slide_duration
    account_ids = draft.accounts or tuple(a.id for a in current.accounts)
    if draft.media or command.attachments:
        whole = replace(draft, accounts=account_ids, when=None, caption=caption, sound_url=sound, slides=slides)
        request = await with_uploads(ctx, await check(ctx, whole, command=command, tz=tz))
    else:
        if slides and draft.slides:
            check_slides(draft, current.content_type)
        if caption and len(caption) > MAX_CAPTION:
            raise BadCommand(f"The caption is {len(caption):,} characters; the limit is {MAX_CAPTION:,}.")
        if draft.sound_url:
            parse_link(draft.sound_url)
        accounts = current.accounts
        if draft.accounts:
            accounts = await accounts_for(ctx, PostDraft(accounts=account_ids, caption=caption), caller)
        request = replace(current, accounts=accounts, caption=caption or None, sound_url=sound, slide_duration=slides)
    when = current.scheduled_time
    if draft.when:
        when = parse_when(draft.when, now=ctx.clock(), tz=tz, locale=caller.locale)
    elif now_said:
        when = None
    request = replace(request, scheduled_time=when)
    if when is not None and when != current.scheduled_time and request.media_urls == current.media_urls:
        # The uploads' links must last until the new time.
        content = await renewed_links(ctx, stored, until=when + timedelta(hours=ctx.settings.media_link_hours))
        if content is not None:
            request = replace(request, media_urls=content[1])
    if request == current:
        raise BadCommand(f"That is what request #{stored.id} already says; nothing changed.")
    now = ctx.clock()
    approval = (stored.approval or Approval(approvers=())).with_step(
        step("edited", caller, now, _changes(current, request))
    )
    edited = replace(stored, state=RequestState.AWAITING_APPROVAL, request=request, approval=approval)
    moved = await ctx.storage.requests.transition(
        stored.id,
        from_states=RequestState.PENDING,
        to_state=RequestState.AWAITING_APPROVAL,
        approval=approval,
        approval_due=next_look(ctx, edited, now=now),
        request=request,
        audit=(caller, "edit", {"changed": _changes(current, request)}),
        notices=[
            notice_for(NoticeKind.UPDATED, edited, [], sandbox=ctx.sandbox),
            notice_for(NoticeKind.EDITED, edited, [], sandbox=ctx.sandbox),
        ],
    )
    if moved is None:
        raise UsageError(
            f"Request #{stored.id} was decided on while you edited it; `/posts pending` shows where it is."
        )
    ctx.outbox.wake()
    approvers = named(approval.approvers)
    return Reply(
        text=f"Edited request #{stored.id}; it waits for approval by {approvers} again.\n"
        f"{fields_text(request_fields(request, tz))}"
    )


def _changes(before: PostRequest, after: PostRequest) -> str:
    """What an edit changed, in words, for the thread and the audit log."""
    parts = {
        "accounts": before.accounts != after.accounts,
        "time": before.scheduled_time != after.scheduled_time,
        "caption": before.caption != after.caption,
        "sound": before.sound_url != after.sound_url,
        "slides": before.slide_duration != after.slide_duration,
        "media": before.media_urls != after.media_urls,
    }
    return ", ".join(name for name, changed in parts.items() if changed)


async def _edit_scheduled(
    ctx: Context, command: Command, stored: StoredRequest, draft: PostDraft, *, now_said: bool, tz: ZoneInfo
) -> Reply:
    """A post already scheduled changes at Infinipost, in what its edit call takes."""
    refused = _not_editable(draft, now_said=now_said)
    if refused:
        raise UsageError(
            f"Infinipost cannot change {refused} of a post already scheduled. To change it, `/cancel #{stored.id}` "
            "and `/post` it again."
        )
    if not ctx.storage.requests.is_ours(stored):
        raise UsageError(f"Request #{stored.id} was made in another Infinipost, not the one the bot uses now.")
    posts = (await ctx.storage.posts.of_requests([stored.id]))[stored.id]
    pending = [p for p in posts if not p.status.is_final]
    if not pending:
        raise UsageError(f"Nothing to edit in request #{stored.id}: every post of it is live, failed or cancelled.")
    current = stored.request
    request = current
    if draft.caption is not None:
        if len(draft.caption) > MAX_CAPTION:
            raise BadCommand(f"The caption is {len(draft.caption):,} characters; the limit is {MAX_CAPTION:,}.")
        request = replace(request, caption=draft.caption or None)
    if draft.when:
        when = parse_when(draft.when, now=ctx.clock(), tz=tz, locale=command.caller.locale)
        if when is None:
            raise InvalidTime("Infinipost cannot send a scheduled post right away; give a time.")
        request = replace(request, scheduled_time=when.replace(second=0))  # edits take minutes only
    if draft.media or command.attachments:
        whole = PostDraft(
            media=draft.media,
            accounts=tuple(a.id for a in current.accounts),
            content_type=draft.content_type,
            caption=request.caption,
        )
        fetched = await with_uploads(ctx, await check(ctx, whole, command=command, tz=tz))
        request = replace(
            request, content_type=fetched.content_type, media_urls=fetched.media_urls, media_keys=fetched.media_keys
        )
    if request == current:
        raise BadCommand(f"That is what request #{stored.id} already says; nothing changed.")
    run_to_the_end()  # the edits reach Infinipost one post at a time: never cut short halfway
    content = None
    if request.media_urls != current.media_urls:
        content = (request.content_type, request.media_urls)
    elif request.scheduled_time != current.scheduled_time and request.scheduled_time is not None:
        until = request.scheduled_time + timedelta(hours=ctx.settings.media_link_hours)
        content = await renewed_links(ctx, stored, until=until)
    api = (await ctx.infinipost(stored.channel)).api
    changed: list[StoredPost] = []
    problems: list[str] = []
    for post in pending:
        try:
            remote = await api.edit_post(
                post.id,
                scheduled_time=request.scheduled_time if request.scheduled_time != current.scheduled_time else None,
                caption=(request.caption or "") if request.caption != current.caption else None,
                content=content,
            )
        except ApiError as exc:
            problems.append(f"Could not edit `{post.id}` ({post.account_label}): {exc.user_message}")
            continue
        new_time = remote.scheduled_time or request.scheduled_time or post.scheduled_time
        changed.append(
            replace(post, status=PostStatus.SCHEDULED, scheduled_time=new_time, next_check_at=new_time, checks=0)
        )
    if not changed:
        return Reply(text="\n".join(problems), error=True)
    await _record_scheduled_edit(ctx, command, stored, request, changed, posts)
    lines = [f"Edited request #{stored.id} at Infinipost ({', '.join(f'`{p.id}`' for p in changed)}):"]
    lines.append(fields_text(request_fields(request, tz)))
    if current.sound_url:
        lines.append("Infinipost's edits may drop a post's sound; check the post in Infinipost.")
    return Reply(text="\n".join(lines + problems))


def _not_editable(draft: PostDraft, *, now_said: bool) -> str:
    """The parts of an edit Infinipost's edit call cannot make, in words; empty if there are none."""
    parts = {
        "the accounts": bool(draft.accounts),
        "the sound": draft.sound_url is not None,
        "how long each slide shows": draft.slides is not None,
        'the time to "now"': now_said,
    }
    return " or ".join(name for name, asked in parts.items() if asked)


async def _record_scheduled_edit(
    ctx: Context,
    command: Command,
    stored: StoredRequest,
    request: PostRequest,
    changed: list[StoredPost],
    posts: list[StoredPost],
) -> None:
    """The request as it now is, its posts' new times, the audit row and the announcement rewritten."""
    async with ctx.tracking_lock:
        await ctx.storage.posts.update(changed)
        after = {p.id: p for p in changed}
        now_posts = [after.get(p.id, p) for p in posts]
        edited = replace(stored, request=request)
        await ctx.storage.requests.transition(
            stored.id,
            from_states=(RequestState.SENT,),
            to_state=RequestState.SENT,
            approval=stored.approval,
            approval_due=None,
            request=request,
            audit=(command.caller, "edit", {"changed": _changes(stored.request, request), "posts": list(after)}),
            notices=[notice_for(NoticeKind.UPDATED, edited, now_posts, sandbox=ctx.sandbox)],
        )
    ctx.outbox.wake()
