"""dateparser's reading of a phrase, held against ours. The only module that imports dateparser.

dateparser reads the phrase as our reader wrote it out (`Reading.for_dateparser`): the same words, spelled the
way it reads them (`weds` as `wednesday`, `half past 4pm` as `16:30`, `16.07.` as `16 july`). It fills in what
the phrase leaves out by its own rules, once preferring the future and once the current period; one of the two
must be our instant, to the second.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import dateparser
from pytz.exceptions import AmbiguousTimeError, NonExistentTimeError

from bot.dates.reading import Reading
from bot.dates.words import MONTH_NAMES, WEEKDAY_NAMES

logger = logging.getLogger(__name__)


def disagreement(reading: Reading, instant: datetime, *, now: datetime, own: ZoneInfo) -> str | None:
    """None when dateparser reads every part the phrase names as our instant has it; else the first part on
    which the two readings differ. What the phrase leaves out (which Friday) is ours to decide, not compared."""
    tz = reading.zone or own
    local = instant.astimezone(tz)
    filled = {"{month}": MONTH_NAMES[local.month - 1], "{weekday}": WEEKDAY_NAMES[local.weekday()]}
    words = [filled.get(word, word) for word in reading.for_dateparser]
    if reading.elapsed_only:  # counted in real seconds: read on the UTC clock
        zone_name, base, expected = "UTC", now.astimezone(UTC), instant.astimezone(UTC)
    else:  # a fixed offset's wall clock is read as it is
        zone_name, base, expected = (tz.key if isinstance(tz, ZoneInfo) else "UTC"), now.astimezone(tz), local
    base, expected = base.replace(tzinfo=None, microsecond=0), expected.replace(tzinfo=None)
    differences = []
    for prefer in ("future", "current_period"):
        found = _parse(" ".join(words), base=base, zone_name=zone_name, prefer=prefer, order=reading.date_order)
        difference = _difference(reading, found, expected=expected, base=base)
        if difference is None:
            return None
        differences.append(difference)
        logger.info("dateparser read a phrase as %s, not %s", found, expected)
    return differences[0]


def _difference(reading: Reading, found: datetime | None, *, expected: datetime, base: datetime) -> str | None:
    """The first part the phrase names on which `found` is not `expected`."""
    if found is None:
        return "the time"
    if reading.amounts:
        return None if found == expected else "the duration"
    weekday = reading.weekday if reading.weekday is not None else (expected.weekday() if reading.weekend else None)
    named = [
        ("the year", reading.year is not None, found.year == expected.year),
        ("the month", reading.month is not None or reading.day is not None, found.month == expected.month),
        ("the day of the month", reading.day is not None, found.day == expected.day),
        ("the day", reading.day_shift is not None, found.date() - base.date() == expected.date() - base.date()),
        ("the weekday", weekday is not None, found.weekday() == expected.weekday()),
        ("the time of day", reading.clock is not None, (found.hour, found.minute) == reading.clock),
    ]
    return next((part for part, is_named, agrees in named if is_named and not agrees), None)


def _parse(text: str, *, base: datetime, zone_name: str, prefer: str, order: str | None) -> datetime | None:
    settings: dict[str, object] = {
        "PREFER_DATES_FROM": prefer,
        "RELATIVE_BASE": base,  # naive: dateparser 1.5 loses bare times ("9am") with an aware base
        "TIMEZONE": zone_name,
        "RETURN_AS_TIMEZONE_AWARE": False,
    }
    if order:
        settings["DATE_ORDER"] = order
    try:
        return dateparser.parse(text, languages=["en"], settings=settings)
    except (AmbiguousTimeError, NonExistentTimeError, ValueError, OverflowError, TypeError, AttributeError):
        logger.info("dateparser could not handle a phrase", exc_info=True)
        return None


def warm_up() -> None:
    """The first parse loads dateparser's language data (about 0.3 s); pay for it at start-up instead."""
    _parse("tomorrow 9am", base=datetime(2026, 1, 1, 12, 0), zone_name="UTC", prefer="future", order=None)
