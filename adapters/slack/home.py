"""The Home tab: each person's next two weeks of posts (`Core.calendar_home`), published with `views.publish` when
they open it, and published again within a minute of a change while they may be looking.

Slack says when someone opens the tab (`app_home_opened`), never when they leave it: whoever opened it in the last
WATCH_SECONDS is watched, and every `refresh_seconds` the tab of each is made again and published if it changed.
Cancel and Reschedule answer in a modal (there is no channel to answer in), opened from the press's trigger_id
before the core works.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import home_blocks
from adapters.slack.callers import Who, find_caller, organization
from adapters.slack.channels import WorkspaceClients
from adapters.slack.names import HOME_EVENT
from adapters.slack.people import PLATFORM, SlackPeople
from adapters.slack.refusals import error_code
from adapters.slack.responses import Responder
from adapters.slack.verdicts import Verdicts
from bot.core import Core
from bot.errors import BotError
from bot.model import Command, Place, Reply

logger = logging.getLogger(__name__)

REFRESH_SECONDS = 30.0  # a change shows within a minute: at most this, plus the time to make the tabs
WATCH_SECONDS = 3600.0  # after opening the tab, how long someone is taken to be looking at it
VIEWERS_PER_WORKSPACE = 200  # the most recent are kept; the others see a change when they open the tab again
TIME_CHECK_BUDGET = 1.0  # seconds of Slack's 3 to read the new time before the form closes


@dataclass
class _Viewer:
    who: Who
    opened: float  # monotonic
    shown: str = ""  # hash of the tab last published, its calendar link left out (a new link is no change)


class HomeTab:
    """Publishes the Home tab and answers its buttons.

    Args:
        refresh_seconds: how often the tabs of those watching are made again (tests make it short).
    """

    def __init__(
        self,
        core: Core,
        *,
        people: SlackPeople,
        responder: Responder,
        clients: WorkspaceClients,
        refresh_seconds: float = REFRESH_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.core = core
        self.people = people
        self.responder = responder
        self.clients = clients
        self.refresh_seconds = refresh_seconds
        self._monotonic = monotonic
        self._viewers: dict[str, OrderedDict[str, _Viewer]] = {}  # workspace -> user -> viewer, oldest first
        self._refreshing: asyncio.Task[None] | None = None
        self._verdicts = Verdicts()
        self._pending: set[asyncio.Task[None]] = set()

    def register(self, app: AsyncApp) -> None:
        app.event(HOME_EVENT)(self.opened)
        for action in home_blocks.LINK_ACTIONS:
            app.action(action)(_ack)
        app.action(home_blocks.CANCEL_ACTION)(ack=_ack, lazy=[self.cancel])
        app.action(home_blocks.CONFIRM_ACTION)(ack=_ack, lazy=[self.answer])
        app.action(home_blocks.KEEP_ACTION)(ack=_ack, lazy=[self.answer])
        app.action(home_blocks.RESCHEDULE_ACTION)(ack=_ack, lazy=[self.ask_for_time])
        app.view_submission(home_blocks.RESCHEDULE_CALLBACK)(ack=self.acknowledge_time, lazy=[self.reschedule])

    async def close(self) -> None:
        tasks = [t for t in (self._refreshing, *self._pending) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def opened(self, body: dict[str, Any], event: dict[str, Any], client: AsyncWebClient) -> None:
        """`app_home_opened`: the tab is made and published, and its reader watched for changes."""
        if event.get("tab") != "home":
            return  # the Messages tab
        user = str(event.get("user") or "")
        team = str(body.get("team_id") or "")
        if not (user and team):
            return
        viewer = self._watch((team, user, str(event.get("channel") or ""), "", organization(body)))
        await self._publish(viewer, client, always=True)

    def _watch(self, who: Who) -> _Viewer:
        viewers = self._viewers.setdefault(who[0], OrderedDict())
        viewer = viewers.pop(who[1], None) or _Viewer(who=who, opened=0.0)
        viewer.opened = self._monotonic()
        viewers[who[1]] = viewer
        while len(viewers) > VIEWERS_PER_WORKSPACE:
            viewers.popitem(last=False)
        if self._refreshing is None or self._refreshing.done():
            self._refreshing = asyncio.create_task(self._refresh_forever())
        return viewer

    async def _publish(self, viewer: _Viewer, client: AsyncWebClient, *, always: bool = False) -> None:
        """Make the viewer's tab and publish it if it changed since it was last published (or `always`)."""
        team, user, _, _, org = viewer.who
        if self.core.refusal(Place(platform=PLATFORM, workspace_id=team, organization_id=org)) is not None:
            self._forget(viewer)  # not served (any more): nothing is shown there
            return
        caller = await find_caller(self.people, viewer.who, client)
        try:
            # Without its link first: signing one reads far more than the tab shows, and is wanted only for a tab
            # that changed (a new link is no change).
            home = await self.core.calendar_home(caller, with_link=False)
            shown = _digest(home_blocks.home_view(home))
            if shown == viewer.shown and not always:
                return
            view = home_blocks.home_view(await self.core.calendar_home(caller))
        except Exception as exc:
            view = home_blocks.error_home(self.core.failure_reply(exc, during="the Slack Home tab").text)
            shown = _digest(view)
            if shown == viewer.shown and not always:
                return
        try:
            await client.views_publish(user_id=user, view=view)
        except SlackApiError as exc:
            code = error_code(exc)
            hint = ": turn on the Home tab (paste the new manifest)" if code == "not_enabled" else ""
            logger.warning("views.publish failed for %s: %s%s", user, code, hint)
            return
        except (aiohttp.ClientError, TimeoutError) as exc:
            logger.warning("views.publish failed for %s: %s", user, type(exc).__name__)
            return
        viewer.shown = shown

    async def _refresh_forever(self) -> None:
        while any(self._viewers.values()):
            await asyncio.sleep(self.refresh_seconds)
            await self.refresh()

    async def refresh(self) -> None:
        """One round: the tab of everyone watching is made again, and published where it changed."""
        now = self._monotonic()
        for team, viewers in list(self._viewers.items()):
            for viewer in list(viewers.values()):
                if now - viewer.opened > WATCH_SECONDS:
                    self._forget(viewer)
                    continue
                client = await self.clients.of(team)
                if client is None:
                    self._forget(viewer)
                    continue
                try:
                    await self._publish(viewer, client)
                except Exception:
                    logger.exception("could not refresh a Slack Home tab")
            if not viewers:
                self._viewers.pop(team, None)

    def _forget(self, viewer: _Viewer) -> None:
        viewers = self._viewers.get(viewer.who[0])
        if viewers is not None:
            viewers.pop(viewer.who[1], None)

    def _refresh_soon(self, team: str, user: str, client: AsyncWebClient) -> None:
        """After a change made from the tab: its reader sees it at once, not at the next round."""
        viewers = self._viewers.get(team)
        viewer = viewers.get(user) if viewers is not None else None
        if viewer is None:
            return
        task = asyncio.create_task(self._publish(viewer, client))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def cancel(self, body: dict[str, Any], client: AsyncWebClient) -> None:
        """Cancel (after Slack's own "are you sure?"): `/cancel #N`, its answer (or question) in a modal."""
        request, channel = _target(body)
        who = _presser(body, channel)
        metadata = {"request": request, "channel": channel}

        async def content() -> dict[str, Any]:
            reply = await self._run(who, client, "cancel", f"#{request}")
            return home_blocks.answer_view(reply, title="Cancel a post", metadata=metadata)

        tell = self._to_the_presser(who, client)
        async with self.responder.or_apologise("", to=tell):
            await self.responder.open_form(
                client,
                trigger_id=str(body["trigger_id"]),
                loading=home_blocks.working_view("Cancel a post", f"Cancelling request #{request}…", metadata),
                content=content,
                response_url="",
                failed=f"Slack did not open the form. Type `/cancel #{request}` instead.",
                to=tell,
            )

    async def answer(self, body: dict[str, Any], client: AsyncWebClient) -> None:
        """The two buttons of the core's question in the Cancel modal: its answer replaces the question."""
        action = body["actions"][0]
        name = "confirm" if action["action_id"] == home_blocks.CONFIRM_ACTION else "discard"
        view = body.get("view") or {}
        metadata: dict[str, Any] = json.loads(view.get("private_metadata") or "{}")
        who = _presser(body, str(metadata.get("channel") or ""))
        tell = self._to_the_presser(who, client)
        async with self.responder.or_apologise("", to=tell):
            reply = await self._run(who, client, name, str(action.get("value") or ""))
            await _show_answer(client, view, reply, title="Cancel a post", metadata=metadata, tell=tell)

    async def ask_for_time(self, body: dict[str, Any], client: AsyncWebClient) -> None:
        """Reschedule: the form for the new time opens at once, from the press's trigger_id."""
        request, channel = _target(body)
        who = _presser(body, channel)
        modal = home_blocks.reschedule_modal(request, {"request": request, "channel": channel})
        try:
            await client.views_open(trigger_id=str(body["trigger_id"]), view=modal)
        except SlackApiError as exc:
            logger.warning("views.open failed: %s", error_code(exc))
            failed = f"Slack did not open the form. Type `/reschedule #{request} <time>` instead."
            await self._to_the_presser(who, client)(Reply(text=failed, error=True))

    async def acknowledge_time(
        self, ack: Callable[..., Awaitable[None]], body: dict[str, Any], client: AsyncWebClient
    ) -> None:
        """The form's ack: a time that cannot be read is shown under its field and the form stays open; else the
        form says it is moving the post while the lazy part does."""
        view = body["view"]
        metadata: dict[str, Any] = json.loads(view.get("private_metadata") or "{}")
        phrase = _phrase(view)
        who = _submitter(body, str(metadata.get("channel") or ""))
        problem = None
        try:
            async with asyncio.timeout(TIME_CHECK_BUDGET):
                problem = await self.core.time_problem(await find_caller(self.people, who, client), phrase)
        except (BotError, TimeoutError):
            pass  # the lazy part goes ahead, and the core's answer says what is wrong
        except Exception:
            logger.warning("could not check a time before acknowledging the form", exc_info=True)
        self._verdicts.decide(body, left_alone=problem is not None)
        if problem is not None:
            await ack(response_action="errors", errors=home_blocks.time_error(problem))
            return
        text = f"Moving request #{metadata.get('request', '')}…"
        await ack(response_action="update", view=home_blocks.working_view("Reschedule", text, metadata))

    async def reschedule(self, body: dict[str, Any], client: AsyncWebClient) -> None:
        """The form's lazy part: `/reschedule #N <time>`, and the core's answer in the form."""
        if await self._verdicts.left_alone(body, within=TIME_CHECK_BUDGET * 3):
            return
        view = body["view"]
        metadata: dict[str, Any] = json.loads(view.get("private_metadata") or "{}")
        who = _submitter(body, str(metadata.get("channel") or ""))
        tell = self._to_the_presser(who, client)
        async with self.responder.or_apologise("", to=tell):
            reply = await self._run(who, client, "reschedule", f"#{metadata.get('request', '')} {_phrase(view)}")
            await _show_answer(client, view, reply, title="Reschedule", metadata=metadata, tell=tell)

    async def _run(self, who: Who, client: AsyncWebClient, name: str, text: str) -> Reply:
        """A command on behalf of whoever pressed; their tab shows the change at once."""
        caller = await find_caller(self.people, who, client)
        reply = await self.core.handle(Command(name=name, text=text, caller=caller))
        self._refresh_soon(who[0], who[1], client)
        return reply

    def _to_the_presser(self, who: Who, client: AsyncWebClient) -> Callable[[Reply], Awaitable[None]]:
        """When no modal can say it: privately in the post's channel, else by direct message."""

        async def tell(reply: Reply) -> None:
            await self.responder.tell(client, channel_id=who[2] or who[1], user_id=who[1], reply=reply)

        return tell


