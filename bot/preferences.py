"""`/accounts` and `/timezone`: which accounts a channel uses, what people call them, whose clock is whose."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from babel.core import get_global

from bot.accounts import describe_known, names_account, resolve_accounts
from bot.context import Context
from bot.dates import format_local, reads_as_time, zone
from bot.dates.zones import PLACES, REGIONS, abbreviation_meanings, known_first
from bot.errors import BadCommand, InvalidTime, NotAllowed
from bot.grammar import RESERVED_WORDS
from bot.model import Account, Command, Reply

_ALIAS = re.compile(r"^[\w.@-]{1,40}$")
_OFFSET = re.compile(r"(?:utc|gmt)?\s*([+-])\s*(\d{1,2})(?::?(\d{2}))?", re.IGNORECASE)
_ACCOUNTS_WORDS = frozenset({"none", "clear", "all"})  # what `/accounts default|alias|allow` read as words
_ALIAS_USAGE = "Write `/accounts alias <name> <account>` with a one-word name, e.g. `/accounts alias launch acc_123`."
ACCOUNTS_USAGE = (
    "`/accounts` lists the accounts; admins can use `/accounts default <accounts>` (or `default none`), "
    "`/accounts alias <name> <account>` (or `alias <name> none`) and `/accounts allow <accounts>` "
    "(or `allow all`)."
)


async def accounts(ctx: Context, command: Command) -> Reply:
    words = command.text.replace(",", " ").split()
    action = words[0].lower() if words else ""
    if action in ("", "list", "refresh"):
        if action == "refresh":
            (await ctx.infinipost(command.caller)).accounts.forget()
        return await _list(ctx, command)
    if action not in ("default", "defaults", "alias", "allow"):
        raise BadCommand(ACCOUNTS_USAGE)
    if not command.caller.is_admin:
        raise NotAllowed("Only an admin can change this channel's accounts and aliases.")
    if action == "alias":
        return await _alias(ctx, command, words[1:])
    names = words[1:]
    if not names:
        raise BadCommand(ACCOUNTS_USAGE)
    lifting = action == "allow" and [n.lower() for n in names] == ["all"]
    clearing = action != "allow" and [n.lower() for n in names] in (["none"], ["clear"])
    chosen: tuple[str, ...] = ()
    if not (lifting or clearing):
        known = await (await ctx.infinipost(command.caller)).accounts.all()
        aliases = await ctx.storage.preferences.aliases(command.caller.platform, command.caller.workspace_id)
        resolved = resolve_accounts(names, known=known, aliases=aliases)
        if action != "allow":
            await _check_allowed(ctx, command, resolved)
        chosen = tuple(a.id for a in resolved)
    current = await ctx.storage.preferences.channel_settings(command.caller.channel)
    if action == "allow":
        restricted = current.allowing_only(None if lifting else chosen)
        await ctx.storage.preferences.save_channel_settings(command.caller, restricted)
        dropped = [a for a in current.default_accounts if a not in restricted.default_accounts]
        text = (
            "This channel may post to every account."
            if lifting
            else (f"This channel may now post only to {', '.join(f'`{a}`' for a in chosen)}.")
        )
        if dropped:
            listed = ", ".join(f"`{a}`" for a in dropped)
            text += f" {listed} {'is no longer a default' if len(dropped) == 1 else 'are no longer defaults'} here."
        return Reply(text=text)
    await ctx.storage.preferences.save_channel_settings(command.caller, replace(current, default_accounts=chosen))
    if clearing:
        return Reply(text="This channel has no default accounts now; each /post must say `to ...`.")
    return Reply(text=f"Posts from this channel go to {', '.join(f'`{a}`' for a in chosen)} unless they say `to`.")


async def _list(ctx: Context, command: Command) -> Reply:
    known = await (await ctx.infinipost(command.caller)).accounts.all()
    settings = await ctx.storage.preferences.channel_settings(command.caller.channel)
    aliases = await ctx.storage.preferences.aliases(command.caller.platform, command.caller.workspace_id)
    if not known:
        return Reply(text=describe_known(known))
    lines = ["Accounts:"]
    for account in known:
        marks = [account.readiness]  # Infinipost's word: ready, or how far its warm-up is
        if account.id in settings.default_accounts:
            marks.append("default here")
        if settings.allowed_accounts is not None and account.id not in settings.allowed_accounts:
            marks.append("not allowed here")
        names = sorted(alias for alias, target in aliases.items() if target == account.id)
        also = f" · also `{'`, `'.join(names)}`" if names else ""
        lines.append(f"• `{account.id}` {account.label}{also} · {', '.join(marks)}")
    if not settings.default_accounts:
        lines.append("This channel has no default accounts: each /post needs `to <account>`.")
    return Reply(text="\n".join(lines))


async def _check_allowed(ctx: Context, command: Command, accounts: Sequence[Account]) -> None:
    """Refuse defaults the channel's allow-list forbids: every /post naming no account would be refused."""
    channel = await ctx.storage.preferences.channel_settings(command.caller.channel)
    refused = [a.label for a in accounts if not channel.allows(a.id)]
    if refused:
        raise NotAllowed(
            f"This channel may not post to {', '.join(refused)}, so {'it' if len(refused) == 1 else 'they'} "
            f"can't be {'a default' if len(refused) == 1 else 'defaults'} here. It may post to "
            f"{', '.join(f'`{a}`' for a in channel.allowed_accounts or ())}; `/accounts allow <accounts>` changes "
            "that."
        )


