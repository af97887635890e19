"""The accounts the bot may post to, and how people name them.

Infinipost's `GET /accounts` is implied by its docs but not documented, so the list comes from it when it
answers and otherwise (404, 403, 405, or an answer of unknown shape) from BOT_ACCOUNTS, each checked with
`GET /accounts/{id}` where that exists.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence

from cachetools import TTLCache

from bot.api import InfinipostClient
from bot.caching import fresh
from bot.errors import ApiError, ApiNotFound, ApiProtocolError, ApiUnavailable, BadCommand, UnknownAccount
from bot.model import Account
from bot.texts import clip

logger = logging.getLogger(__name__)

CACHE_SECONDS = 300.0
MAX_ACCOUNTS_PER_POST = 10  # a sk_test key is limited to 10 accounts, and one post per account is created


class AccountDirectory:
    """A cached list of accounts, with name resolution. Stale data is used while the API is unreachable."""

    def __init__(
        self,
        api: InfinipostClient,
        *,
        configured_ids: Sequence[str] = (),
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._api = api
        self._configured = tuple(configured_ids)
        self._fresh: TTLCache[str, list[Account], float] = TTLCache(maxsize=1, ttl=CACHE_SECONDS, timer=monotonic)
        self._last: list[Account] | None = None  # however old: better than nothing while Infinipost is away
        self._warned = False  # that Infinipost does not list accounts: said once, not at every refresh

    async def all(self) -> list[Account]:
        listed = fresh(self._fresh, "all")
        if listed is not None:
            return listed
        try:
            accounts = await self._fetch()
        except ApiUnavailable:
            if self._last is None:
                raise
            logger.warning("Infinipost unreachable; using the account list from earlier")
            return self._last
        self._fresh["all"] = self._last = accounts
        return accounts

    def forget(self) -> None:
        self._fresh.clear()
        self._last = None

    async def _fetch(self) -> list[Account]:
        try:
            return await self._api.list_accounts()
        except ApiError as exc:
            if not _not_listed(exc):
                raise
            if not self._configured:
                raise ApiNotFound(
                    "Infinipost does not list the accounts of this API key. Ask whoever runs the bot to set "
                    "BOT_ACCOUNTS to the account IDs (acc_…), separated by commas."
                ) from exc
            if not self._warned:
                self._warned = True
                logger.warning(
                    "GET /accounts %s; using the accounts in BOT_ACCOUNTS",
                    f"answered {exc.status}" if exc.status else "answered in a shape the bot does not know",
                )
        described: dict[str, Account | None] = {}  # None: Infinipost answered 404
        for account_id in self._configured:
            try:
                described[account_id] = await self._api.get_account(account_id)
            except ApiNotFound:
                described[account_id] = None
            except ApiError:
                described[account_id] = Account(id=account_id, platform="", name=account_id)
        endpoint_works = any(account is not None and account.platform for account in described.values())
        missing = [account_id for account_id, account in described.items() if account is None]
        if missing and endpoint_works:
            # GET /accounts/{id} exists, since it described others: these accounts do not.
            logger.warning("BOT_ACCOUNTS names accounts Infinipost does not have, left out: %s", ", ".join(missing))
            return [account for account in described.values() if account is not None]
        if missing:
            logger.warning("Infinipost does not describe the accounts in BOT_ACCOUNTS; taking them on trust")
        return [
            account or Account(id=account_id, platform="", name=account_id) for account_id, account in described.items()
        ]


def _not_listed(exc: ApiError) -> bool:
    """Whether an error of GET /accounts (not in Infinipost's reference) means it does not list accounts here:
    absent, not allowed for this key or this method, or answering in a shape the bot does not know. A 401 is a
    wrong API key, and an outage is an outage."""
    return exc.status in (403, 404, 405) or (isinstance(exc, ApiProtocolError) and exc.status is None)


def resolve_accounts(
    names: Sequence[str], *, known: Sequence[Account], aliases: Mapping[str, str], caption_given: bool = True
) -> tuple[Account, ...]:
    """Turn what people typed (IDs, names, @usernames, aliases) into known, ready accounts, in order. Without
    `caption_given`, unknown words after a known account are most likely the caption, and the refusal says so."""
    typed = [name.strip().strip(",") for name in names]
    names = list(dict.fromkeys(typed))
    if len(names) > MAX_ACCOUNTS_PER_POST:
        raise BadCommand(f"One post can go to at most {MAX_ACCOUNTS_PER_POST} accounts; you named {len(names)}.")
    by_id = {a.id: a for a in known}
    lowered_aliases = {alias.lower(): account_id for alias, account_id in aliases.items()}
    chosen: list[Account] = []
    for raw in names:
        name = raw.strip().strip(",")
        key = name.lower().lstrip("@")
        account = by_id.get(name)
        if account is None:
            matches = [a for a in known if names_account(key, a)]
            # An alias made before an account of that name appeared must not quietly win over it.
            aliased = by_id.get(lowered_aliases.get(key, ""))
            if aliased is not None and aliased not in matches:
                matches.append(aliased)
            if len(matches) > 1:
                listed = ", ".join(f"`{a.id}` ({a.label})" for a in matches)
                raise UnknownAccount(f"`{name}` could mean {listed}. Use the account ID.")
            account = matches[0] if matches else None
        if account is None:
            caption = " If that was the caption, put it after ` -- `." if " " in name else ""
            if chosen and not caption_given:
                at = typed.index(name)
                rest = clip(" ".join(typed[at:]), 80)
                caption = f" If `{rest}` is the caption, put it after ` -- `: `to {', '.join(typed[:at])} -- {rest}`."
            raise UnknownAccount(f"I don't know an account called `{name}`.{caption} {describe_known(known)}")
        if not account.is_ready:
            raise UnknownAccount(
                f"{account.label} is not ready for posting yet (it is `{account.status}`). "
                "Infinipost accounts can post once their warm-up is over."
            )
        if account not in chosen:
            chosen.append(account)
    return tuple(chosen)


def names_account(key: str, account: Account) -> bool:
    """Whether a lowercased name without its leading `@` is this account's ID, name or username."""
    return key in (account.id.lower(), account.name.lower(), account.username.lower().lstrip("@"))


def describe_known(known: Sequence[Account]) -> str:
    if not known:
        return "The bot knows no accounts yet: check INFINIPOST_API_KEY, or set BOT_ACCOUNTS."
    listed = ", ".join(f"`{a.id}` ({a.label})" for a in known if a.is_ready)
    return f"Known accounts: {listed}." if listed else "None of the known accounts is ready for posting yet."
