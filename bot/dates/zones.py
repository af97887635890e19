"""Zones as people write them in a phrase, and the country a zone is in.

Read: IANA names (`Europe/London`) and their cities (`new york time`), `UTC`/`GMT` with or without an offset
(`UTC+2`, `GMT -5`: `GMT` is UTC, all year), bare offsets (`+3`, `-0500`, `+05:30`), region words (`eastern`,
`pacific time`, `ET`, `us central`) and the abbreviations listed in ABBREVIATIONS.

The rule: a zone word stands for every zone it may mean to the caller, and an abbreviation also for the offset
it names (`PST` is UTC-8). At the instant the phrase means, those zones must keep one clock, and that clock
must be the abbreviation's offset; otherwise the bot asks, naming the alternatives. So `9am PST` in January is
9am in Los Angeles, and in July (when Los Angeles keeps PDT) it is asked about: Los Angeles, or UTC-8? Where a
zone of the same country keeps the abbreviation all year, that zone is offered instead of the bare offset
(`AEST`: Sydney, or Brisbane).

What a word may mean:
- An abbreviation: the tz database's zones that use it in winter or in summer, plus the ones people give it that
  the database writes as an offset (`BST` for Bangladesh, `EST` for eastern Australia). The caller's own zone
  settles it when it is one of them, then the zones of the caller's country, then of their continent.
- A region word: the US region (`eastern` is New York's clock) and, for a caller in Australia or Europe, the
  region of that name there too (Sydney's, or Eastern European time); `us eastern` and the letters `ET`, `CT`,
  `MT`, `PT` mean the US region only. `... standard time` and `... daylight time` name the region's winter or
  summer abbreviation (`EST`, `EDT`). Where the caller's own zone keeps the region's clock (Phoenix for
  `mountain`, Brisbane for `eastern`), the own zone is meant.

Reading a zone word and checking what it may mean are kept in one module, a little over our usual length: both
rest on the same tables (abbreviations, regions, places) and on the same view of the tz database.
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
from bot.dates.words import long_date
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
# Region words: the US region's local time, daylight saving and all, for everyone.
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
# What the region words also mean to people whose zone is in Australia, or in Europe.
_AUSTRALIAN_REGIONS = {"eastern": "Australia/Sydney", "central": "Australia/Adelaide", "western": "Australia/Perth"}
_EUROPEAN_REGIONS = {"eastern": "Europe/Athens", "central": "Europe/Paris"}
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
    r"(us\s+)?(eastern|central|mountain|pacific|western)(?:\s+(?:(standard|daylight)\s+)?time)?" + _END
    + r"|\((et|ct|mt|pt)\)" + _END
    + r"|(et|ct|mt|pt)\.?" + _END
)  # fmt: skip
_LETTERS = {"et": "eastern", "ct": "central", "mt": "mountain", "pt": "pacific"}  # the US regions' own letters
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
        return ZoneMatch(UTC, found.end())  # GMT is +0 all year, in London too
    if found := _OFFSET.match(text, pos):
        sign, hours, minutes = found.groups()
        return ZoneMatch(_fixed(sign, hours, minutes, found.group(0)), found.end())
    if found := _REGION.match(text, pos):
        us, word, kind, paren, letters = found.groups()
        if word is None:
            us, word = "us", _LETTERS[paren or letters]
        return _region(word, found.end(), us=bool(us), kind=kind, own=own, year=year)
    if found := _city_pattern().match(text, pos):
        return ZoneMatch(ZoneInfo(_cities()[found.group(1)]), found.end())
    if found := _PLACE.match(text, pos):
        return ZoneMatch(ZoneInfo(PLACES[found.group(1)]), found.end())
    if (found := _ABBREVIATION.match(text, pos)) and found.group(1).upper() in ABBREVIATIONS:
        return _abbreviation(found, text, own=own, year=year)
    return None


def _region(word: str, end: int, *, us: bool, kind: str | None, own: ZoneInfo, year: int) -> ZoneMatch | None:
    """`eastern`, `pacific time`, `ET`, `us central`: the US region's zone and, unless the words say US, the
    region of that name in the caller's part of the world. The caller's own zone where it keeps that region's
    clock (Phoenix for `mountain`, Brisbane for `eastern`). `standard time` or `daylight time` names the region's
    winter or summer abbreviation, whose offset is then checked like any abbreviation's."""
    local = {}
    if not us and country_of(own.key) == "AU":
        local = _AUSTRALIAN_REGIONS
    elif not us and own.key.startswith("Europe/"):
        local = _EUROPEAN_REGIONS
    regions = [key for key in (local.get(word), REGIONS.get(word)) if key]
    if not regions:
        return None
    meanings = list(dict.fromkeys(own.key if _keeps_clock(own, key, year) else key for key in regions))
    abbreviation = _season_name(ZoneInfo(regions[0]), year, daylight=kind == "daylight") if kind else None
    return ZoneMatch(ZoneInfo(meanings[0]), end, alternatives=tuple(meanings[1:]), abbreviation=abbreviation)


