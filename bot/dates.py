"""Time phrases ("tomorrow noon", "friday 9am", "in 2 hours") to one future instant.

The only module that imports dateparser. dateparser does the language work; the rules on top of it close the
traps listed in platforms.md 3.2: a day without a time of day keeps the current clock time or midnight, a
passed date silently moves a year ahead, a bare number is a month, an impossible clock time is dropped, and
wall-clock arithmetic is wrong across a daylight-saving change.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import dateparser
from dateparser.timezone_parser import pop_tz_offset_from_string
from pytz.exceptions import AmbiguousTimeError

from bot.errors import InvalidTime

logger = logging.getLogger(__name__)

MAX_AHEAD = timedelta(days=365)
MAX_PHRASE = 200  # characters; longer is no time phrase, and is not echoed back
EXAMPLES = "for example `tomorrow 9am`, `friday 17:30`, `in 2 hours` or `dec 24 at 10`"

_NOW_WORDS = {"now", "right now", "immediately"}
_UNITS = r"(?:secs?|seconds?|mins?|minutes?|h|hrs?|hours?|days?|weeks?|months?|years?)"
_SUB_DAY_UNIT = re.compile(r"^(?:secs?|seconds?|mins?|minutes?|h|hrs?|hours?)$")
_NUMBER = r"(?:\d+|a|an|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)"
_DURATION = re.compile(
    rf"^(?:in\s+)?{_NUMBER}\s*{_UNITS}(?:\s*(?:,|and)?\s*{_NUMBER}\s*{_UNITS})*(?:\s+from\s+now|\s+later)?$"
)
_DURATION_UNIT = re.compile(rf"{_NUMBER}\s*({_UNITS})\b")
_TIME_OF_DAY = re.compile(
    r"\d{1,2}[:.]\d{2}|\d\s*(?:am|pm|a\.m\.?|p\.m\.?)(?![a-z])"
    r"|\b(?:noon|midday|midnight|morning|afternoon|evening|tonight)\b|t\d{2}:\d{2}"
)
_WEEKDAYS = r"mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun|monday|tuesday|wednesday|thursday|friday|saturday|sunday"
_DAY_WORDS = re.compile(rf"\b(?:today|tonight|tomorrow|yesterday|next|this|week|{_WEEKDAYS})\b")
_WEEKDAY = re.compile(rf"\b(?:{_WEEKDAYS})\b")
_MONTHS = (
    r"jan|january|feb|february|mar|march|apr|april|may|jun|june|jul|july|aug|august|sep|sept|september"
    r"|oct|october|nov|november|dec|december"
)
_EXPLICIT_DATE = re.compile(rf"\b(?:{_MONTHS})\b|\d{{1,4}}[/-]\d{{1,2}}")
_YEAR = re.compile(r"\b(?:19|20)\d{2}\b")
_BARE_AT_HOUR = re.compile(r"\bat\s+(\d{1,2})(?![\d:./-])(?!\s*(?:am|pm|a\.m|p\.m|h\b))")
_DOTTED_CLOCK = re.compile(r"(?<![\d.])(\d{1,2})\.(\d{2})(?![\d.])")
_OCLOCK = re.compile(r"\b(\d{1,2})\s*o'?clock\b")
_H_CLOCK = re.compile(r"(?<!in )\b(\d{1,2})h(\d{2})?\b")  # "13h", "13h30": clock times where people write them
_EVENING = re.compile(r"\b(?:tonight|evening|afternoon|night)\b")
_LEADING_KEYWORD = re.compile(r"^(?:when|at|on)\s+")
# A time of day as written: `17:30`, `5.30pm`, `9am`, `noon`, `midnight`.
_STATED_CLOCK = re.compile(
    r"(?<![\d.:])(\d{1,2})(?:[:.](\d{2}))?\s*(am|pm|a\.m\.?|p\.m\.?)(?![a-z])|(?<![\d.:])(\d{1,2})[:.](\d{2})(?![\d])"
    r"|\b(noon|midday|midnight)\b"
)
_ISO_DATE = re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b")
_SLASH_DATE = re.compile(r"\b(\d{1,2})/(\d{1,2})(?:/\d{2,4})?\b")
# Zone names that mean a region's local time, daylight saving and all, rather than one fixed offset.
_REGION_ZONES = {"et": "America/New_York", "ct": "America/Chicago", "mt": "America/Denver", "pt": "America/Los_Angeles"}
_REGION_ZONE = re.compile(r"(?:^|\s)\(?(et|ct|mt|pt)\)?\.?(?=\s|$)")
# Abbreviations read as the one fixed offset they name. Others are words (`get`, `west`) or name several zones
# (IST, BST, AST), and count only when they are the caller's own zone's.
_FIXED_ABBREVIATIONS = frozenset({
    "UTC", "GMT", "Z", "EST", "EDT", "CST", "CDT", "MST", "MDT", "PST", "PDT", "AKST", "AKDT", "HST", "CET", "CEST",
    "EET", "EEST", "JST", "KST", "AEST", "AEDT", "ACST", "ACDT", "AWST", "NZST", "NZDT", "SGT", "HKT",
})  # fmt: skip
_AMBIGUOUS_ABBREVIATIONS = frozenset({"IST", "BST", "AST", "ADT", "SST", "GST"})
_UNIT_NAMES = {"sec": "second", "min": "minute", "h": "hour", "hr": "hour"}


def zone(name: str) -> ZoneInfo:
    """The IANA zone called `name`, or an InvalidTime saying how to name one."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidTime(
            f"`{name}` is not a time zone I know. Use an IANA name such as `America/New_York`, "
            "`Europe/London` or `Asia/Tokyo`."
        ) from exc


