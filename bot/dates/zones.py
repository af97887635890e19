"""Zones as people write them in a phrase, and the country a zone is in.

Read: IANA names (`Europe/London`) and their cities (`new york time`), `UTC`/`GMT` with or without an offset
(`UTC+2`, `GMT -5`), bare offsets (`+3`, `-0500`, `+05:30`), North American region words (`ET`, `pacific`,
`eastern time`) and the abbreviations listed in ABBREVIATIONS. A named zone is read on its own clock, daylight
saving and all: `9am PST` in July is 9am in Los Angeles, not a fixed -08:00 nobody keeps then.

An abbreviation stands for the zones that use it: the tz database's (every zone that uses the name in winter or
in summer) plus the ones people use that the database writes as an offset (`BST` for Bangladesh, `EST` for
eastern Australia). The caller's own zone settles it when it is one of them, then the zones of the caller's
country. Where several zones remain, they must show the same clock at the instant the phrase means; otherwise
the phrase is asked about.
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

import pytz
from babel.core import get_global

from bot.dates.problem import PhraseProblem
from bot.errors import InvalidTime

# The abbreviations read as zones. Others that the tz database has are also ordinary words (`EAT`, `CAT`,
# `WAT`, `MET`, `WET`, `WEST`, `WIT`), so a phrase that holds one is asked about instead.
ABBREVIATIONS = frozenset({
    "UTC", "GMT", "EST", "EDT", "CST", "CDT", "MST", "MDT", "PST", "PDT", "AKST", "AKDT", "HST", "HDT", "AST",
    "ADT", "NST", "NDT", "BST", "IST", "IDT", "CET", "CEST", "EET", "EEST", "MSK", "SAST", "PKT", "JST", "KST",
    "HKT", "SGT", "SST", "GST", "ICT", "PHT", "WIB", "WITA", "AEST", "AEDT", "ACST", "ACDT", "AWST", "NZST", "NZDT",
    "BRT", "NPT",
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
    ("BRT", "America/Sao_Paulo"),  # Brasília Time
    ("NPT", "Asia/Kathmandu"),  # Nepal Time
    ("EST", "Australia/Sydney"),  # eastern Australia, as the tz database itself wrote it until 2014
    ("EST", "Australia/Melbourne"),
    ("EST", "Australia/Brisbane"),
    ("EST", "Australia/Hobart"),
)
# Zones named first when an abbreviation is asked about: Infinipost's own list, then other large ones.
_WELL_KNOWN = (
    "America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles", "America/Anchorage",
    "Pacific/Honolulu", "Europe/London", "Europe/Paris", "Asia/Tokyo", "Asia/Singapore", "Australia/Sydney",
    "Asia/Shanghai", "Asia/Kolkata", "Asia/Manila", "Asia/Dhaka", "Europe/Dublin", "Asia/Jerusalem",
    "America/Havana", "America/Halifax", "Asia/Riyadh", "Asia/Dubai", "Pacific/Pago_Pago", "America/Phoenix",
)  # fmt: skip
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
# Eastern, central and western Australia, for people whose zone is in Australia.
_AUSTRALIAN_REGIONS = {
    "eastern": "Australia/Sydney",
    "central": "Australia/Adelaide",
    "western": "Australia/Perth",
}
# Places people name a zone by that are not a tz database city.
PLACES = {
    "uk": "Europe/London", "britain": "Europe/London", "england": "Europe/London",
    "nyc": "America/New_York", "ny": "America/New_York", "la": "America/Los_Angeles",
    "sf": "America/Los_Angeles", "india": "Asia/Kolkata", "japan": "Asia/Tokyo", "germany": "Europe/Berlin",
    "france": "Europe/Paris", "spain": "Europe/Madrid", "italy": "Europe/Rome", "hk": "Asia/Hong_Kong",
    "china": "Asia/Shanghai", "korea": "Asia/Seoul", "nz": "Pacific/Auckland", "hawaii": "Pacific/Honolulu",
    "alaska": "America/Anchorage", "arizona": "America/Phoenix", "dubai": "Asia/Dubai",
}  # fmt: skip
# Cities of the tz database that are also ordinary words in a sentence about time.
_NOT_CITIES = frozenset({"christmas", "easter", "wake", "midway", "jersey", "guernsey", "casey", "troll"})
_CONTINENTS = ("Africa", "America", "Asia", "Atlantic", "Australia", "Europe", "Indian", "Pacific")

_END = r"(?=[\s,]|$)"
_IANA = re.compile(r"[a-z]+(?:/[a-z0-9_+-]+)+" + _END)
_UTC_OFFSET = re.compile(r"(utc|gmt)(?:\s*([+-])\s*(\d{1,2})(?::?(\d{2}))?)?" + _END)
_OFFSET = re.compile(r"([+-])(\d{1,2})(?::?(\d{2}))?" + _END)
_REGION = re.compile(
    r"(?:us\s+)?(eastern|central|mountain|pacific|western)(?:\s+(?:standard\s+|daylight\s+)?time)?" + _END
    + r"|\((et|ct|mt|pt)\)" + _END
    + r"|(et|ct|mt|pt)\.?" + _END
)  # fmt: skip
_ABBREVIATION = re.compile(r"\(?([a-z]{2,5})\)?" + _END)
_PLACE = re.compile(rf"({'|'.join(sorted(PLACES, key=len, reverse=True))})(?:\s+time)?" + _END)
_EXAMPLE_ZONES = "`America/New_York`, `Europe/London` or `Asia/Tokyo`"


def zone(name: str) -> ZoneInfo:
    """The IANA zone called `name`, or an InvalidTime saying how to name one."""
    if name not in _readable_zones():  # `Factory` and `localtime` are files of the database, not zones
        raise InvalidTime(f"`{name}` is not a time zone I know. Use an IANA name such as {_EXAMPLE_ZONES}.")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidTime(f"`{name}` is not a time zone I know. Use an IANA name such as {_EXAMPLE_ZONES}.") from exc


@cache
def _readable_zones() -> frozenset[str]:
    """Zones both the standard library and dateparser (through pytz) know."""
    return frozenset(available_timezones() & pytz.all_timezones_set)


@dataclass(frozen=True)
class ZoneMatch:
    """A zone named in a phrase: where its clock times and days are read, and where the words end.

    `alternatives` are other zones the words may stand for; they must show the same clock at the instant meant.
    `abbreviation` is the name written (`EDT`), which tells apart the two 01:30s of the night the clocks go back.
    """

    zone: tzinfo
    end: int
    alternatives: tuple[str, ...] = ()
    abbreviation: str | None = None


def match_zone(text: str, pos: int, *, own: ZoneInfo, year: int) -> ZoneMatch | None:
    """The zone written at `text[pos:]` (`9am London`, or `9am in London`), if one is. Raises PhraseProblem for a
    zone name that is no zone."""
    if text.startswith("in ", pos):
        return _zone_at(text, pos + 3, own=own, year=year)
    return _zone_at(text, pos, own=own, year=year)


def _zone_at(text: str, pos: int, *, own: ZoneInfo, year: int) -> ZoneMatch | None:
    if found := _IANA.match(text, pos):
        return ZoneMatch(_iana(found.group(0), text), found.end())
    if found := _UTC_OFFSET.match(text, pos):
        word, sign, hours, minutes = found.groups()
        if sign:
            return ZoneMatch(_fixed(sign, hours, minutes, found.group(0)), found.end())
        if word.upper() in _names_of(own, year):  # GMT in London is London's clock, summer time and all
            return ZoneMatch(own, found.end(), abbreviation=word.upper())
        return ZoneMatch(UTC, found.end())
    if found := _OFFSET.match(text, pos):
        sign, hours, minutes = found.groups()
        return ZoneMatch(_fixed(sign, hours, minutes, found.group(0)), found.end())
    if found := _REGION.match(text, pos):
        return _region(next(group for group in found.groups() if group), found.end(), own=own, year=year)
    if found := _city_pattern().match(text, pos):
        return ZoneMatch(ZoneInfo(_cities()[found.group(1)]), found.end())
    if found := _PLACE.match(text, pos):
        return ZoneMatch(ZoneInfo(PLACES[found.group(1)]), found.end())
    if (found := _ABBREVIATION.match(text, pos)) and found.group(1).upper() in ABBREVIATIONS:
        return _abbreviation(found, text, own=own, year=year)
    return None


def _region(word: str, end: int, *, own: ZoneInfo, year: int) -> ZoneMatch | None:
    """`eastern`, `pacific`, `ET`...: North America's regions, or Australia's for someone whose zone is there; the
    caller's own zone where it keeps that region's standard time (Phoenix for `mountain`, Brisbane for
    `eastern`)."""
    key = _AUSTRALIAN_REGIONS.get(word) if country_of(own.key) == "AU" else REGIONS.get(word)
    if key is None:
        return None
    region = ZoneInfo(key)
    if country_of(key) == country_of(own.key) and _standard_offsets(region, year) == _standard_offsets(own, year):
        return ZoneMatch(own, end)
    return ZoneMatch(region, end)


def _standard_offsets(tz: ZoneInfo, year: int) -> set[timedelta]:
    """A zone's offsets without daylight saving, in winter and summer."""
    moments = (datetime(year, month, 1, 12, tzinfo=tz) for month in (1, 7))
    return {(m.utcoffset() or timedelta()) - (m.dst() or timedelta()) for m in moments}


