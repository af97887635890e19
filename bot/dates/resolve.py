"""Our own instant for a Reading: the calendar rules that fill in what a phrase leaves out.

- A clock time alone is today's, or tomorrow's once today's has passed.
- A weekday is the next such day (today while its time is ahead); `next friday` is never today.
- `this weekend` is the first day of the coming or current weekend whose time is ahead; once Sunday's has passed
  it is asked about.
- A day of the month alone (`the 3rd`) is the next such date: this month's while it is ahead, else the next month
  that has one; one that passed within the last week, and `the 3rd of this month` once passed, are refused.
- A date without a year is this year's while it is ahead; once passed, it is next year's when that is at most
  92 days away (`jan 3`, `feb 1`, or `feb 29` before a leap year, written in December), and refused
  otherwise.
- `this saturday` is today's on a Saturday: once its time has passed it is refused, not moved a week on.
- `in 2 hours` is elapsed time, two real hours across a clock change; `in 2 days` is on the wall calendar.
- `today` or `tomorrow` beside a zone whose date differs from the caller's right now is asked about: whose?
- A stated year more than one away is refused before any arithmetic.
- A weekday or a day word beside a date must agree with it; `midnight` or `12:30am` beside a day is asked
  about, since it could start or end that day (`midnight tonight` is the coming one).
"""

from __future__ import annotations

from calendar import isleap
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta

from bot.dates.problem import PhraseProblem
from bot.dates.reading import Reading
from bot.dates.words import MONTH_NAMES, WEEKDAY_NAMES, long_date

_SECONDS = {"seconds": 1, "minutes": 60, "hours": 3600}
# At most, in days, what each unit can add: a duration past a year is refused before it is computed.
_MOST_DAYS = {"seconds": 1 / 86400, "minutes": 1 / 1440, "hours": 1 / 24, "days": 1, "weeks": 7, "months": 31,
              "years": 366}  # fmt: skip
_TOO_FAR = 400  # days: well past the year a post may be scheduled ahead
# A day of the month this close behind today was plainly meant as this month's: refused, not moved a month on.
_JUST_PASSED = timedelta(days=7)
# A passed date without a year means next year's when that is this close: `jan 3` or `feb 1` written in December.
_NEW_YEAR_AHEAD = timedelta(days=92)


def resolve(reading: Reading, *, now: datetime, own: ZoneInfo) -> datetime:
    """The instant a reading means for a caller in `own` at `now`, in UTC. Raises PhraseProblem where the
    calendar makes it no instant (no such date, a weekday that is not the date's, a time skipped or repeated by a
    clock change) or where it has no time of day."""
    tz = reading.zone or own
    local_now = now.astimezone(tz).replace(microsecond=0)
    _check_year(reading, local_now)
    if sum(amount * _MOST_DAYS[unit] for unit, amount in reading.amounts) > _TOO_FAR:
        raise PhraseProblem(
            f"`{reading.said['amounts']}` is more than a year ahead; posts can be scheduled up to a year ahead"
        )
    elapsed = timedelta(seconds=sum(amount * _SECONDS[unit] for unit, amount in reading.amounts if unit in _SECONDS))
    if reading.elapsed_only:
        return now.astimezone(UTC).replace(microsecond=0) + elapsed  # in UTC: aware arithmetic is wall-clock
    if reading.amounts:  # days, weeks, months or years on the wall calendar, then any hours as elapsed time
        calendar = {unit: int(amount) for unit, amount in reading.amounts if unit not in _SECONDS}
        wall = local_now.replace(tzinfo=None) + relativedelta(**calendar)  # type: ignore[arg-type]
        if reading.clock is not None:
            wall = datetime.combine(wall.date(), time(*reading.clock))
        return localise(wall, tz, reading.phrase).astimezone(UTC) + elapsed
    if reading.clock is None:
        raise PhraseProblem(
            f"`{reading.phrase}` has no time of day; add one, or write a duration such as `in 2 hours`",
            examples=tuple(f"{reading.phrase} {clock}" for clock in ("9am", "3pm", "8pm")),
        )
    clock = time(*reading.clock)
    _check_calendars(reading, now=now, own=own, zone=tz, clock=clock)
    day = _day(reading, local_now=local_now, clock=clock)
    _check_weekday(reading, day)
    instant = localise(datetime.combine(day, clock), tz, reading.phrase, abbreviation=reading.zone_abbreviation)
    _check_stated(reading, instant.astimezone(tz))
    return instant.astimezone(UTC)