def parse_when(phrase: str, *, now: datetime, tz: ZoneInfo) -> datetime | None:
    """The UTC instant a time phrase means for someone in `tz` at `now`; None means "now".

    Raises InvalidTime, with an example of what works, for anything that is not one future instant within a
    year: a day without a time of day, a past time, a date that has passed this year, nonsense.
    """
    if len(phrase.strip()) > MAX_PHRASE:
        raise InvalidTime(f"That time is {len(phrase):,} characters long; write it shorter, {EXAMPLES}.")
    text = _normalise(phrase)
    if not text:
        raise InvalidTime(f"Say when to post, {EXAMPLES}.")
    if text in _NOW_WORDS:
        return None
    _reject_impossible_date(text, phrase)
    is_duration = bool(_DURATION.match(text))
    if is_duration:
        _reject_repeated_units(text, phrase)
    if not is_duration and not _TIME_OF_DAY.search(text):
        if not (_DAY_WORDS.search(text) or _EXPLICIT_DATE.search(text)):
            raise InvalidTime(f"I could not read `{phrase.strip()}` as a time. Try {EXAMPLES}.")
        raise InvalidTime(
            f"`{phrase.strip()}` has no time of day. Add one, e.g. `{phrase.strip()} 9am`, or write a "
            "duration such as `in 2 hours`."
        )
    now = now.astimezone(tz)
    if is_duration and all(_SUB_DAY_UNIT.match(u) for u in _DURATION_UNIT.findall(text)):
        # Elapsed time, not wall-clock time: "in 2 hours" is two real hours even across a DST change.
        result = _parse(text, base=now.astimezone(UTC).replace(tzinfo=None), tz_name="UTC", prefer="future")
        instant = result.replace(tzinfo=UTC) if result else None
    else:
        # A zone in the phrase ("9am UTC") is where its clock time and its day are read; dateparser alone ignores
        # it after "today", "tomorrow" or "in 2 days".
        rest, stated = _stated_zone(text, own=tz, now=now)
        wall_zone: tzinfo = stated or tz
        clocks = _stated_clocks(rest, phrase)
        try:
            instant = _resolve_wall_clock(rest, phrase, now=now.astimezone(wall_zone), tz=wall_zone, shown=tz)
        except AmbiguousTimeError as exc:  # dateparser met a time in the hour that repeats when the clocks go back
            raise _happens_twice(exc.args[0], _zone_name(wall_zone), phrase) from exc
        if instant is not None:
            _check_clock_kept(clocks, instant.astimezone(wall_zone), phrase)
    if instant is None:
        raise InvalidTime(f"I could not read `{phrase.strip()}` as a time. Try {EXAMPLES}.")
    return _checked(instant.astimezone(UTC), phrase, now=now, tz=tz)