async def _ack(ack: Callable[..., Awaitable[None]]) -> None:
    await ack()


def _digest(view: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(view, sort_keys=True).encode()).hexdigest()


def _target(body: dict[str, Any]) -> tuple[str, str]:
    """The request number and channel a post's button carries (`"12 C1"`)."""
    value = str(body["actions"][0].get("value") or "")
    request, _, channel = value.partition(" ")
    return request, channel


def _presser(body: dict[str, Any], channel: str) -> Who:
    user = body["user"]
    team = user.get("team_id") or (body.get("team") or {}).get("id", "")
    return (team, user["id"], channel, user.get("username", ""), organization(body))


def _submitter(body: dict[str, Any], channel: str) -> Who:
    user = body["user"]
    return (user.get("team_id", ""), user["id"], channel, user.get("name", ""), organization(body))


def _phrase(view: dict[str, Any]) -> str:
    values = (view.get("state") or {}).get("values") or {}
    return str(((values.get("when") or {}).get("when") or {}).get("value") or "").strip()


async def _show_answer(
    client: AsyncWebClient,
    view: dict[str, Any],
    reply: Reply,
    *,
    title: str,
    metadata: dict[str, Any],
    tell: Callable[[Reply], Awaitable[None]],
) -> None:
    """The core's answer in the modal that asked for it; told to the presser otherwise (the modal was closed)."""
    try:
        await client.views_update(
            view_id=str(view.get("id")), view=home_blocks.answer_view(reply, title=title, metadata=metadata)
        )
    except SlackApiError as exc:
        logger.warning("views.update failed: %s", error_code(exc))
        await tell(reply)