def utc_offset(written: str) -> tzinfo:
    """The fixed zone of an offset written `+01:00`, `-0500` or `+3`."""
    found = _OFFSET.fullmatch(written)
    if found is None:
        raise PhraseProblem(f"`{written}` is not a UTC offset; offsets run from `-12` to `+14`")
    sign, hours, minutes = found.groups()
    return _fixed(sign, hours, minutes, written)


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


def _fixed(sign: str, hours: str, minutes: str | None, written: str) -> tzinfo:
    offset = timedelta(hours=int(hours), minutes=int(minutes or 0))
    limit = timedelta(hours=12 if sign == "-" else 14)  # no zone is behind -12 or ahead of +14
    if offset > limit or int(minutes or 0) not in (0, 30, 45):
        raise PhraseProblem(f"`{written.strip()}` is not a UTC offset; offsets run from `-12` to `+14`")
    offset = -offset if sign == "-" else offset
    if not offset:
        return UTC
    total = int(offset.total_seconds()) // 60
    return timezone(offset, f"UTC{sign}{abs(total) // 60:02d}:{abs(total) % 60:02d}")


def _names_of(tz: ZoneInfo, year: int) -> set[str]:
    """The abbreviations a zone goes by in winter and in summer."""
    return {str(datetime(year, month, 1, tzinfo=tz).tzname()).upper() for month in (1, 7)}


