"""Block Kit out: replies, previews with Schedule / Cancel buttons, channel notices (with Approve, Request changes
and Reject while a request waits for approval), the /post modal and the approvers' note modal."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from bot.approvals import MAX_NOTE
from bot.model import PostForm, Reply
from bot.notices import Notice, Style, render
from bot.texts import KEY_FIELD_HINT, KEY_FIELD_LABEL, KEY_FORM_TITLE, NO_ACCOUNT_READY, WHEN_EXAMPLES, clip

CONFIRM_ACTION = "post_confirm"
DISCARD_ACTION = "post_discard"
MORE_ACTION = "posts_more"  # the next page of /posts
FORM_CALLBACK = "post_form"
KEY_CALLBACK = "infinipost_key"  # the form `/infinipost connect` opens
APPROVE_ACTION = "approval_approve"
CHANGES_ACTION = "approval_changes"
REJECT_ACTION = "approval_reject"
NOTE_CALLBACK = "approval_note"  # the modal Request changes and Reject open for the note or the reason
# The longest note the core keeps (the test of Reject submits a note this long).
NOTE_LIMIT = MAX_NOTE
SECTION_LIMIT = 3000
FIELD_LIMIT = 1900

Block = dict[str, Any]


def escape(text: str) -> str:
    """Slack's three control characters, so that user text can never become a mention or a link."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def date_token(instant: datetime) -> str:
    """A time every reader sees in their own zone: `<!date^UNIX^{date_short_pretty} at {time}|fallback>`."""
    fallback = instant.astimezone(UTC).strftime("%a %d %b %Y %H:%M UTC")
    return f"<!date^{int(instant.timestamp())}^{{date_short_pretty}} at {{time}}|{fallback}>"


# Slack notifies the users and user groups a bot message mentions this way, so approvers asked to act hear of it.
SLACK_STYLE = Style(
    time=date_token,
    mention=lambda user_id, _name: f"<@{user_id}>",
    text=escape,
    group=lambda group_id, _name: f"<!subteam^{group_id}>",
    link=lambda _workspace, channel, ts, label: (
        f"<https://slack.com/archives/{channel}/p{ts.replace('.', '')}|{label}>"
    ),
)


def _sections(text: str) -> list[Block]:
    chunks, current = [], ""
    for line in text.split("\n"):
        if len(current) + len(line) + 1 > SECTION_LIMIT and current:
            chunks.append(current)
            current = ""
        current = f"{current}\n{line}" if current else line[:SECTION_LIMIT]
    chunks.append(current or " ")
    return [{"type": "section", "text": {"type": "mrkdwn", "text": chunk}} for chunk in chunks]


def reply_message(reply: Reply) -> dict[str, Any]:
    """Keyword arguments for `respond` / `chat.postEphemeral` carrying a core reply."""
    if reply.fields:
        head = reply.text.split("\n", 1)[0]
        blocks = _sections(f"*{escape(head)}*")
        fields = [
            {"type": "mrkdwn", "text": f"*{escape(name)}*\n{escape(clip(value, FIELD_LIMIT))}"}
            for name, value in reply.fields[:10]
        ]
        blocks.append({"type": "section", "fields": fields})
    else:
        blocks = _sections(escape(reply.text))
    if reply.more:
        blocks.append(
            {"type": "actions", "block_id": "posts_more", "elements": [_button("More", MORE_ACTION, reply.more)]}
        )
    if reply.confirm_token:
        blocks.append(
            {
                "type": "actions",
                "block_id": "post_preview",
                "elements": [
                    _button(reply.confirm_labels[0], CONFIRM_ACTION, reply.confirm_token, style="primary"),
                    _button(reply.confirm_labels[1], DISCARD_ACTION, reply.confirm_token),
                ],
            }
        )
    return {
        "text": clip(reply.text, 3000),
        "blocks": blocks,
        "response_type": "ephemeral" if reply.ephemeral else "in_channel",
    }


def private_message(reply: Reply) -> dict[str, Any]:
    """A reply for a response_url of a button on a channel message: seen only by whoever pressed it, and a new
    message, since Slack would otherwise be free to replace the channel's message with it."""
    return {**reply_message(reply), "response_type": "ephemeral", "replace_original": False}


