"""The operator's places: the servers and workspaces where the operator's Infinipost key and accounts may be used.

Nothing is allowed until an adapter names what the operator set up: the Discord servers listed in the settings,
the Slack workspace (or Enterprise Grid org) of the bot token, the console's own terminal. Anyone else who adds
the bot gets one sentence saying so, and nothing else.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from bot.model import Place

logger = logging.getLogger(__name__)

REMEMBERED_REFUSALS = 1000  # places whose refusal was logged; beyond that, refusals are logged again


class Places:
    """The allow-list the core checks every request against."""

    def __init__(self) -> None:
        self._workspaces: set[tuple[str, str]] = set()
        self._organizations: set[tuple[str, str]] = set()
        self._refused: set[Place] = set()

    def allow(self, platform: str, *, workspaces: Iterable[str] = (), organizations: Iterable[str] = ()) -> None:
        """Let these workspaces (servers), or every workspace of these organizations, use the bot."""
        self._workspaces.update((platform, workspace) for workspace in workspaces if workspace)
        self._organizations.update((platform, organization) for organization in organizations if organization)

    def withdraw(self, platform: str, *, workspaces: Iterable[str] = (), organizations: Iterable[str] = ()) -> None:
        """No longer serve these workspaces or organizations (the app was uninstalled there)."""
        self._workspaces.difference_update((platform, workspace) for workspace in workspaces)
        self._organizations.difference_update((platform, organization) for organization in organizations)

    def covers(self, place: Place) -> bool:
        """Whether the place is allowed, without logging a refusal."""
        if (place.platform, place.workspace_id) in self._workspaces:
            return True
        organization = place.organization_id
        return bool(organization) and (place.platform, organization) in self._organizations

    def serves(self, place: Place) -> bool:
        if self.covers(place):
            return True
        organization = place.organization_id
        if place not in self._refused:  # once per place: whoever adds the bot elsewhere cannot fill the log
            if len(self._refused) >= REMEMBERED_REFUSALS:
                self._refused.clear()
            self._refused.add(place)
            logger.warning(
                "refused %s workspace %s%s: the operator did not name it",
                place.platform,
                place.workspace_id,
                f" (organization {organization})" if organization else "",
            )
        return False
