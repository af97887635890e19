"""Zones as people write them in a phrase, and the country a zone is in.

Read: IANA names (`Europe/London`), `UTC`/`GMT` with or without an offset (`UTC+2`, `GMT -5`), bare offsets
(`+3`, `-0500`, `+05:30`), North American region words (`ET`, `pacific`, `eastern time`), which follow daylight
saving, and the abbreviations listed in ABBREVIATIONS. An abbreviation's meanings come from the tz database
(every zone that uses it, in winter and in summer) plus the ones people use that the database does not spell
(`BST` for Bangladesh, `AST` for Arabia, ...). One that names several offsets is settled by the caller's own
zone, then by the zones of the caller's country; otherwise it is asked about.
"""

from __future__ import annotations

import difflib
import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from babel.core import get_global

from bot.dates.problem import PhraseProblem
from bot.errors import InvalidTime

# The abbreviations read as zones. Others that the tz database has are also ordinary words (`EAT`, `CAT`,
# `WAT`, `MET`, `WET`, `WEST`, `WIT`), so a phrase that holds one is asked about instead.
ABBREVIATIONS = frozenset({
    "UTC", "GMT", "EST", "EDT", "CST", "CDT", "MST", "MDT", "PST", "PDT", "AKST", "AKDT", "HST", "AST", "ADT",
    "NST", "NDT", "BST", "IST", "CET", "CEST", "EET", "EEST", "MSK", "SAST", "PKT", "JST", "KST", "HKT",
    "SGT", "SST", "GST", "ICT", "PHT", "WIB", "AEST", "AEDT", "ACST", "ACDT", "AWST", "NZST", "NZDT",
})  # fmt: skip
# Meanings people give abbreviations that the tz database writes as a bare offset.
_SPOKEN_MEANINGS = (
    ("BST", "Asia/Dhaka"),  # Bangladesh Standard Time
    ("AST", "Asia/Riyadh"),  # Arabia Standard Time
    ("GST", "Asia/Dubai"),  # Gulf Standard Time
    ("GST", "Atlantic/South_Georgia"),  # South Georgia Time
    ("SST", "Asia/Singapore"),  # Singapore Standard Time
    ("SGT", "Asia/Singapore"),
    ("ICT", "Asia/Bangkok"),
    ("PHT", "Asia/Manila"),
)
# Zones named first when an abbreviation is asked about: Infinipost's own list, then other large ones.
_WELL_KNOWN = frozenset({
    "America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles", "America/Anchorage",
    "Pacific/Honolulu", "Europe/London", "Europe/Paris", "Asia/Tokyo", "Asia/Singapore", "Australia/Sydney",
    "Asia/Shanghai", "Asia/Kolkata", "Asia/Manila", "Asia/Dhaka", "Europe/Dublin", "Asia/Jerusalem",
    "America/Havana", "America/Halifax", "Asia/Riyadh", "Asia/Dubai", "Pacific/Pago_Pago",
})  # fmt: skip
# Region words: the region's local time, daylight saving and all.
REGIONS = {
    "et": "America/New_York",
    "eastern": "America/New_York",
    "ct": "America/Chicago",
    "central": "America/Chicago",
    "mt": "America/Denver",
    "mountain": "America/Denver",
    "pt": "America/Los_Angeles",
    "pacific": "America/Los_Angeles",
}

_END = r"(?=[\s,]|$)"
_IANA = re.compile(r"[a-z]+(?:/[a-z0-9_+-]+)+" + _END)
_UTC_OFFSET = re.compile(r"(?:utc|gmt)(?:\s*([+-])\s*(\d{1,2})(?::?(\d{2}))?)?" + _END)
_OFFSET = re.compile(r"([+-])(\d{1,2})(?::?(\d{2}))?" + _END)
_REGION = re.compile(
    r"(?:us\s+)?(eastern|central|mountain|pacific)(?:\s+(?:standard\s+|daylight\s+)?time)?" + _END
    + r"|\((et|ct|mt|pt)\)" + _END
    + r"|(et|ct|mt|pt)\.?" + _END
)  # fmt: skip
_ABBREVIATION = re.compile(r"\(?([a-z]{2,5})\)?" + _END)
_EXAMPLE_ZONES = "`America/New_York`, `Europe/London` or `Asia/Tokyo`"


def zone(name: str) -> ZoneInfo:
    """The IANA zone called `name`, or an InvalidTime saying how to name one."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidTime(f"`{name}` is not a time zone I know. Use an IANA name such as {_EXAMPLE_ZONES}.") from exc


@dataclass(frozen=True)
class ZoneMatch:
    """A zone named in a phrase: where its clock times and days are read, and where the words end."""

    zone: tzinfo
    end: int


def match_zone(text: str, pos: int, *, own: ZoneInfo, year: int) -> ZoneMatch | None:
    """The zone written at `text[pos:]`, if one is. Raises PhraseProblem for a zone name that is no zone, and for
    an abbreviation that names several zones the caller's own zone does not settle."""
    if found := _IANA.match(text, pos):
        return ZoneMatch(_iana(found.group(0), text), found.end())
    if found := _UTC_OFFSET.match(text, pos):
        sign, hours, minutes = found.groups()
        return ZoneMatch(_fixed(sign, hours, minutes, found.group(0)) if sign else UTC, found.end())
    if found := _OFFSET.match(text, pos):
        sign, hours, minutes = found.groups()
        return ZoneMatch(_fixed(sign, hours, minutes, found.group(0)), found.end())
    if found := _REGION.match(text, pos):
        word = next(group for group in found.groups() if group)
        return ZoneMatch(ZoneInfo(REGIONS[word]), found.end())
    if (found := _ABBREVIATION.match(text, pos)) and found.group(1).upper() in ABBREVIATIONS:
        written = found.group(0)
        return ZoneMatch(_abbreviation(written, text, own=own, year=year), found.end())
    return None