def _normalise(phrase: str) -> str:
    text = " ".join(phrase.lower().split()).replace("half an hour", "30 minutes").replace("midday", "noon")
    text = _DOTTED_CLOCK.sub(r"\1:\2", text)  # "10.30pm" as "10:30pm", which dateparser reads
    text = _OCLOCK.sub(lambda m: f"{m.group(1)}:00", text)
    text = _H_CLOCK.sub(lambda m: f"{m.group(1)}:{m.group(2) or '00'}", text)
    # "at 10" is ten o'clock; dateparser alone would read a bare number as a month or a year.
    text = _BARE_AT_HOUR.sub(lambda m: f"at {_bare_hour(int(m.group(1)), text, phrase)}:00", text)
    return _LEADING_KEYWORD.sub("", text)


def _bare_hour(hour: int, text: str, phrase: str) -> int:
    """An hour written without am or pm: in the evening when the phrase says so, else on a 24-hour clock, except
    that 1 to 6 are too often meant as afternoon to guess."""
    if 1 <= hour <= 11 and _EVENING.search(text):
        return hour + 12
    if 1 <= hour <= 6:
        raise InvalidTime(
            f"`at {hour}` in `{phrase.strip()}` could be {hour:02d}:00 or {hour + 12}:00. "
            f"Write `{hour}am`, `{hour}pm` or `{hour + 12}:00`."
        )
    return hour


def _reject_impossible_date(text: str, phrase: str) -> None:
    """dateparser reads `2026-13-05` as year-day-month and `12/32` as a month and a year: refuse them instead."""
    for _, month, day in _ISO_DATE.findall(text):
        if not (1 <= int(month) <= 12 and 1 <= int(day) <= 31):
            raise InvalidTime(f"`{phrase.strip()}` has no such date; write dates as `2026-12-05` (year-month-day).")
    for first, second in _SLASH_DATE.findall(text):
        if int(second) > 31 or (int(first) > 12 and int(second) > 12) or 0 in (int(first), int(second)):
            raise InvalidTime(f"`{phrase.strip()}` has no such date; write dates as `12/05` (month/day) or `dec 5`.")


def _reject_repeated_units(text: str, phrase: str) -> None:
    """dateparser keeps only the last of `in 2 hours and 1 hour`."""
    units = [_UNIT_NAMES.get(unit.rstrip("s"), unit.rstrip("s")) for unit in _DURATION_UNIT.findall(text)]
    if len(units) != len(set(units)):
        raise InvalidTime(f"Give each unit once in `{phrase.strip()}`, e.g. `in 2 hours 30 minutes`.")


def _parse(text: str, *, base: datetime, tz_name: str, prefer: str) -> datetime | None:
    """dateparser's reading of `text` as a naive wall-clock time in `tz_name`; None if it has none."""
    settings = {
        "PREFER_DATES_FROM": prefer,
        "RELATIVE_BASE": base,  # naive: dateparser 1.5 loses bare times ("9am") with an aware base
        "TIMEZONE": tz_name,
        "RETURN_AS_TIMEZONE_AWARE": False,
    }
    try:
        return dateparser.parse(text, languages=["en"], settings=settings)
    except (ValueError, OverflowError, TypeError, AttributeError):
        logger.info("dateparser could not handle a phrase", exc_info=True)
        return None


