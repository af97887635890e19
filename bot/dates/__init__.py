"""Time phrases ("tomorrow noon", "sat the 12th 10am", "in 2 hours") to one future instant, or a question back.

The rule: every part a phrase states (weekday, day of the month, month, year, clock time, am or pm, zone, each
duration) is checked against the instant that comes out; a part that was not used, or that disagrees, means
the bot asks back. It never guesses. Two independent readings must agree:

1. Our reader (`reading`) places every word of the phrase as a part, or names the word it cannot place. It
   refuses a phrase whose parts cannot be one instant: two times, a range, a vague span ("eod", "next week"),
   an hour of 1 to 6 without am or pm, `3/4` where nothing says whether the day or the month comes first.
2. Our calendar rules (`resolve`) turn the parts into an instant, and check that the instant states back each
   part: the weekday of the date, the clock time in the zone, and so on.
3. dateparser (`crosscheck`), the design's reader, reads the same words; its answer must be that instant.

Whatever is refused says which part could not be placed, with examples that this module accepts itself.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta

from bot.dates import crosscheck
from bot.dates.order import DateOrder, date_order
from bot.dates.problem import PhraseProblem
from bot.dates.reading import assemble
from bot.dates.resolve import resolve
from bot.dates.scan import normalise, scan
from bot.dates.words import MONTH_NAMES, long_date
from bot.dates.zones import abbreviation_meanings, check_zone, zone
from bot.errors import InvalidTime

__all__ = [
    "DateOrder", "date_order", "format_local", "parse_when", "reads_as_time", "to_utc_iso", "warm_up", "zone",
]  # fmt: skip

MAX_PHRASE = 200  # characters; longer is no time phrase, and is not echoed back


def parse_when(phrase: str, *, now: datetime, tz: ZoneInfo, locale: str | None = None) -> datetime | None:
    """The UTC instant a time phrase means for someone in `tz` at `now`; None means "now".

    `locale` is the caller's platform locale (`en-GB`), which says how they write numeric dates. Raises
    InvalidTime, naming the part that could not be placed and giving examples that work, for anything that is not
    one future instant within a year.
    """
    try:
        return _instant(phrase, now=now, tz=tz, locale=locale)
    except PhraseProblem as problem:
        examples = [e for e in problem.examples if _accepted(e, now=now, tz=tz, locale=locale)]
        examples = list(dict.fromkeys(examples))[:2] or _general_examples(now.astimezone(tz))
        listed = " or ".join(f"`{example}`" for example in examples)
        raise InvalidTime(f"{problem.message}. Try {listed}.", examples=tuple(examples)) from None


def _instant(phrase: str, *, now: datetime, tz: ZoneInfo, locale: str | None) -> datetime | None:
    written = " ".join(phrase.split())
    if len(written) > MAX_PHRASE:
        raise PhraseProblem(f"That time is {len(phrase):,} characters long; write it shorter")
    text = normalise(written)
    if not text:
        raise PhraseProblem("Say when to post")
    pieces = scan(text, phrase=written, own=tz, year=now.year)
    order = date_order(locale=locale, zone_key=tz.key)
    reading = assemble(pieces, phrase=written, text=text, order=order)
    if reading.now:
        return None
    instant = resolve(reading, now=now, own=tz)
    if reading.zone is not None:
        check_zone(
            reading.zone,
            alternatives=reading.zone_alternatives,
            abbreviation=reading.zone_abbreviation,
            written=reading.said.get("zone", ""),
            instant=instant,
            text=text,
        )
    part = crosscheck.disagreement(reading, instant, now=now, own=tz)
    if part is not None:
        raise PhraseProblem(f"I could not be sure of {part} in `{written}`; write it out plainly")
    return _checked(instant, written, now=now, tz=tz)


def reads_as_time(phrase: str) -> bool:
    """Whether every word of `phrase` is a word of time phrases, whatever it then means (`tomorrow 9am`, `eod`,
    `friday 25:00`), as against a caption or an account name: how `/post` tells a time that has no `at` before
    it. A zone alone (`uk`, `la`, `india`) is no time: it may well be an account's name."""
    text = normalise(" ".join(phrase.split()))
    try:
        pieces = scan(text, phrase=phrase, own=ZoneInfo("UTC"), year=datetime.now(UTC).year)
    except PhraseProblem as problem:
        return not problem.unplaced  # `9am Mars/Olympus`: a time, whose zone is then explained
    return any(piece.kind not in ("filler", "zone") for piece in pieces)


def _checked(instant: datetime, phrase: str, *, now: datetime, tz: ZoneInfo) -> datetime:
    if instant <= now:
        raise PhraseProblem(f"`{phrase}` is {format_local(instant, tz)}, which has already passed; give a future time")
    # A calendar year on the reader's clock: `in 1 year` is allowed across a Feb 29, and a clock change adds no day.
    a_year_on = now.astimezone(tz).replace(tzinfo=None) + relativedelta(years=1)
    if instant.astimezone(tz).replace(tzinfo=None) > a_year_on:
        raise PhraseProblem(
            f"`{phrase}` is {format_local(instant, tz)}, more than a year ahead; posts can be scheduled up to a "
            "year ahead"
        )
    return instant


def _accepted(example: str, *, now: datetime, tz: ZoneInfo, locale: str | None) -> bool:
    try:
        _instant(example, now=now, tz=tz, locale=locale)
    except PhraseProblem:
        return False
    return True


def _general_examples(local_now: datetime) -> list[str]:
    """Phrases that always work: whatever the day, they name one future instant within a year."""
    soon = local_now + timedelta(days=10)
    return ["tomorrow 9am", "friday 17:30", "in 2 hours", f"{MONTH_NAMES[soon.month - 1][:3]} {soon.day} 10am"]


def format_local(instant: datetime, tz: ZoneInfo) -> str:
    """An instant as a reader in `tz` should see it, the month spelled out so that it is hard to misread:
    `Sun 29 November 2026, 12:00 EST (America/New_York)`."""
    local = instant.astimezone(tz)
    zone_name = f" ({tz.key})" if tz.key != local.tzname() else ""  # not "UTC (UTC)"
    return f"{long_date(local)}, {local:%H:%M} {local.tzname()}{zone_name}"


def wall_clock(day: date, minute: int, tz: ZoneInfo) -> datetime:
    """The instant, in UTC, a wall-clock time of a day shows in `tz`: how slots, series and digests keep their time
    across daylight-saving changes. A time the spring-forward skips comes as far after the gap as it was into it
    (02:30 becomes 03:30); of a time the autumn change repeats, the first (summer time). UTC also keeps comparisons
    true: an instant of a repeated hour compares unequal to any other zone's."""
    return datetime(day.year, day.month, day.day, minute // 60, minute % 60, tzinfo=tz).astimezone(UTC)


def to_utc_iso(instant: datetime) -> str:
    """`2026-11-29T17:00:00Z`, the wire format Infinipost's create endpoint takes."""
    return instant.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def warm_up() -> None:
    """Load what the first phrase would otherwise wait for: dateparser's language data (about 0.3 s) and the
    table of zone abbreviations."""
    crosscheck.warm_up()
    abbreviation_meanings(datetime.now(UTC).year)
