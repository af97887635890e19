"""Block Kit for the Home tab: the reader's next two weeks of posts (from `Core.calendar_home`), and the modals its
Cancel and Reschedule buttons open.

Slack takes at most 100 blocks in a Home tab and 3,000 characters in a section: the days are laid out in order
until the next post would not fit, and the rest are counted in one line that points at the web calendar.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

from adapters.slack.blocks import Block, escape, field_error, reply_message
from bot.calendar.home import HOME_DAYS, HomeDay, HomeEntry, HomeView
from bot.model import MessageRef, Reply
from bot.texts import WHEN_EXAMPLES, clip

CANCEL_ACTION = "home_cancel"
RESCHEDULE_ACTION = "home_reschedule"
CONFIRM_ACTION = "home_confirm"  # "Cancel them" under the core's question, in the Cancel modal
KEEP_ACTION = "home_keep"  # "Keep them"
# Link buttons: Slack opens the link, and still sends the press, which must be acknowledged.
OPEN_ACTION = "home_open"
CALENDAR_ACTION = "home_calendar"
LINK_ACTIONS = (OPEN_ACTION, CALENDAR_ACTION)
RESCHEDULE_CALLBACK = "home_reschedule_form"

TITLE = f"Posts in the next {HOME_DAYS} days"
MAX_BLOCKS = 100
SECTION_LIMIT = 3000
CONTEXT_LIMIT = 2000
HEADER_LIMIT = 150
URL_LIMIT = 3000
CAPTION_START = 100  # characters of a caption shown on the tab
ACCOUNT_LIMIT = 200


def permalink(ref: MessageRef) -> str:
    """A message's address: `https://slack.com/archives/<channel>/p<ts without its dot>`."""
    return f"https://slack.com/archives/{ref.channel_id}/p{ref.message_id.replace('.', '')}"


def home_view(view: HomeView) -> dict[str, Any]:
    """The Home tab of one reader: a header with the counts per account and the web calendar's link, then each
    day's posts, never more than Slack's 100 blocks."""
    blocks = _head(view)
    room = MAX_BLOCKS - len(blocks) - 1  # one kept for the line counting what did not fit
    shown = 0
    cut = False
    for first, days in _runs(view.days):
        if not days[0].entries:
            if room < 1:
                cut = True
                break
            blocks.append(_context(_quiet(days, first)))
            room -= 1
            continue
        day = days[0]
        laid = [_header(_day_title(day, first))]
        for entry in day.entries:
            entry_blocks = _entry(entry)
            if len(laid) + len(entry_blocks) > room:
                cut = True
                break
            laid += entry_blocks
            shown += 1
        if len(laid) > 1:
            blocks += laid
            room -= len(laid)
        if cut:
            break
    hidden = view.total - shown
    if cut and hidden:
        blocks.append(_more(hidden, view.calendar_url))
    return {"type": "home", "blocks": blocks}


def _head(view: HomeView) -> list[Block]:
    total = view.total
    if total:
        noun = "post" if total == 1 else "posts"
        lines = [f"*{total} {noun}* you can see · times in {view.zone}"]
        lines += [f"• {escape(clip(account, ACCOUNT_LIMIT))}: {count}" for account, count in view.counts]
        summary = "\n".join(lines)
    else:
        summary = f"Nothing you can see is scheduled in the next {HOME_DAYS} days."
    section: Block = {"type": "section", "text": _mrkdwn(clip(summary, SECTION_LIMIT))}
    if view.calendar_url and len(view.calendar_url) <= URL_LIMIT:
        section["accessory"] = _link_button("Open the web calendar", CALENDAR_ACTION, view.calendar_url)
    return [_header(TITLE), section, {"type": "divider"}]


def _runs(days: Sequence[HomeDay]) -> Iterator[tuple[int, list[HomeDay]]]:
    """Each day with posts on its own, and each run of days without any together: (index of the first, days)."""
    run: list[HomeDay] = []
    start = 0
    for n, day in enumerate(days):
        if day.entries:
            if run:
                yield start, run
                run = []
            yield n, [day]
        else:
            if not run:
                start = n
            run.append(day)
    if run:
        yield start, run


def _quiet(days: list[HomeDay], first: int) -> str:
    start = _day_title(days[0], first)
    if len(days) == 1:
        return f"{start}: nothing scheduled"
    return f"{start} – {_day_title(days[-1], first + len(days) - 1)}: nothing scheduled"


def _day_title(day: HomeDay, index: int) -> str:
    return {0: f"Today · {day.label}", 1: f"Tomorrow · {day.label}"}.get(index, day.label)