def notice_message(notices: Sequence[Notice]) -> dict[str, Any]:
    """Keyword arguments for `chat.postMessage` / `chat.update` carrying channel notices. An announcement still
    waiting for approval carries the approvers' buttons; every later edit renders it again, so they go once it is
    decided."""
    text = render(notices, SLACK_STYLE)
    blocks = _sections(text)
    if len(notices) == 1 and notices[0].asks_for_approval:
        blocks.append(approval_buttons(notices[0].request_id))
    return {"text": clip(text, 3000), "blocks": blocks}


def approval_buttons(request_id: int) -> Block:
    value = str(request_id)
    return {
        "type": "actions",
        "block_id": "approval",
        "elements": [
            _button("Approve", APPROVE_ACTION, value, style="primary"),
            _button("Request changes", CHANGES_ACTION, value),
            _button("Reject", REJECT_ACTION, value, style="danger"),
        ],
    }


def _button(label: str, action_id: str, value: str, *, style: str | None = None) -> Block:
    button: Block = {"type": "button", "text": {"type": "plain_text", "text": label}, "action_id": action_id}
    button["value"] = value
    if style:
        button["style"] = style
    return button


def field_error(text: str) -> str:
    """A message shown under a form field: plain text, one short line."""
    return clip(text.replace("`", ""), 150)


def loading_view(metadata: dict[str, Any]) -> Block:
    """Shown at once from the trigger_id, while the accounts are fetched."""
    return {
        "type": "modal",
        "callback_id": FORM_CALLBACK,
        "title": {"type": "plain_text", "text": "Schedule a post"},
        "private_metadata": json.dumps(metadata),
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "⏳ Loading the accounts…"}}],
    }


def error_view(message: str, *, title: str = "Schedule a post") -> Block:
    return {
        "type": "modal",
        "title": {"type": "plain_text", "text": title},
        "close": {"type": "plain_text", "text": "Close"},
        "blocks": _sections(escape(message)),
    }


def post_modal(form: PostForm, metadata: dict[str, Any], *, message_files: int = 0) -> Block:
    """The /post form: accounts, caption, time, slides, sound, media links and uploads."""
    options = [_option(f"{a.name or a.id} ({a.platform_label})", a.id) for a in form.accounts[:100]]
    accounts: Block = {
        "type": "multi_static_select",
        "action_id": "accounts",
        "placeholder": {"type": "plain_text", "text": "Choose accounts"},
        "options": options,
    }
    initial = [o for o in options if o["value"] in form.defaults]
    if initial:
        accounts["initial_options"] = initial
    blocks: list[Block] = []
    if message_files:
        noun = "file" if message_files == 1 else "files"
        blocks.append(_context(f"📎 Posting the {message_files} {noun} of the message you picked."))
    blocks += [
        _input("accounts", "Accounts", accounts) if options else _context(NO_ACCOUNT_READY),
        _input(
            "caption",
            "Caption",
            {"type": "plain_text_input", "action_id": "caption", "multiline": True, "max_length": 2200},
            optional=True,
        ),
        _input(
            "when",
            "When",
            {
                "type": "plain_text_input",
                "action_id": "when",
                "placeholder": {"type": "plain_text", "text": f"{WHEN_EXAMPLES}… (empty: now)"},
            },
            optional=True,
            hint="Read in your time zone; see /timezone.",
        ),
        _input(
            "slides",
            "Seconds per slide (slideshows)",
            {"type": "static_select", "action_id": "slides", "options": [_option(f"{n} s", str(n)) for n in (4, 6, 8)]},
            optional=True,
        ),
        _input("sound", "Sound link", {"type": "url_text_input", "action_id": "sound"}, optional=True),
    ]
    if not message_files:
        blocks += [
            _input(
                "links",
                "Media links",
                {
                    "type": "plain_text_input",
                    "action_id": "links",
                    "multiline": True,
                    "placeholder": {"type": "plain_text", "text": "One public video or image link per line"},
                },
                optional=True,
            ),
            _input(
                "files",
                "Or upload files",
                {
                    "type": "file_input",
                    "action_id": "files",
                    "max_files": 10,
                    "filetypes": [
                        "mp4",
                        "mov",
                        "webm",
                        "m4v",
                        "jpg",
                        "jpeg",
                        "png",
                        "webp",
                        "gif",
                        "bmp",
                        "tif",
                        "tiff",
                    ],
                },
                optional=True,
                hint="Up to 10 files of 10 MB. For bigger videos, upload them in the channel and use the "
                "message's ⋯ → Schedule as post.",
            ),
        ]
    return {
        "type": "modal",
        "callback_id": FORM_CALLBACK,
        "title": {"type": "plain_text", "text": "Schedule a post"},
        "submit": {"type": "plain_text", "text": "Preview" if metadata.get("confirm") else "Schedule"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "private_metadata": json.dumps(metadata),
        "blocks": blocks,
    }


def _option(label: str, value: str) -> Block:
    return {"text": {"type": "plain_text", "text": label[:75]}, "value": value}


def _context(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}


def _input(block_id: str, label: str, element: Block, *, optional: bool = False, hint: str | None = None) -> Block:
    block: Block = {
        "type": "input",
        "block_id": block_id,
        "label": {"type": "plain_text", "text": label},
        "element": element,
        "optional": optional,
    }
    if hint:
        block["hint"] = {"type": "plain_text", "text": hint}
    return block


def key_loading_view(metadata: dict[str, Any]) -> Block:
    """Shown at once from the trigger_id, while the bot learns whether the user may connect a key."""
    return {
        "type": "modal",
        "callback_id": KEY_CALLBACK,
        "title": {"type": "plain_text", "text": KEY_FORM_TITLE},
        "private_metadata": json.dumps(metadata),
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "⏳ Loading…"}}],
    }


