"""How often a recurring post goes out: `every monday 9am`, `every day at 18:00`, `every 2 weeks on fri 10am`,
`every weekday 8am`, each with an optional `until <date>` or `for <N> times` (without one: 12 times).

Occurrences keep their wall-clock time in the zone they were asked in across daylight-saving changes. One that
falls in the hour a spring-forward skips goes out as far after the gap as it was into it (02:30 becomes 03:30); in
the hour an autumn change repeats, at the first of the two (summer time). Instants are kept in UTC.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.dates import parse_when, wall_clock, zone
from bot.errors import BadCommand, InvalidTime
from bot.slots import read_time
from bot.texts import clip

DEFAULT_TIMES = 12
MAX_TIMES = 366
_WEEK = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# `mon`, `monday` and `mondays` all name Monday.
_DAYS = {form: n for n, name in enumerate(_WEEK) for form in (name[:3], name, name + "s")}
_UNTIL = re.compile(r"\s+until\s+(?P<until>.+)$", re.IGNORECASE)
_TIMES = re.compile(r"\s+for\s+(?P<count>\d{1,4})\s+times?$", re.IGNORECASE)
EXAMPLES = "`every monday 9am`, `every day at 18:00`, `every 2 weeks on fri 10am`, `every weekday 8am`"


@dataclass(frozen=True, kw_only=True)
class Recurrence:
    """A recurring post's rule, in the zone it was asked in."""

    text: str  # as asked, after `every`
    weekdays: tuple[int, ...]  # the days it falls on (0 is Monday)
    every_weeks: int = 1  # weekly rules: every Nth week from the first occurrence's
    every_days: int = 0  # `every 3 days`: every Nth day from the first (weekdays then holds all seven)
    minute: int  # of the day, local time
    count: int | None = None
    until: date | None = None  # inclusive, local date
    zone: str

    def to_json(self) -> str:
        return json.dumps({**vars(self), "until": self.until.isoformat() if self.until else None})

    @classmethod
    def from_json(cls, text: str) -> Recurrence:
        data = json.loads(text)
        return cls(
            text=data["text"],
            weekdays=tuple(data["weekdays"]),
            every_weeks=int(data["every_weeks"]),
            every_days=int(data["every_days"]),
            minute=int(data["minute"]),
            count=data["count"],
            until=date.fromisoformat(data["until"]) if data["until"] else None,
            zone=data["zone"],
        )

    @property
    def times(self) -> int | None:
        """How many occurrences at most: `for N times`, the default when nothing says when it stops."""
        return self.count if self.count is not None else (None if self.until else DEFAULT_TIMES)

    def instants(self, *, after: datetime, since: datetime | None = None) -> Iterator[datetime]:
        """Its occurrences after `after`, in order, in UTC, as many as it has. `since`: an occurrence of the series
        already (the one at `after`, when looking for the next), from whose day `every 2 weeks` and `every 3 days`
        count; without it, they count from the first day at or after `after` that it falls on."""
        tz = zone(self.zone)
        day = after.astimezone(tz).date()
        first: date | None = since.astimezone(tz).date() if since is not None else None
        produced = 0
        while self.times is None or produced < self.times:
            if self.until is not None and day > self.until:
                return
            if self._falls_on(day, first):
                instant = wall_clock(day, self.minute, tz)
                if instant > after:
                    first = first or day
                    produced += 1
                    yield instant
            day += timedelta(days=1)

    def _falls_on(self, day: date, first: date | None) -> bool:
        if self.every_days:
            return first is None or (day - first).days % self.every_days == 0
        if day.weekday() not in self.weekdays:
            return False
        if first is None or self.every_weeks == 1:
            return True
        weeks = (_monday(day) - _monday(first)).days // 7
        return weeks % self.every_weeks == 0


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def rule_in(phrase: str | None) -> str | None:
    """`every monday 9am` given as a time (a form's or an option's time field): the rule after `every`; None for
    any other time."""
    text = (phrase or "").strip()
    return text[len("every ") :] if text.lower().startswith("every ") else None


def read_recurrence(text: str, *, tz: ZoneInfo, now: datetime, locale: str | None = None) -> Recurrence:
    """`monday 9am until dec 31` (what follows `every`) as a rule; BadCommand or InvalidTime says what is wrong."""
    rest = " ".join(text.split())
    until: date | None = None
    count: int | None = None
    if match := _UNTIL.search(rest):
        try:  # a date alone is the whole of that day
            last = parse_when(f"{match['until']} 11:59pm", now=now, tz=tz, locale=locale)
        except InvalidTime:
            last = parse_when(match["until"], now=now, tz=tz, locale=locale)
        if last is None:
            raise InvalidTime("`until` takes a date, e.g. `until dec 31`.")
        until = last.astimezone(tz).date()
        rest = rest[: match.start()]
    elif match := _TIMES.search(rest):
        count = int(match["count"])
        if not 1 <= count <= MAX_TIMES:
            raise BadCommand(f"`for {count} times`: a series has 1 to {MAX_TIMES} posts.")
        rest = rest[: match.start()]
    words = rest.lower().replace(",", " , ").split()
    every_n = 1
    if words and words[0].isdigit():
        every_n = int(words.pop(0))
        if not 1 <= every_n <= 52:
            raise BadCommand("Repeat every 1 to 52 days or weeks.")
    weekdays: tuple[int, ...]
    every_weeks, every_days = 1, 0
    if words and words[0] in ("day", "days"):
        words.pop(0)
        weekdays, every_days = tuple(range(7)), (every_n if every_n > 1 else 0)
    elif words and words[0] in ("weekday", "weekdays"):
        words.pop(0)
        weekdays = tuple(range(5))
    elif words and words[0] in ("week", "weeks"):
        words.pop(0)
        if words and words[0] == "on":
            words.pop(0)
        weekdays, every_weeks = _days(words), every_n
    else:
        weekdays, every_weeks = _days(words), every_n
    if words and words[0] == "at":
        words.pop(0)
    if not words:
        raise BadCommand(f"Say at what time: {EXAMPLES}.")
    minute = read_time(" ".join(words))
    if until is not None and until < now.astimezone(tz).date():
        raise InvalidTime("That `until` date has passed.")
    return Recurrence(
        text=clip(text.strip(), 100),
        weekdays=weekdays,
        every_weeks=every_weeks,
        every_days=every_days,
        minute=minute,
        count=count,
        until=until,
        zone=tz.key,
    )


def _days(words: list[str]) -> tuple[int, ...]:
    """The weekdays at the front of `words` (`mon , wed`, `friday`), taken off it."""
    found: list[int] = []
    while words and (words[0] in _DAYS or words[0] in (",", "and")):
        word = words.pop(0)
        if word in _DAYS:
            found.append(_DAYS[word])
    if not found:
        raise BadCommand(f"Say which day or how often: {EXAMPLES}.")
    return tuple(sorted(set(found)))