def _resolve_wall_clock(text: str, phrase: str, *, now: datetime, tz: tzinfo, shown: ZoneInfo) -> datetime | None:
    """The instant `text` means read on the clock of `tz` (the caller's zone, or one the phrase named)."""
    base = now.replace(tzinfo=None)
    parser_zone = tz.key if isinstance(tz, ZoneInfo) else "UTC"  # a named offset: the wall clock is already its own
    if not _DAY_WORDS.search(text) and not _EXPLICIT_DATE.search(text):
        # A bare time of day: today's, or tomorrow's once today's has passed. dateparser's own "future" for it
        # keeps the day of the month but rolls the month or year on a month's last day (dec 31 noon -> dec 1).
        today = _parse(text, base=base, tz_name=parser_zone, prefer="current_period")
        if today is None:
            return None
        return _localise(today if today > base else today + timedelta(days=1), tz, phrase)
    upcoming = _parse(text, base=base, tz_name=parser_zone, prefer="future")
    if upcoming is None:
        return None
    # "current_period" is what "friday" means when today is friday, and what a date means this year; a phrase
    # with neither ("tomorrow", "in 2 days") reads the same either way, and parsing costs milliseconds.
    this_period = (
        _parse(text, base=base, tz_name=parser_zone, prefer="current_period")
        if _WEEKDAY.search(text) or _EXPLICIT_DATE.search(text)
        else upcoming
    )
    walls = [wall for wall in (upcoming, this_period) if wall is not None]
    ahead = sorted(wall for wall in walls if wall > base)
    if not ahead:
        return _localise(walls[0], tz, phrase)  # in the past: _checked says so
    chosen = _localise(ahead[0], tz, phrase)
    if this_period is not None and upcoming.year > this_period.year and _EXPLICIT_DATE.search(text):
        _refuse_a_passed_date(this_period.replace(tzinfo=tz), chosen, phrase, now=now, tz=shown)
    return chosen


def _refuse_a_passed_date(passed: datetime, chosen: datetime, phrase: str, *, now: datetime, tz: ZoneInfo) -> None:
    """A date without a year that has passed this year is an error, not silently next year's; only in December
    does a January date plainly mean the coming one ("jan 3" written on Dec 28)."""
    if _YEAR.search(phrase) or (now.month == 12 and chosen.month == 1 and chosen.year == now.year + 1):
        return
    if passed.year < now.year:  # feb 29 in a year without one: dateparser goes back to the last leap year
        raise InvalidTime(f"`{phrase.strip()}` is not a date in {now.year}. Give a date that exists, {EXAMPLES}.")
    raise InvalidTime(
        f"{format_local(passed, tz)} has already passed this year. If you mean next year, "
        f"add the year, e.g. `{phrase.strip()} {chosen.year}`."
    )


def _localise(wall: datetime, tz: tzinfo, phrase: str) -> datetime:
    aware = wall.replace(tzinfo=tz)
    if aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != wall:
        raise InvalidTime(
            f"{wall:%H:%M} on {wall:%a %d %b} does not exist in {_zone_name(tz)}: the clocks change then. "
            f"Pick another time than `{phrase.strip()}`."
        )
    if aware.utcoffset() != aware.replace(fold=1).utcoffset():
        raise _happens_twice(wall, _zone_name(tz), phrase)
    return aware


def _zone_name(tz: tzinfo) -> str:
    return tz.key if isinstance(tz, ZoneInfo) else str(tz.tzname(None))


def _stated_zone(text: str, *, own: ZoneInfo, now: datetime) -> tuple[str, tzinfo | None]:
    """The phrase without a zone it names, and that zone: the caller's own when it is its abbreviation (`EST` or
    `EDT` in New York, `IST` in Kolkata), `ET`/`PT`/… as the region's local time, a numeric offset or a
    well-known abbreviation (`UTC`, `PST`, `+0100`) as the fixed offset it stands for."""
    region = _REGION_ZONE.search(text)
    if region:
        rest = f"{text[: region.start()]} {text[region.end() :]}"
        return " ".join(rest.split()), ZoneInfo(_REGION_ZONES[region.group(1)])
    rest, found = pop_tz_offset_from_string(text)
    if not isinstance(found, tzinfo):
        return text, None
    name = str(found.tzname(None) or "").replace("\\", "").upper()
    rest = " ".join(rest.split())
    if name in {datetime(now.year, month, 1, tzinfo=own).tzname() for month in (1, 7)}:
        return rest, own  # winter's or summer's name of the caller's zone: their clock, daylight saving and all
    if name in _AMBIGUOUS_ABBREVIATIONS:
        raise InvalidTime(
            f"`{name}` names several time zones. Write its offset instead (`9am +0530`), or set your own zone "
            "with `/timezone` and leave the zone out."
        )
    offset = found.utcoffset(datetime(2000, 1, 1))
    if offset is None or not (name in _FIXED_ABBREVIATIONS or name.startswith(("UTC+", "UTC-"))):
        return text, None
    return rest, timezone(offset, name)