def _abbreviation(found: re.Match[str], text: str, *, own: ZoneInfo, year: int) -> ZoneMatch | None:
    name = found.group(1).upper()
    meanings = abbreviation_meanings(year).get(name, frozenset())
    if own.key in meanings or name in _names_of(own, year):
        return ZoneMatch(own, found.end(), abbreviation=name)  # EST or EDT in New York: the caller's own clock
    country, region = country_of(own.key), own.key.split("/")[0]
    in_country = {key for key in meanings if country and country_of(key) == country}
    in_region = {key for key in meanings if key.split("/")[0] == region}  # `CET` in London: Europe's...
    if any(key in _WELL_KNOWN for key in meanings - in_region):  # ...but `PST` in Shanghai may be California's
        in_region = set()
    zones = _prominent(in_country or in_region or set(meanings), year)
    if not zones:
        return None
    return ZoneMatch(ZoneInfo(zones[0]), found.end(), alternatives=tuple(zones[1:]), abbreviation=name)


def _prominent(zones: set[str], year: int) -> list[str]:
    """Where the zones keep different clocks, and the zones of only one of those clocks include a large one, that
    one's: `HST` is Honolulu's, not also the Aleutians'; `CET` Paris's, not also Algiers'."""
    clocks: defaultdict[tuple[timedelta | None, ...], set[str]] = defaultdict(set)
    for key in zones:
        tz = ZoneInfo(key)
        clocks[tuple(datetime(year, month, 1, 12, tzinfo=tz).utcoffset() for month in (1, 7))].add(key)
    known = [group for group in clocks.values() if group & set(_WELL_KNOWN)]
    chosen = known[0] if len(clocks) > 1 and len(known) == 1 else zones
    return sorted(chosen, key=known_first)