def _keeps_clock(own: ZoneInfo, key: str, year: int) -> bool:
    """Whether the caller's own zone keeps region `key`'s clock: in winter and summer, or (in the same country)
    its standard time all year."""
    region = ZoneInfo(key)
    if all(_offset_on(own, year, month) == _offset_on(region, year, month) for month in (1, 7)):
        return True
    return country_of(key) == country_of(own.key) and _standard_offsets(region, year) == _standard_offsets(own, year)


def _offset_on(tz: tzinfo, year: int, month: int) -> timedelta | None:
    return datetime(year, month, 1, 12, tzinfo=tz).utcoffset()


def _season_name(tz: ZoneInfo, year: int, *, daylight: bool) -> str | None:
    """The abbreviation a zone goes by in its winter (standard) or summer (daylight) time."""
    for month in (1, 7):
        moment = datetime(year, month, 1, 12, tzinfo=tz)
        if bool(moment.dst()) == daylight:
            return str(moment.tzname()).upper()
    return None


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


def check_zone(
    zone: tzinfo,
    *,
    alternatives: tuple[str, ...],
    abbreviation: str | None,
    written: str,
    instant: datetime,
    text: str,
) -> None:
    """Raises PhraseProblem unless the zone words of a phrase name one clock at the instant meant: the zones
    they may stand for keep the same offset then, and an abbreviation's offset is the one kept (`PST` is UTC-8,
    so not in July).

    Args:
        zone: where the phrase was read; alternatives: other zones its words may stand for.
        abbreviation: the abbreviation stated (`PST`), if any; written: the zone words as the phrase has them.
        instant: the instant the phrase was read as; text: the phrase, normalised, for the examples.
    """
    if not isinstance(zone, ZoneInfo):
        return  # an offset (`+3`, `UTC`) is its own clock
    bare = written.removeprefix("in ").strip("()")
    offsets = {key: instant.astimezone(ZoneInfo(key)).utcoffset() for key in (zone.key, *alternatives)}
    if len(set(offsets.values())) > 1:
        by_offset: dict[timedelta | None, str] = {}
        for key in sorted(offsets, key=known_first):
            by_offset.setdefault(offsets[key], key)
        places = list(by_offset.values())
        name = abbreviation if abbreviation and abbreviation.lower() == bare else bare
        raise PhraseProblem(
            f"`{name}` names several time zones ({', '.join(places[:4])}); write the zone itself, or set your own "
            "zone with `/timezone` and leave the zone out",
            examples=tuple(_rewrite(text, written, key) for key in places[:2]),
        )
    if abbreviation is None:
        return
    stated = _offset_named(abbreviation, zone.key, instant.year)
    local = instant.astimezone(zone)
    if stated is None or local.utcoffset() == stated:
        return
    keeping = _keeping_all_year(abbreviation, stated, country_of(zone.key), instant.year)
    also = f"; {_place(keeping)} keeps {abbreviation} all year" if keeping else ""
    name = f"`{abbreviation}`" if bare == abbreviation.lower() else f"`{bare}` ({abbreviation})"
    raise PhraseProblem(
        f"{name} is {_utc(stated)}, but on {long_date(local)} {_place(zone.key)} keeps {local.tzname()} "
        f"({_utc(local.utcoffset())}){also}; say which",
        examples=(_rewrite(text, written, zone.key), _rewrite(text, written, keeping or _utc(stated))),
    )


def _place(key: str) -> str:
    return key.split("/")[-1].replace("_", " ")


def _rewrite(text: str, written: str, zone_name: str) -> str:
    """The phrase with another zone in place of the one written."""
    return re.sub(rf"(?<![\w/]){re.escape(written)}(?![\w/])", zone_name, text, count=1)


def _utc(offset: timedelta | None) -> str:
    """`UTC-8`, `UTC+9:30`, `UTC+0`: an offset as the phrase reader takes it back."""
    minutes = int((offset or timedelta()).total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


def _offset_named(name: str, key: str, year: int) -> timedelta | None:
    """The offset abbreviation `name` stands for in zone `key`: the zone's own when it goes by that name (`EST` in
    New York, -5), its standard time when people give it that name (`EST` in Sydney, +10), else the name's in
    the best known zone that goes by it (`MDT`, -6, for Phoenix, which keeps no summer time)."""
    others = sorted(abbreviation_meanings(year).get(name, frozenset()) - {key}, key=known_first)
    return next((offset for other in (key, *others) if (offset := _offset_in(name, other, year)) is not None), None)


def _offset_in(name: str, key: str, year: int) -> timedelta | None:
    tz = ZoneInfo(key)
    for month in (1, 7):
        moment = datetime(year, month, 1, 12, tzinfo=tz)
        if str(moment.tzname()).upper() == name:
            return moment.utcoffset()
    if (name, key) in _SPOKEN_MEANINGS:
        moment = datetime(year, 1, 1, 12, tzinfo=tz)
        return (moment.utcoffset() or timedelta()) - (moment.dst() or timedelta())
    return None


def _keeping_all_year(name: str, offset: timedelta, country: str | None, year: int) -> str | None:
    """A zone of `country` that goes by `name` and keeps `offset` all year (Brisbane for `AEST`), if one does."""
    if country is None:
        return None
    for key in sorted(abbreviation_meanings(year).get(name, frozenset()), key=known_first):
        if country_of(key) == country and all(_offset_on(ZoneInfo(key), year, month) == offset for month in (1, 7)):
            return key
    return None


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