def _stated_clocks(text: str, phrase: str) -> set[tuple[int, int]]:
    """The clock times written in a phrase, as (hour, minute); raises InvalidTime for one that is no time of day
    (`25:00`, `13pm`), which dateparser would silently drop."""
    return {_clock_of(match, phrase) for match in _STATED_CLOCK.finditer(text)}


def _check_clock_kept(clocks: set[tuple[int, int]], stated_wall: datetime, phrase: str) -> None:
    """Refuse a result whose clock time is not the one written: dateparser drops a time it cannot read
    (`tomorrow 9:30:99`) and keeps the current one instead."""
    if len(clocks) > 1:
        raise InvalidTime(f"`{phrase.strip()}` has more than one time of day. Give one, {EXAMPLES}.")
    if clocks and clocks != {(stated_wall.hour, stated_wall.minute)}:
        raise InvalidTime(f"I could not read the time of day in `{phrase.strip()}`. Try {EXAMPLES}.")


def _clock_of(match: re.Match[str], phrase: str) -> tuple[int, int]:
    hour_ampm, minute_ampm, half, hour, minute, word = match.groups()
    if word:
        return (0, 0) if word == "midnight" else (12, 0)
    if half:
        hours, minutes = int(hour_ampm), int(minute_ampm or 0)
        if not 1 <= hours <= 12 or minutes > 59:
            raise InvalidTime(f"`{match.group(0).strip()}` in `{phrase.strip()}` is not a time of day.")
        return (hours % 12 + (12 if half.startswith("p") else 0), minutes)
    if int(hour) > 23 or int(minute) > 59:
        raise InvalidTime(f"`{match.group(0).strip()}` in `{phrase.strip()}` is not a time of day.")
    return (int(hour), int(minute))


def _happens_twice(wall: datetime, tz_name: str, phrase: str) -> InvalidTime:
    return InvalidTime(
        f"{wall:%H:%M} on {wall:%a %d %b} happens twice in {tz_name}: the clocks go back then. "
        f"Pick another time than `{phrase.strip()}`."
    )


def _checked(instant: datetime, phrase: str, *, now: datetime, tz: ZoneInfo) -> datetime:
    if instant <= now:
        raise InvalidTime(
            f"`{phrase.strip()}` is {format_local(instant, tz)}, which has already passed. "
            f"Give a time in the future, {EXAMPLES}, or say `now`."
        )
    wall_ahead = instant.astimezone(tz).replace(tzinfo=None) - now.astimezone(tz).replace(tzinfo=None)
    if instant - now > MAX_AHEAD and wall_ahead > MAX_AHEAD:  # a clock change in between adds no day
        raise InvalidTime(
            f"`{phrase.strip()}` is {format_local(instant, tz)}, more than a year ahead. "
            "Posts can be scheduled up to 365 days ahead."
        )
    return instant.replace(microsecond=0)


def format_local(instant: datetime, tz: ZoneInfo) -> str:
    """An instant as a reader in `tz` should see it: `Sun 29 Nov 2026, 12:00 EST (America/New_York)`."""
    local = instant.astimezone(tz)
    zone_name = f" ({tz.key})" if tz.key != local.tzname() else ""  # not "UTC (UTC)"
    return f"{local:%a %d %b %Y, %H:%M} {local.tzname()}{zone_name}"


def to_utc_iso(instant: datetime) -> str:
    """`2026-11-29T17:00:00Z`, the wire format Infinipost's create endpoint takes."""
    return instant.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def warm_up() -> None:
    """The first parse loads dateparser's language data (about 0.3 s); pay for it at start-up instead."""
    _parse("tomorrow 9am", base=datetime(2026, 1, 1, 12, 0), tz_name="UTC", prefer="future")
