"""Our own instant for a Reading: the calendar rules that fill in what a phrase leaves out.

- A clock time alone is today's, or tomorrow's once today's has passed.
- A weekday is the next such day (today while its time is ahead); `next friday` is never today.
- `this weekend` is the coming Saturday.
- A day of the month alone (`the 3rd`) is the next such date: this month's while it is ahead, else the next month
  that has one; `the 3rd of this month` is refused once it has passed.
- A date without a year is this year's; one that has passed is refused, except that a January date written in
  December means the coming January.
- `in 2 hours` is elapsed time, two real hours across a clock change; `in 2 days` is on the wall calendar.
- A weekday beside a date or a day must be that date's weekday; `midnight` beside a day is asked about, since
  it could start or end that day.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta

from bot.dates.problem import PhraseProblem
from bot.dates.reading import Reading
from bot.dates.words import MONTH_NAMES, WEEKDAY_NAMES

_SECONDS = {"seconds": 1, "minutes": 60, "hours": 3600}
# A day of the month this close behind today was plainly meant as this month's: refused, not moved a month on.
_JUST_PASSED = timedelta(days=7)


def resolve(reading: Reading, *, now: datetime, own: ZoneInfo) -> datetime:
    """The instant a reading means for a caller in `own` at `now`, in UTC. Raises PhraseProblem where the
    calendar makes it no instant (no such date, a weekday that is not the date's, a time skipped or repeated by a
    clock change) or where it has no time of day."""
    tz = reading.zone or own
    local_now = now.astimezone(tz).replace(microsecond=0)
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
    day = _day(reading, local_now=local_now, clock=clock)
    _check_weekday(reading, day)
    instant = localise(datetime.combine(day, clock), tz, reading.phrase)
    _check_stated(reading, instant.astimezone(tz))
    return instant.astimezone(UTC)


def _day(reading: Reading, *, local_now: datetime, clock: time) -> date:
    today = local_now.date()

    def ahead(day: date) -> bool:
        return datetime.combine(day, clock) > local_now.replace(tzinfo=None)

    if reading.midnight and reading.said.get("day_shift") != "tonight" and _names_a_day(reading):
        written = reading.said["clock"]
        raise PhraseProblem(
            f"`{written}` beside a day could start or end that day; say which",
            examples=tuple(reading.phrase.replace(written, other) for other in ("00:00", "23:59")),
        )
    if reading.midnight and reading.day_shift == 0:  # midnight tonight: the one that ends today
        return today if ahead(today) else today + timedelta(days=1)
    if reading.day_shift is not None:
        return today + timedelta(days=reading.day_shift)
    if reading.day is not None and reading.month is not None:
        return _dated(reading, today=today, ahead=ahead)
    if reading.day is not None:
        return _day_of_month(reading, today=today, ahead=ahead)
    weekday = 5 if reading.weekend else reading.weekday
    if weekday is not None:
        days = (weekday - today.weekday()) % 7
        if days == 0 and reading.weekday_next:
            days = 7
        day = today + timedelta(days=days)
        return day if ahead(day) else day + timedelta(days=7)
    return today if ahead(today) else today + timedelta(days=1)


def _names_a_day(reading: Reading) -> bool:
    return any((reading.day_shift is not None, reading.day is not None, reading.weekday is not None, reading.weekend))


def _dated(reading: Reading, *, today: date, ahead: Callable[[date], bool]) -> date:
    assert reading.day is not None
    assert reading.month is not None
    year = reading.year or today.year
    day = _date_or_problem(year, reading.month, reading.day, reading, year_stated=reading.year is not None)
    if reading.year is None and not ahead(day):
        if today.month == 12 and reading.month == 1:
            return _date_or_problem(year + 1, reading.month, reading.day, reading, year_stated=False)
        raise PhraseProblem(
            f"{_long(day)} has already passed this year; if you mean next year, add the year",
            examples=(f"{reading.phrase} {year + 1}",),
        )
    return day


def _day_of_month(reading: Reading, *, today: date, ahead: Callable[[date], bool]) -> date:
    assert reading.day is not None
    if reading.month_shift is not None:
        month = date(today.year, today.month, 1) + relativedelta(months=reading.month_shift)
        day = _date_or_problem(month.year, month.month, reading.day, reading, year_stated=True)
        if not ahead(day):
            raise PhraseProblem(f"{_long(day)} has already passed", examples=())
        return day
    try:
        this_month = date(today.year, today.month, reading.day)
    except ValueError:
        this_month = None
    coming = _next_such_day(reading.day, today=today, ahead=ahead)
    if this_month and not ahead(this_month) and today - this_month < _JUST_PASSED:
        raise PhraseProblem(  # plainly this month's, and it has passed: not silently next month's
            f"{_long(this_month)} has already passed; for next month's, name the month",
            examples=(_with_month(reading, coming),),
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
    return f"{MONTH_NAMES[day.month - 1][:3]} {day.day}{clock}"


def _date_or_problem(year: int, month: int, day: int, reading: Reading, *, year_stated: bool) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        name = MONTH_NAMES[month - 1].title()
        if (month, day) == (2, 29):
            raise PhraseProblem(f"No such date: {year} has no {day} {name}", examples=()) from None
        raise PhraseProblem(f"No such date: there is no {day} {name}", examples=()) from None


def _check_weekday(reading: Reading, day: date) -> None:
    stated = 5 if reading.weekend and reading.weekday is None else reading.weekday
    if stated is None or day.weekday() == stated:
        return
    written = reading.said.get("weekday") or reading.said.get("weekend", "")
    other = day.weekday()
    raise PhraseProblem(
        f"{_long(day)} is a {WEEKDAY_NAMES[other].title()}, not a {WEEKDAY_NAMES[stated].title()}; say which you mean",
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
            hour, minute = reading.clock
            name = WEEKDAY_NAMES[weekday][:3]
            month = MONTH_NAMES[candidate.month - 1][:3]
            return (f"{name} {candidate.day} {month} {candidate.year} {hour:02d}:{minute:02d}",)
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


def localise(wall: datetime, tz: tzinfo, phrase: str) -> datetime:
    """A wall-clock time in `tz`; a time the clocks skip, or pass twice, is asked about."""
    aware = wall.replace(tzinfo=tz)
    if aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != wall:
        raise PhraseProblem(
            f"{wall:%H:%M} on {_long(wall.date())} does not exist in {zone_name(tz)}: the clocks change then; "
            "pick another time",
            examples=(),
        )
    if aware.utcoffset() != aware.replace(fold=1).utcoffset():
        raise happens_twice(wall, tz)
    return aware


def happens_twice(wall: datetime, tz: tzinfo) -> PhraseProblem:
    return PhraseProblem(
        f"{wall:%H:%M} on {_long(wall.date())} happens twice in {zone_name(tz)}: the clocks go back then; "
        "pick another time",
        examples=(),
    )


def zone_name(tz: tzinfo) -> str:
    return tz.key if isinstance(tz, ZoneInfo) else str(tz.tzname(None))


def _long(day: date) -> str:
    return f"{day:%a} {day.day} {MONTH_NAMES[day.month - 1].title()} {day.year}"
