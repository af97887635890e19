"""Which Infinipost client serves a workspace: its own key's, once an admin connected one (`/infinipost connect`),
else the bot's default (INFINIPOST_API_KEY, or the sandbox's).

Every call made for a workspace's post (create, cancel, reschedule, `/accounts`, `/posts refresh`, the tracker,
reconciliation) asks `ApiClients.of` for the workspace's client at the time of the call, so that it always uses the
workspace's current key: after a disconnect, its posts are followed with the default key again. A workspace's
own key goes to the same Infinipost as the default one (the sandbox, when the bot runs against the sandbox), so
that a bot that says `[sandbox]` never really posts.

Which key a workspace has is read from the database and kept in memory for KEY_FRESH_SECONDS: a connect or
disconnect made here is seen at once (`forget`), one made by another replica on the same database within that
time. Keys are opened with BOT_ENCRYPTION_KEY; a workspace whose key cannot be opened is refused, never quietly
served with the default key (its posts would go to another Infinipost account).
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from cachetools import TTLCache

from bot.accounts import AccountDirectory
from bot.api import InfinipostClient
from bot.caching import MISSING, fresh
from bot.errors import NotSetUp, StorageError
from bot.ports import WorkspaceKeys
from bot.records import WorkspaceKey
from bot.sealing import Sealer

logger = logging.getLogger(__name__)

KEY_FRESH_SECONDS = 2.0  # as other settings: another replica sees a connect or disconnect within seconds
KEY_CACHE_SIZE = 10_000  # workspaces whose key (or lack of one) is kept in memory

# Makes a client for an API key; `auth_message` is what a refusal of that key says in chat.
ClientFactory = Callable[..., InfinipostClient]


def key_refused(last4: str) -> str:
    """What a workspace hears when Infinipost refuses its own key."""
    return (
        f"Infinipost refused this workspace's own API key (…{last4}). An admin can connect a new one with "
        "`/infinipost connect`, or go back to the bot's default key with `/infinipost disconnect`."
    )


@dataclass(frozen=True, kw_only=True)
class WorkspaceApi:
    """The client and account list a workspace's calls go through."""

    api: InfinipostClient
    accounts: AccountDirectory
    last4: str | None = None  # the last four characters of the workspace's own key; None: the default key


class ApiClients:
    """The keyed provider: workspace -> Infinipost client, cached, forgotten on connect and disconnect.

    Args:
        default: the client of the bot's default key, and its account list.
        keys: where workspaces' sealed keys are kept.
        encryption_key: BOT_ENCRYPTION_KEY (None: unset), which opens them.
        make_client: builds a client for a key (`make_client(key, auth_message=...)`), with the default client's
            address and settings.
        configured_ids: BOT_ACCOUNTS, for a workspace's account list where Infinipost does not list accounts.
    """

    def __init__(
        self,
        *,
        default: WorkspaceApi,
        keys: WorkspaceKeys,
        encryption_key: str | None,
        make_client: ClientFactory,
        configured_ids: Sequence[str] = (),
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.default = default
        self._keys = keys
        self._encryption_key = encryption_key
        self._make_client = make_client
        self._configured = tuple(configured_ids)
        # (platform, workspace) -> (key, last4), or None for the default key
        self._places: TTLCache[tuple[str, str], tuple[str, str] | None, float] = TTLCache(
            KEY_CACHE_SIZE, KEY_FRESH_SECONDS, timer=monotonic
        )
        # By a hash of the key: one client for each key in use, shared by the workspaces that connected it.
        self._clients: dict[str, WorkspaceApi] = {}

    @property
    def can_seal(self) -> bool:
        """Whether BOT_ENCRYPTION_KEY is set, so that keys can be kept."""
        return self._encryption_key is not None

    def sealer(self) -> Sealer:
        if self._encryption_key is None:
            raise NotSetUp(
                "Connecting a workspace's own Infinipost key needs BOT_ENCRYPTION_KEY, which whoever runs the bot "
                "must set first."
            )
        return Sealer(self._encryption_key)

    async def of(self, platform: str, workspace_id: str) -> WorkspaceApi:
        """The workspace's own client if it connected a key, else the default one. NotSetUp or StorageError (with
        a message for chat) when its key cannot be opened."""
        place = (platform, workspace_id)
        found = fresh(self._places, place, MISSING)
        if found is MISSING:
            stored = await self._keys.get(platform, workspace_id)
            found = None if stored is None else (self._open(stored), stored.last4)
            self._places[place] = found
        if found is None:
            return self.default
        key, last4 = found
        return self._client(key, last4)

    async def check(self, key: str) -> None:
        """Ask Infinipost once whether it takes `key` (ApiAuthError if it refuses it, ApiError if it cannot say),
        through a client of its own that is closed at once."""
        async with self._make_client(key, auth_message="Infinipost refused that key.") as client:
            await client.check_key()

    def forget(self, platform: str, workspace_id: str) -> None:
        """A workspace connected or disconnected a key here: its next call reads which, at once."""
        self._places.pop((platform, workspace_id), None)

    async def aclose(self) -> None:
        for workspace_api in self._clients.values():
            await workspace_api.api.aclose()
        self._clients.clear()

    def _open(self, stored: WorkspaceKey) -> str:
        if self._encryption_key is None:
            raise NotSetUp(
                "This workspace's own Infinipost key cannot be read: BOT_ENCRYPTION_KEY is not set. Ask whoever "
                "runs the bot to set it back, or an admin can `/infinipost disconnect` to use the default key."
            )
        try:
            return Sealer(self._encryption_key).open(stored.sealed)
        except StorageError as exc:
            raise StorageError(
                "This workspace's own Infinipost key cannot be read with BOT_ENCRYPTION_KEY. Ask whoever runs the "
                "bot to add back the key it was connected with, or an admin can `/infinipost connect` it again."
            ) from exc

    def _client(self, key: str, last4: str) -> WorkspaceApi:
        digest = hashlib.sha256(key.encode()).hexdigest()
        found = self._clients.get(digest)
        if found is None:
            api = self._make_client(key, auth_message=key_refused(last4))
            found = WorkspaceApi(api=api, accounts=AccountDirectory(api, configured_ids=self._configured), last4=last4)
            # A client no workspace uses any more (after a disconnect) is kept until the bot stops: calls made
            # with it may still be under way, and there is one per key ever connected.
            self._clients[digest] = found
        return found