async def _alias(ctx: Context, command: Command, words: list[str]) -> Reply:
    if len(words) != 2:
        raise BadCommand(_ALIAS_USAGE)
    alias, target = words[0].lstrip("@"), words[1]  # `to @launch` finds `launch`: posts drop a leading @
    if target.lower() == "none":
        # As listed, even an old `@name`.
        removed = await ctx.storage.preferences.set_alias(command.caller, words[0], None)
        if not removed and not await ctx.storage.preferences.set_alias(command.caller, alias, None):
            raise BadCommand(f"There is no alias `{alias}`, so nothing changed. `/accounts` lists the aliases.")
        return Reply(text=f"Removed the alias `{alias}`.")
    known = await (await ctx.infinipost(command.caller)).accounts.all()
    _check_alias(alias, known)
    (account,) = resolve_accounts([target], known=known, aliases={})
    aliases = await ctx.storage.preferences.aliases(command.caller.platform, command.caller.workspace_id)
    await ctx.storage.preferences.set_alias(command.caller, alias, account.id)
    text = f"`{alias}` now means {account.label} (`{account.id}`)"
    for name, before in aliases.items():
        if name != alias and name.lower() == alias.lower():
            text += f"; it replaces `{name}`, which meant `{before}` (aliases ignore case)"
        elif name == alias and before != account.id:
            text += f"; it meant `{before}` before"
    return Reply(text=text + ".")


def _check_alias(alias: str, known: Sequence[Account]) -> None:
    """Refuse an alias that could never be used, or that would hide a real account's ID, name or username."""
    if not _ALIAS.match(alias):
        raise BadCommand(f"An alias has only letters, digits and `_ . - @`, at most 40 of them. {_ALIAS_USAGE}")
    if alias.lower() in RESERVED_WORDS | _ACCOUNTS_WORDS:
        raise BadCommand(f"`{alias}` is a word the bot's commands use, so it can't be an alias. Pick another name.")
    if reads_as_time(alias):  # `/post ... to acc_1 friday` would read it as the time
        raise BadCommand(f"`{alias}` reads as a time, so it can't be an alias. Pick another name.")
    taken = next((a for a in known if names_account(alias.lower(), a)), None)
    if taken is not None:
        raise BadCommand(
            f"`{alias}` already names {taken.label} (`{taken.id}`), so it can't be an alias. "
            "Pick a name that no account has; `/accounts` lists them."
        )


async def timezone(ctx: Context, command: Command) -> Reply:
    caller = command.caller
    argument = command.text.strip()
    if argument.lower() in ("reset", "clear", "default"):
        await ctx.storage.preferences.set_user_timezone(caller, None)
        tz = await ctx.zone_of(caller)
        return Reply(text=f"Your own zone setting is cleared; your times are read in {tz.key}.")
    if argument:
        name = canonical_zone(argument, now=ctx.clock())
        tz = zone(name)
        await ctx.storage.preferences.set_user_timezone(caller, name)
        return Reply(text=f"Your time zone is now {name}. It is {format_local(ctx.clock(), tz)} there.")
    own = await ctx.storage.preferences.user_timezone(caller)
    tz = await ctx.zone_of(caller)
    source = (
        "you set it" if own else (caller.profile_timezone_source if caller.profile_timezone else "the bot's default")
    )
    return Reply(
        text=f"Your times are read in {tz.key} ({source}); it is {format_local(ctx.clock(), tz)} there. "
        "Change it with `/timezone Europe/Paris` (any IANA zone name)."
    )


