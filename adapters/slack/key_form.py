"""The form `/infinipost connect` opens: an admin types the workspace's Infinipost key in a modal, which only they
see, rather than in the command, and the key goes to the core as a secret, never into a message or a log."""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import blocks
from adapters.slack.callers import Who, find_caller, organization
from adapters.slack.people import SlackPeople
from adapters.slack.responses import Responder
from bot.core import Core
from bot.model import Command, Reply
from bot.texts import KEY_FORM_FAILED, KEY_FORM_TITLE, KEY_NOT_GIVEN

logger = logging.getLogger(__name__)


class KeyModal:
    """Opens the key form (once the core says the user may connect a key) and sends its submission on."""

    def __init__(self, core: Core, *, people: SlackPeople, responder: Responder) -> None:
        self.core = core
        self.people = people
        self.responder = responder

    async def open(self, client: AsyncWebClient, *, trigger_id: str, who: Who, response_url: str) -> None:
        """The form opens first, from the trigger_id that expires in 3 seconds; then it asks for the key, or says
        why it may not be connected here."""
        metadata = {"channel": who[2], "response_url": response_url}

        async def content() -> dict[str, Any]:
            refused = self.core.key_form_refusal(await find_caller(self.people, who, client))
            return (
                blocks.key_modal(metadata) if refused is None else blocks.error_view(refused.text, title=KEY_FORM_TITLE)
            )

        await self.responder.open_form(
            client,
            trigger_id=trigger_id,
            loading=blocks.key_loading_view(metadata),
            content=content,
            response_url=response_url,
            failed=KEY_FORM_FAILED,
        )

    async def submit(self, body: dict[str, Any], client: AsyncWebClient) -> None:
        """The submission's lazy part (its ack closed the form): the key to the core, the answer to the admin."""
        view = body["view"]
        metadata: dict[str, Any] = json.loads(view.get("private_metadata") or "{}")
        response_url = str(metadata.get("response_url") or "")
        async with self.responder.or_apologise(response_url):
            user = body["user"]
            who = (
                user.get("team_id", ""),
                user["id"],
                metadata.get("channel", ""),
                user.get("name", ""),
                organization(body),
            )
            caller = await find_caller(self.people, who, client)
            values = view.get("state", {}).get("values", {})
            key = str(((values.get("key") or {}).get("key") or {}).get("value") or "")
            if key.strip():
                command = Command(name="infinipost", text="connect", caller=caller, secret=key)
                reply = await self.core.handle(command)
            else:
                reply = Reply(text=self.core.said(KEY_NOT_GIVEN))
            await self.responder.answer(client, caller, response_url, reply)