def _check_year(reading: Reading, local_now: datetime) -> None:
    """A stated year far from now is refused before any date arithmetic (which stops at the year 9999)."""
    if reading.year is None or local_now.year - 1 <= reading.year <= local_now.year + 1:
        return
    when = (
        "more than a year ahead; posts can be scheduled up to a year ahead"
        if reading.year > local_now.year
        else "long past; give a future time"
    )
    raise PhraseProblem(f"`{reading.phrase}` is in {reading.year}, {when}", examples=())


def _check_calendars(reading: Reading, *, now: datetime, own: ZoneInfo, zone: tzinfo, clock: time) -> None:
    """`tomorrow 9am ET` at 10pm in Los Angeles: tomorrow on whose calendar? Where the caller's date and the
    named zone's differ right now, the two days are asked about, not picked."""
    if reading.zone is None or reading.day_shift is None:
        return
    own_today, zone_today = now.astimezone(own).date(), now.astimezone(zone).date()
    if own_today == zone_today:
        return
    shift = timedelta(days=reading.day_shift)
    said = reading.said["day_shift"]
    raise PhraseProblem(
        f"`{said}` is {long_date(own_today + shift)} on your calendar but {long_date(zone_today + shift)} in "
        f"{zone_name(zone)}; name the date",
        examples=tuple(_on(today + shift, clock, reading) for today in (own_today, zone_today)),
    )


def _day(reading: Reading, *, local_now: datetime, clock: time) -> date:
    today = local_now.date()

    def ahead(day: date) -> bool:
        return datetime.combine(day, clock) > local_now.replace(tzinfo=None)

    if reading.small_hours and _names_a_day(reading):
        raise _which_night(reading, replace(reading, small_hours=False), local_now=local_now, clock=clock)
    if reading.day is not None and reading.month is not None:
        day = _dated(reading, today=today, ahead=ahead)
    elif reading.day is not None:
        day = _day_of_month(reading, today=today, ahead=ahead)
    elif reading.day_shift is not None:
        return today + timedelta(days=reading.day_shift)
    elif reading.weekend:
        return _weekend_day(reading, today=today, ahead=ahead)
    else:
        return _by_weekday(reading, today=today, ahead=ahead)
    if reading.day_shift is not None and day != today + timedelta(days=reading.day_shift):
        shifted = today + timedelta(days=reading.day_shift)
        said = reading.said["day_shift"]
        raise PhraseProblem(
            f"`{said}` is {long_date(shifted)}, not {long_date(day)}; say which you mean",
            examples=(_without(reading.phrase, said), _without(reading.phrase, *_date_words(reading))),
        )
    return day


def _without(phrase: str, *words: str) -> str:
    for word in words:
        phrase = phrase.replace(word, "", 1)
    return " ".join(phrase.split())


def _date_words(reading: Reading) -> tuple[str, ...]:
    return tuple(reading.said[part] for part in ("day", "month", "year") if part in reading.said)


def _which_night(reading: Reading, plain: Reading, *, local_now: datetime, clock: time) -> PhraseProblem:
    """`friday midnight`, `friday night 1am`: early on that day, or in the night after it? The two, as dates."""
    written = reading.said["clock"]
    try:  # each reading's own next such day: early on it, or in the night that ends it
        early = _day(plain, local_now=local_now, clock=clock)
        night = _day(plain, local_now=local_now, clock=time(23, 59)) + timedelta(days=1)
    except PhraseProblem:
        return PhraseProblem(f"`{written}` beside a day could be early that day or in the night after it")
    return PhraseProblem(
        f"`{written}` beside a day could be early that day or in the night after it; say which",
        examples=tuple(_on(d, clock, reading) for d in (early, night)),
    )


def _on(day: date, clock: time, reading: Reading) -> str:
    """`sat 5 dec 2026 09:00 PST`: a date and time as a phrase that names them whatever today is, in the zone the
    phrase wrote."""
    weekday, month = WEEKDAY_NAMES[day.weekday()][:3], MONTH_NAMES[day.month - 1][:3]
    return f"{weekday} {day.day} {month} {day.year} {clock:%H:%M}{_written_zone(reading)}"