def key_modal(metadata: dict[str, Any]) -> Block:
    """The form for a workspace's own Infinipost key: seen only by the admin who opened it, never posted."""
    field = {
        "type": "plain_text_input",
        "action_id": "key",
        "min_length": 8,
        "max_length": 200,
        "placeholder": {"type": "plain_text", "text": "sk_live_…"},
    }
    return {
        "type": "modal",
        "callback_id": KEY_CALLBACK,
        "title": {"type": "plain_text", "text": KEY_FORM_TITLE},
        "submit": {"type": "plain_text", "text": "Connect"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "private_metadata": json.dumps(metadata),
        "blocks": [_input("key", KEY_FIELD_LABEL, field, hint=KEY_FIELD_HINT)],
    }


_NOTE_FORMS = {
    # action: (title, field label, submit, placeholder); titles hold at most 24 characters
    "changes": ("Request changes", "What should change?", "Send", "Shorter caption, and tag the brand"),
    "reject": ("Reject", "Why is it rejected?", "Reject", "Off-brand"),
}


def note_title(action: str) -> str:
    return _NOTE_FORMS[action][0]


def note_loading_view(action: str, metadata: dict[str, Any]) -> Block:
    """Shown at once from the trigger_id, while the bot learns whether the presser may decide."""
    return {
        "type": "modal",
        "callback_id": NOTE_CALLBACK,
        "title": {"type": "plain_text", "text": note_title(action)},
        "private_metadata": json.dumps(metadata),
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "⏳ Loading…"}}],
    }


def note_modal(action: str, metadata: dict[str, Any]) -> Block:
    """The note (Request changes) or reason (Reject) an approver gives, which the author is told in the thread.
    `metadata` carries the request's number and the announcement's channel."""
    title, label, submit, example = _NOTE_FORMS[action]
    field = {
        "type": "plain_text_input",
        "action_id": "note",
        "multiline": True,
        "max_length": NOTE_LIMIT,
        "placeholder": {"type": "plain_text", "text": f"e.g. {example}"},
    }
    return {
        "type": "modal",
        "callback_id": NOTE_CALLBACK,
        "title": {"type": "plain_text", "text": title},
        "submit": {"type": "plain_text", "text": submit},
        "close": {"type": "plain_text", "text": "Cancel"},
        "private_metadata": json.dumps(metadata),
        "blocks": [
            _context(f"Request #{metadata['request']}: its author is told in the thread of its announcement."),
            _input("note", label, field),
        ],
    }