def _iana(written: str, text: str) -> ZoneInfo:
    keys = _zone_keys()
    key = keys.get(written)
    if key is None:
        close = [keys[name] for name in difflib.get_close_matches(written, keys, n=2, cutoff=0.8)]
        raise PhraseProblem(
            f"`{written}` is not a time zone I know; use an IANA name such as {_EXAMPLE_ZONES}",
            examples=tuple(text.replace(written, name) for name in close),
        )
    return ZoneInfo(key)


def utc_offset(written: str) -> tzinfo:
    """The fixed zone of an offset written `+01:00`, `-0500` or `+3`."""
    found = _OFFSET.fullmatch(written)
    if found is None:
        raise PhraseProblem(f"`{written}` is not a UTC offset; offsets run from `-12` to `+14`")
    sign, hours, minutes = found.groups()
    return _fixed(sign, hours, minutes, written)


def _fixed(sign: str, hours: str, minutes: str | None, written: str) -> tzinfo:
    offset = timedelta(hours=int(hours), minutes=int(minutes or 0))
    if offset > timedelta(hours=14) or int(minutes or 0) not in (0, 30, 45):
        raise PhraseProblem(f"`{written.strip()}` is not a UTC offset; offsets run from `-12` to `+14`")
    offset = -offset if sign == "-" else offset
    return timezone(offset, f"UTC{_offset_text(offset)}") if offset else UTC


def _offset_text(offset: timedelta) -> str:
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _abbreviation(written: str, text: str, *, own: ZoneInfo, year: int) -> tzinfo:
    """The caller's own zone when it is one of its names (`EST` or `EDT` in New York follow its clock), else the
    one offset the name stands for, settled by the caller's country where it names several."""
    name = written.strip("()").upper()
    if name in {datetime(year, month, 1, tzinfo=own).tzname() for month in (1, 7)}:
        return own
    meanings = abbreviation_meanings(year)[name]
    offsets = {offset for offset, _ in meanings}
    if len(offsets) > 1:
        country = country_of(own.key)
        offsets = {offset for offset, key in meanings if country and country_of(key) == country}
    if len(offsets) == 1:
        (offset,) = offsets
        return timezone(offset, name) if offset else UTC
    places = _one_zone_per_offset(meanings)
    raise PhraseProblem(
        f"`{name}` names several time zones ({', '.join(places[:4])}); write the zone itself, or set your own "
        "zone with `/timezone` and leave the zone out",
        examples=tuple(text.replace(written, key, 1) for key in places[:2]),
    )


def _one_zone_per_offset(meanings: frozenset[tuple[timedelta, str]]) -> list[str]:
    """A zone people know for each offset an abbreviation can mean, to name them in a question."""
    aliases: Mapping[str, str] = get_global("zone_aliases")
    chosen: dict[timedelta, str] = {}
    for offset, key in sorted(meanings, key=lambda pair: (pair[1] not in _WELL_KNOWN, pair[1])):
        if key not in aliases:
            chosen.setdefault(offset, key)
    return list(chosen.values())


@cache
def abbreviation_meanings(year: int) -> dict[str, frozenset[tuple[timedelta, str]]]:
    """Each abbreviation's (UTC offset, zone) pairs in `year`: the zones that use it in winter or summer."""
    found: defaultdict[str, set[tuple[timedelta, str]]] = defaultdict(set)
    for key in available_timezones():
        tz = ZoneInfo(key)
        for month in (1, 7):
            local = datetime(year, month, 1, 12, tzinfo=UTC).astimezone(tz)
            name, offset = (local.tzname() or "").upper(), local.utcoffset()
            if name in ABBREVIATIONS and offset is not None:
                found[name].add((offset, key))
    for name, key in _SPOKEN_MEANINGS:
        offset = datetime(year, 1, 1, 12, tzinfo=UTC).astimezone(ZoneInfo(key)).utcoffset()
        if offset is not None:
            found[name].add((offset, key))
    return {name: frozenset(pairs) for name, pairs in found.items()}


@cache
def _zone_keys() -> dict[str, str]:
    """Zone names as people may type them (any case) -> the IANA key."""
    return {key.lower(): key for key in available_timezones()}


def country_of(key: str) -> str | None:
    """The ISO country a zone is in (`America/New_York` -> `US`), from CLDR; None for `UTC` and the like."""
    territories: Mapping[str, str] = get_global("zone_territories")
    aliases: Mapping[str, str] = get_global("zone_aliases")
    territory = territories.get(key) or territories.get(aliases.get(key, ""))
    return territory if territory and territory.isalpha() and territory != "ZZ" else None