def _by_weekday(reading: Reading, *, today: date, ahead: Callable[[date], bool]) -> date:
    weekday = reading.weekday
    if weekday is not None:
        days = (weekday - today.weekday()) % 7
        if days == 0 and reading.weekday_next:
            days = 7
        day = today + timedelta(days=days)
        if days == 0 and reading.weekday_this and not ahead(day):
            written, name = reading.said["weekday"], WEEKDAY_NAMES[weekday][:3]
            raise PhraseProblem(
                f"`{written} {reading.said['clock']}` was earlier today; give a future time",
                examples=(
                    f"tomorrow {_without(reading.phrase, written)}",
                    reading.phrase.replace(written, f"next {name}", 1),
                ),
            )
        return day if ahead(day) else day + timedelta(days=7)
    return today if ahead(today) else today + timedelta(days=1)


def _weekend_day(reading: Reading, *, today: date, ahead: Callable[[date], bool]) -> date:
    """The first weekend day ahead: today or tomorrow at a weekend, else the coming Saturday."""
    saturday = today + timedelta(days=(5 - today.weekday()) % 7) if today.weekday() < 5 else None
    for day in (today, today + timedelta(days=1)) if saturday is None else (saturday,):
        if day.weekday() >= 5 and ahead(day):
            return day
    written = reading.said["weekend"]
    raise PhraseProblem(
        f"This weekend's `{reading.said['clock']}` has passed; name the day you mean",
        examples=(reading.phrase.replace(written, "saturday", 1), reading.phrase.replace(written, "next saturday", 1)),
    )


def _names_a_day(reading: Reading) -> bool:
    return any((reading.day_shift is not None, reading.day is not None, reading.weekday is not None, reading.weekend))


def _dated(reading: Reading, *, today: date, ahead: Callable[[date], bool]) -> date:
    assert reading.day is not None
    assert reading.month is not None
    year = reading.year or today.year
    leap_day_ahead = not isleap(year) and isleap(year + 1) and date(year + 1, 2, 29) - today <= _NEW_YEAR_AHEAD
    if reading.year is None and (reading.month, reading.day) == (2, 29) and leap_day_ahead:
        return date(year + 1, 2, 29)  # `feb 29` written in the December before a leap year
    day = _date_or_problem(year, reading.month, reading.day, reading, year_stated=reading.year is not None)
    if reading.year is None and not ahead(day):
        if day == today:
            return day  # its time has passed: said as such, with the time, once the instant is known
        try:
            next_year = date(year + 1, reading.month, reading.day)
        except ValueError:
            next_year = None  # feb 29
        if next_year is not None and next_year - today <= _NEW_YEAR_AHEAD:
            return next_year
        raise PhraseProblem(
            f"{long_date(day)} has already passed this year; if you mean next year, add the year",
            examples=(f"{reading.phrase} {year + 1}",),
        )
    return day


def _day_of_month(reading: Reading, *, today: date, ahead: Callable[[date], bool]) -> date:
    assert reading.day is not None
    if reading.month_shift is not None:
        month = date(today.year, today.month, 1) + relativedelta(months=reading.month_shift)
        day = _date_or_problem(month.year, month.month, reading.day, reading, year_stated=True)
        if not ahead(day):
            raise PhraseProblem(f"{long_date(day)} has already passed", examples=())
        return day
    try:
        this_month = date(today.year, today.month, reading.day)
    except ValueError:
        this_month = None
    coming = _next_such_day(reading.day, today=today, ahead=ahead)
    if this_month and not ahead(this_month) and today - this_month < _JUST_PASSED:
        weekday = reading.weekday
        same_weekday = _same_weekday_elsewhere(reading, this_month, weekday) if weekday is not None else ()
        raise PhraseProblem(  # plainly this month's, and it has passed: not silently next month's
            f"{long_date(this_month)} has already passed; for next month's, name the month",
            examples=same_weekday or (_with_month(reading, coming),),
        )
    return coming


def _next_such_day(day_of_month: int, *, today: date, ahead: Callable[[date], bool]) -> date:
    """The first date on or after today with that day of the month whose time is still ahead: the 31st skips
    the months without one."""
    for months in range(14):
        month = date(today.year, today.month, 1) + relativedelta(months=months)
        try:
            day = date(month.year, month.month, day_of_month)
        except ValueError:
            continue
        if ahead(day):
            return day
    raise AssertionError("every day of the month comes within 14 months")