def ambiguity(abbreviation: str, zones: tuple[str, ...], instant: datetime, text: str) -> PhraseProblem:
    """The question for an abbreviation whose zones do not agree at the instant meant."""
    by_offset: dict[timedelta | None, str] = {}
    for key in sorted(zones, key=known_first):
        by_offset.setdefault(instant.astimezone(ZoneInfo(key)).utcoffset(), key)
    places = list(by_offset.values())
    written = next((w for w in (abbreviation.lower(), f"({abbreviation.lower()})") if w in text), abbreviation)
    return PhraseProblem(
        f"`{abbreviation}` names several time zones ({', '.join(places[:4])}); write the zone itself, or set your "
        "own zone with `/timezone` and leave the zone out",
        examples=tuple(text.replace(written, key, 1) for key in places[:2]),
    )


def known_first(key: str) -> tuple[int, str]:
    return (_WELL_KNOWN.index(key) if key in _WELL_KNOWN else len(_WELL_KNOWN), key)


@cache
def abbreviation_meanings(year: int) -> dict[str, frozenset[str]]:
    """Each abbreviation's zones in `year`: the canonical zones that use it in winter or summer, and the ones
    people give it."""
    aliases: Mapping[str, str] = get_global("zone_aliases")
    found: defaultdict[str, set[str]] = defaultdict(set)
    for key in _readable_zones() - set(aliases):
        for name in _names_of(ZoneInfo(key), year) & ABBREVIATIONS:
            found[name].add(key)
    for name, key in _SPOKEN_MEANINGS:
        found[name].add(key)
    return {name: frozenset(keys) for name, keys in found.items()}


@cache
def _zone_keys() -> dict[str, str]:
    """Zone names as people may type them (any case) -> the IANA key."""
    return {key.lower(): key for key in _readable_zones()}


@cache
def _cities() -> dict[str, str]:
    """`new york` -> `America/New_York`: the city of each canonical `Continent/City` zone, where it is one city's."""
    aliases: Mapping[str, str] = get_global("zone_aliases")
    named: defaultdict[str, set[str]] = defaultdict(set)
    for key in _readable_zones() - set(aliases):
        parts = key.split("/")
        if len(parts) == 2 and parts[0] in _CONTINENTS:
            named[parts[1].replace("_", " ").lower()].add(key)
    return {city: next(iter(keys)) for city, keys in named.items() if len(keys) == 1 and city not in _NOT_CITIES}


@cache
def _city_pattern() -> re.Pattern[str]:
    names = "|".join(re.escape(city) for city in sorted(_cities(), key=len, reverse=True))
    return re.compile(rf"({names})(?:\s+time)?" + _END)


def country_of(key: str) -> str | None:
    """The ISO country a zone is in (`America/New_York` -> `US`), from CLDR; None for `UTC` and the like."""
    territories: Mapping[str, str] = get_global("zone_territories")
    aliases: Mapping[str, str] = get_global("zone_aliases")
    territory = territories.get(key) or territories.get(aliases.get(key, ""))
    return territory if territory and territory.isalpha() and territory != "ZZ" else None
