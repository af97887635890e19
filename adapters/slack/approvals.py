"""The approvers' buttons under an announcement waiting for approval, and the modal for a note or a reason.

Approve runs `/approve #N`. Request changes and Reject open a modal from the press's trigger_id (which expires in
3 seconds); it asks for the note once the core says the presser may decide, or else shows why not, and its
submission runs `/changes #N <note>` or `/reject #N <reason>`. The core decides who may and whether it is too
late; every answer, refusals included, is seen only by whoever pressed the button, and never replaces the
announcement, which the core rewrites itself.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import blocks
from adapters.slack.callers import Who, find_caller, organization
from adapters.slack.people import SlackPeople
from adapters.slack.responses import Responder
from bot.core import Core
from bot.model import Command, Reply

logger = logging.getLogger(__name__)

# The command each button runs; those asking for a note open the modal first.
_VERB = {blocks.CHANGES_ACTION: "changes", blocks.REJECT_ACTION: "reject"}
_WHAT = {"changes": "note", "reject": "reason"}


class ApprovalButtons:
    """Turns the approvers' presses and notes into the core's approve, changes and reject commands."""

    def __init__(self, core: Core, *, people: SlackPeople, responder: Responder) -> None:
        self.core = core
        self.people = people
        self.responder = responder

    async def approve(self, body: dict[str, Any], client: AsyncWebClient) -> None:
        """Approve's lazy part (its ack was immediate): the approval to the core, the answer to the presser."""
        action = body["actions"][0]
        who = _presser(body)
        response_url = str(body.get("response_url") or "")
        tell = self._to_the_presser(body, client)
        async with self.responder.or_apologise(response_url, to=tell):
            caller = await find_caller(self.people, who, client, with_groups=True)
            reply = await self.core.handle(Command(name="approve", text=f"#{action.get('value', '')}", caller=caller))
            await tell(reply)

    async def ask_for_note(self, body: dict[str, Any], client: AsyncWebClient) -> None:
        """Request changes or Reject: a modal opens at once, before anything slow, then asks for the note, or shows
        the core's refusal (not an approver, or already decided) so that nobody writes a note for nothing."""
        action = body["actions"][0]
        verb = _VERB[action["action_id"]]
        who = _presser(body)
        request = str(action.get("value", ""))
        metadata = {"action": verb, "request": request, "channel": who[2]}
        response_url = str(body.get("response_url") or "")

        async def content() -> dict[str, Any]:
            # The bot's own buttons carry a number; anything else is the core's to refuse when the form is sent.
            if request.isascii() and request.isdigit():
                caller = await find_caller(self.people, who, client, with_groups=True)
                refused = await self.core.decision_refusal(caller, int(request), action=verb)
                if refused is not None:
                    return blocks.error_view(refused.text, title=blocks.note_title(verb))
            return blocks.note_modal(verb, metadata)

        tell = self._to_the_presser(body, client)
        async with self.responder.or_apologise(response_url, to=tell):
            await self.responder.open_form(
                client,
                trigger_id=body["trigger_id"],
                loading=blocks.note_loading_view(verb, metadata),
                content=content,
                response_url=response_url,
                failed=f"Slack did not open the form. Type `/{verb} #{request} <{_WHAT[verb]}>` instead.",
                to=tell,
            )

    def _to_the_presser(self, body: dict[str, Any], client: AsyncWebClient) -> Callable[[Reply], Awaitable[None]]:
        """How to answer whoever pressed a button on a channel message: through its response_url as a new private
        message, else ephemerally in the channel (or by DM)."""
        response_url = str(body.get("response_url") or "")
        _, user_id, channel_id, *_ = _presser(body)

        async def tell(reply: Reply) -> None:
            if not await self.responder.respond(response_url, blocks.private_message(reply)):
                await self.responder.tell(client, channel_id=channel_id, user_id=user_id, reply=reply)

        return tell

    async def submit_note(self, body: dict[str, Any], client: AsyncWebClient) -> None:
        """The note modal's lazy part (its ack closed it): the decision to the core, the answer privately in the
        announcement's channel."""
        view = body["view"]
        metadata: dict[str, Any] = json.loads(view.get("private_metadata") or "{}")
        user = body["user"]
        channel = str(metadata.get("channel") or "")
        who = (user.get("team_id", ""), user["id"], channel, user.get("name", ""), organization(body))

        async def tell(reply: Reply) -> None:
            await self.responder.tell(client, channel_id=channel, user_id=user["id"], reply=reply)

        async with self.responder.or_apologise("", to=tell):
            values = view.get("state", {}).get("values", {})
            note = str(((values.get("note") or {}).get("note") or {}).get("value") or "").strip()
            verb = "reject" if metadata.get("action") == "reject" else "changes"
            caller = await find_caller(self.people, who, client, with_groups=True)
            text = f"#{metadata.get('request', '')} {note}"
            await tell(await self.core.handle(Command(name=verb, text=text, caller=caller)))


def _presser(body: dict[str, Any]) -> Who:
    """Who pressed a button, in the channel of the message it is on."""
    user = body["user"]
    team = user.get("team_id") or (body.get("team") or {}).get("id", "")
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id", "")
    return (team, user["id"], channel, user.get("username", ""), organization(body))