def _with_month(reading: Reading, day: date) -> str:
    """`the 27th 9am` written with a month: `dec 27 09:00`."""
    clock = f" {reading.clock[0]:02d}:{reading.clock[1]:02d}" if reading.clock else ""
    return f"{MONTH_NAMES[day.month - 1][:3]} {day.day}{clock}{_written_zone(reading)}"


def _written_zone(reading: Reading) -> str:
    """The zone as the phrase wrote it, for a suggestion to keep: `the 27th 9am PST` stays on Pacific time."""
    return f" {reading.said['zone']}" if "zone" in reading.said else ""


def _date_or_problem(year: int, month: int, day: int, reading: Reading, *, year_stated: bool) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        name = MONTH_NAMES[month - 1].title()
        if (month, day) == (2, 29):
            raise PhraseProblem(f"No such date: {year} has no {day} {name}", examples=()) from None
        raise PhraseProblem(f"No such date: there is no {day} {name}", examples=()) from None


def _check_weekday(reading: Reading, day: date) -> None:
    stated = reading.weekday
    if stated is None or day.weekday() == stated:
        return
    written = reading.said.get("weekday") or reading.said.get("weekend", "")
    other = day.weekday()
    raise PhraseProblem(
        f"{long_date(day)} is a {WEEKDAY_NAMES[other].title()}, not a {WEEKDAY_NAMES[stated].title()}; "
        "say which you mean",
        examples=(
            reading.phrase.replace(written, WEEKDAY_NAMES[other][:3], 1),
            *_same_weekday_elsewhere(reading, day, stated),
        ),
    )


def _same_weekday_elsewhere(reading: Reading, day: date, weekday: int) -> tuple[str, ...]:
    """For `sat the 12th` whose next 12th is a Monday: the nearest 12th that is a Saturday, as a phrase."""
    if reading.day is None or reading.month is not None or reading.clock is None:
        return ()
    for months in range(1, 13):
        other = date(day.year, day.month, 1) + relativedelta(months=months)
        try:
            candidate = date(other.year, other.month, reading.day)
        except ValueError:
            continue
        if candidate.weekday() == weekday:
            return (_on(candidate, time(*reading.clock), reading),)
    return ()


def _check_stated(reading: Reading, local: datetime) -> None:
    """The rule the reader is built on: every part the phrase states is what the instant says back."""
    stated = {
        "the weekday": (reading.weekday, local.weekday()),
        "the day of the month": (reading.day, local.day),
        "the month": (reading.month, local.month),
        "the year": (reading.year, local.year),
        "the time of day": (reading.clock, (local.hour, local.minute)),
        "am or pm": (reading.half, "am" if local.hour < 12 else "pm"),
    }
    for part, (said, found) in stated.items():
        if said is not None and said != found:
            raise PhraseProblem(f"I could not place {part} in `{reading.phrase}`")


def localise(wall: datetime, tz: tzinfo, phrase: str, *, abbreviation: str | None = None) -> datetime:
    """A wall-clock time in `tz`. A time the clocks skip is refused; one they pass twice is asked about, unless
    the phrase named which (`1:30am EDT`, `1:30am EST`)."""
    aware = wall.replace(tzinfo=tz)
    if aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != wall:
        raise PhraseProblem(
            f"{wall:%H:%M} on {long_date(wall.date())} does not exist in {zone_name(tz)}: the clocks change then; "
            "pick another time",
            examples=(),
        )
    both = (aware, aware.replace(fold=1))
    if both[0].utcoffset() == both[1].utcoffset():
        return aware
    named = [moment for moment in both if abbreviation and str(moment.tzname()).upper() == abbreviation]
    if len(named) == 1:
        return named[0]
    names = [str(moment.tzname()) for moment in both]
    day = f"{MONTH_NAMES[wall.month - 1][:3]} {wall.day}"
    clock = f"{wall.hour % 12 or 12}:{wall:%M}{'am' if wall.hour < 12 else 'pm'}"
    raise PhraseProblem(
        f"{wall:%H:%M} on {long_date(wall.date())} happens twice in {zone_name(tz)}: the clocks go back then; say "
        f"which, `{names[0]}` or `{names[1]}`",
        examples=tuple(f"{day} {clock} {name}" for name in names),
    )


def zone_name(tz: tzinfo) -> str:
    return tz.key if isinstance(tz, ZoneInfo) else str(tz.tzname(None))
