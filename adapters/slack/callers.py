"""Who sent a Slack payload, as each kind of payload says it, and the Caller the core hears from."""

from __future__ import annotations

from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.people import SlackPeople
from bot.model import Caller

# Workspace, user, channel, display name and Enterprise Grid org (if any), as a payload gives them.
Who = tuple[str, str, str, str, str | None]


async def find_caller(
    people: SlackPeople, who: Who, client: AsyncWebClient | None = None, *, with_groups: bool = False
) -> Caller:
    """The Caller for a payload's sender, with the name, zone and rights SlackPeople knows them by; `client` is
    the request's, with its workspace's token. `with_groups`: also their user groups (for approving)."""
    team_id, user_id, channel_id, name, organization_id = who
    return await people.caller(
        team_id=team_id,
        user_id=user_id,
        channel_id=channel_id,
        fallback_name=name,
        organization_id=organization_id,
        client=client,
        with_groups=with_groups,
    )


def organization(body: dict[str, Any]) -> str | None:
    """The Enterprise Grid org a request comes from, where each kind of payload says it."""
    enterprise = body.get("enterprise")
    if isinstance(enterprise, dict) and enterprise.get("id"):
        return str(enterprise["id"])
    team = body.get("team")
    found = body.get("enterprise_id") or (team.get("enterprise_id") if isinstance(team, dict) else None)
    return str(found) if found else None