def _entry(entry: HomeEntry) -> list[Block]:
    """One post: what it is in a section, and its buttons (if any) under it."""
    caption = f"“{escape(clip(entry.caption, CAPTION_START))}”" if entry.caption else "_(no caption)_"
    text = (
        f"*{entry.time}*  {escape(clip(entry.account, ACCOUNT_LIMIT))} · _{escape(entry.status)}_\n"
        f"{caption} · <#{entry.channel_id}> · <@{entry.author_id}> · #{entry.request_id}"
    )
    blocks: list[Block] = [{"type": "section", "text": _mrkdwn(clip(text, SECTION_LIMIT))}]
    buttons = []
    if entry.announcement is not None:
        buttons.append(_link_button("Open in channel", OPEN_ACTION, permalink(entry.announcement)))
    if entry.manageable:
        value = f"{entry.request_id} {entry.channel_id}"
        cancel = _button("Cancel", CANCEL_ACTION, value, style="danger")
        cancel["confirm"] = {
            "title": _plain(f"Cancel request #{entry.request_id}?"),
            "text": _plain("Every account's post of this request that has not gone out is cancelled."),
            "confirm": _plain("Cancel the post"),
            "deny": _plain("Keep it"),
            "style": "danger",
        }
        buttons += [cancel, _button("Reschedule", RESCHEDULE_ACTION, value)]
    if buttons:
        blocks.append({"type": "actions", "elements": buttons})
    return blocks


def _more(hidden: int, calendar_url: str | None) -> Block:
    noun = "post" if hidden == 1 else "posts"
    if calendar_url and len(calendar_url) <= URL_LIMIT:
        return {
            "type": "section",
            "text": _mrkdwn(f"…and {hidden} more {noun}: open the web calendar to see them all."),
            "accessory": _link_button("Open the web calendar", CALENDAR_ACTION, calendar_url),
        }
    return _context(f"…and {hidden} more {noun}: `/calendar` shows them week by week.")


def error_home(text: str) -> dict[str, Any]:
    """The Home tab when the overview cannot be made: the reason, as the core words it."""
    return {"type": "home", "blocks": [_header(TITLE), *reply_message(Reply(text=text))["blocks"]]}


def working_view(title: str, text: str, metadata: dict[str, Any]) -> Block:
    """A modal shown at once from a press's trigger_id (valid 3 seconds) while the core works."""
    return {
        "type": "modal",
        "title": _plain(title),
        "close": _plain("Close"),
        "private_metadata": json.dumps(metadata),
        "blocks": [{"type": "section", "text": _mrkdwn(f"⏳ {text}")}],
    }


def answer_view(reply: Reply, *, title: str, metadata: dict[str, Any]) -> Block:
    """The core's answer in a modal; a question (several posts to cancel) with its two buttons."""
    blocks = [b for b in reply_message(reply)["blocks"] if b["type"] != "actions"]
    if reply.confirm_token:
        yes, no = reply.confirm_labels
        blocks.append(
            {
                "type": "actions",
                "elements": [
                    _button(yes, CONFIRM_ACTION, reply.confirm_token, style="danger"),
                    _button(no, KEEP_ACTION, reply.confirm_token),
                ],
            }
        )
    return {
        "type": "modal",
        "title": _plain(title),
        "close": _plain("Close"),
        "private_metadata": json.dumps(metadata),
        "blocks": blocks,
    }


def reschedule_modal(request_id: str, metadata: dict[str, Any]) -> Block:
    """The time a request moves to, read in the reader's zone when submitted."""
    field = {
        "type": "plain_text_input",
        "action_id": "when",
        "max_length": 100,
        "placeholder": _plain(clip(f"e.g. {WHEN_EXAMPLES}", 150)),
    }
    return {
        "type": "modal",
        "callback_id": RESCHEDULE_CALLBACK,
        "title": _plain("Reschedule"),
        "submit": _plain("Move"),
        "close": _plain("Close"),
        "private_metadata": json.dumps(metadata),
        "blocks": [
            _context(f"Request #{request_id}: each of its posts that has not gone out moves to the new time."),
            {
                "type": "input",
                "block_id": "when",
                "label": _plain("New time"),
                "element": field,
                "hint": _plain(f"Read in your time zone (see /timezone), e.g. {WHEN_EXAMPLES}."),
            },
        ],
    }


def time_error(problem: str) -> dict[str, str]:
    """`response_action: errors` for the time field."""
    return {"when": field_error(problem)}


def _header(text: str) -> Block:
    return {"type": "header", "text": _plain(clip(text, HEADER_LIMIT))}


def _context(text: str) -> Block:
    return {"type": "context", "elements": [_mrkdwn(clip(text, CONTEXT_LIMIT))]}


def _mrkdwn(text: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": text}


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text, "emoji": True}


def _button(label: str, action_id: str, value: str, *, style: str | None = None) -> Block:
    button: Block = {"type": "button", "text": _plain(label), "action_id": action_id, "value": value}
    if style:
        button["style"] = style
    return button


def _link_button(label: str, action_id: str, url: str) -> Block:
    return {"type": "button", "text": _plain(label), "action_id": action_id, "url": url}