# What people type for the zones they mean; only ever suggested, since some (CST, IST) mean several.
_ABBREVIATIONS = {
    **dict.fromkeys(("et", "est", "edt"), "America/New_York"),
    **dict.fromkeys(("ct", "cst", "cdt"), "America/Chicago"),
    **dict.fromkeys(("mt", "mst", "mdt"), "America/Denver"),
    **dict.fromkeys(("pt", "pst", "pdt"), "America/Los_Angeles"),
    **dict.fromkeys(("gmt", "bst"), "Europe/London"),
    **dict.fromkeys(("cet", "cest"), "Europe/Paris"),
    **dict.fromkeys(("aest", "aedt"), "Australia/Sydney"),
    "ist": "Asia/Kolkata",
    "jst": "Asia/Tokyo",
    **REGIONS,  # `pacific`, `eastern`
    **PLACES,  # `uk`, `nyc`, `india`
}


def canonical_zone(name: str, *, now: datetime) -> str:
    """`europe/paris` -> `Europe/Paris`; raises InvalidTime with suggestions for a name that is no zone."""
    wanted = name.strip().replace(" ", "_")
    zones = _zones()
    if wanted in zones:
        return wanted
    if offset := _OFFSET.fullmatch(name.strip()):
        raise _an_offset_is_no_zone(name.strip(), offset, now)
    folded = {z.lower(): z for z in zones}
    if wanted.lower() in folded:
        return folded[wanted.lower()]
    close = zone_choices(wanted, limit=5)
    hint = f" Did you mean {', '.join(f'`{z}`' for z in close)}?" if close else ""
    raise InvalidTime(f"`{name}` is not a time zone name. Use one like `America/New_York` or `Europe/Paris`.{hint}")


def zone_choices(prefix: str, *, limit: int = 25) -> list[str]:
    """Zone names matching what someone has typed so far, for autocompletion."""
    needle = prefix.strip().lower().replace(" ", "_")
    likely = [_ABBREVIATIONS[needle]] if needle in _ABBREVIATIONS else []
    named = abbreviation_meanings(datetime.now(UTC).year).get(needle.upper(), frozenset()) & _current_zones()
    if named:  # `est`: the zones that go by it, not every name holding those letters (`Europe/Bucharest`)
        return (likely + sorted(named - set(likely), key=known_first))[:limit]
    return (likely + sorted(z for z in _current_zones() if needle in z.lower() and z not in likely))[:limit]


def _an_offset_is_no_zone(written: str, offset: re.Match[str], now: datetime) -> InvalidTime:
    """`+3` or `GMT+2` for /timezone: an offset keeps no summer time, so the place is asked for, with the zones
    that are at that offset now. (`Etc/GMT+3` is not offered: the tz database writes it with the sign reversed.)"""
    sign, hours, minutes = offset.groups()
    wanted = (1 if sign == "+" else -1) * timedelta(hours=int(hours), minutes=int(minutes or 0))
    there = [z for z in _current_zones() if now.astimezone(ZoneInfo(z)).utcoffset() == wanted]
    there.sort(key=lambda z: (z not in _ABBREVIATIONS.values(), known_first(z)))
    listed = ", ".join(f"`{z}`" for z in there[:5])
    now_at = f" Zones at UTC{sign}{int(hours)}{f':{minutes}' if minutes else ''} now: {listed}." if listed else ""
    return InvalidTime(
        f"`{written}` is an offset from UTC, not a time zone: an offset stays put when summer time starts or ends. "
        f"Give the zone of the place whose clock you keep.{now_at}"
    )


@cache
def _current_zones() -> frozenset[str]:
    """The zones to suggest: not the old names kept as aliases (`Brazil/West`, `US/Eastern`), nor the fixed
    `Etc/GMT+3` kind, whose sign is the reverse of what people mean."""
    aliases: Mapping[str, str] = get_global("zone_aliases")
    return frozenset(z for z in _zones() if z not in aliases and not z.startswith("Etc/"))


@cache
def _zones() -> frozenset[str]:
    return frozenset(z for z in available_timezones() if "/" in z or z == "UTC")
