"""Our own reading of a time phrase: what its placed words state together (weekday, day, month, year, clock time,
am or pm, zone, duration), checked against each other; a phrase whose parts cannot be one instant is asked about.

This is the second, independent reading that dateparser's answer is checked against (see `bot.dates`). It never
looks at the calendar: what the parts mean on a given day is `bot.dates.resolve`'s business.

It is longer than our other modules on purpose: the rules of how one part may combine with another (a weekday
with a date, an hour with a clock word, a duration with a time) read each other's state, and split across files
they could only be checked by jumping between them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import UTC, tzinfo
from typing import Any

from bot.dates.order import DateOrder
from bot.dates.problem import PhraseProblem
from bot.dates.scan import QUANTITY, Clock, Half, Piece, hours_or_clock, place_numbers
from bot.dates.words import (
    EVENING,
    HOURS_OF,
    MONTH_NAMES,
    MORNING,
    NUMBER_WORDS,
    SUB_DAY_UNITS,
    UNITS,
    VAGUE_EXAMPLES,
    WEEKDAY_NAMES,
    rewritten,
)
from bot.dates.zones import ZoneMatch, utc_offset

SMALL_HOURS_END = 5  # `tonight 1am` is the coming night's; 5am is morning


@dataclass(frozen=True, kw_only=True)
class Reading:
    """The parts a phrase states. Nothing here is inferred from today's date."""

    phrase: str
    now: bool = False
    weekday: int | None = None
    weekday_next: bool = False  # "next friday": not today
    weekday_this: bool = False  # "this friday": today's or this week's, never a week on
    weekend: bool = False
    day_shift: int | None = None  # today 0, tomorrow 1, the day after tomorrow 2
    day: int | None = None
    month: int | None = None
    month_shift: int | None = None  # "of this month" 0, "of next month" 1
    year: int | None = None
    clock: tuple[int, int] | None = None  # 24-hour, after the am/pm rules
    half: Half | None = None  # am or pm, as written or as a word implies it
    small_hours: bool = False  # 00:00 to 00:59 written as midnight or 12 am: which night's?
    zone: tzinfo | None = None
    zone_alternatives: tuple[str, ...] = ()  # other zones the written zone may stand for (`CST`)
    zone_abbreviation: str | None = None  # as written (`EDT`): tells apart the two 01:30s of a clock change
    amounts: tuple[tuple[str, float], ...] = ()  # ("hours", 2.0), in the order written
    date_order: DateOrder | None = None  # how dateparser must read a numeric date
    said: dict[str, str] = field(default_factory=dict)  # part -> how the phrase wrote it, for messages
    for_dateparser: tuple[str, ...] = ()  # the phrase in words dateparser reads; "{month}" where it needs ours

    @property
    def is_duration(self) -> bool:
        return bool(self.amounts)

    @property
    def elapsed_only(self) -> bool:
        """Hours, minutes and seconds only: elapsed time, not wall-clock time, across a clock change."""
        return bool(self.amounts) and all(unit in SUB_DAY_UNITS for unit, _ in self.amounts)


def assemble(pieces: list[Piece], *, phrase: str, text: str, order: DateOrder | None) -> Reading:
    """The parts the pieces state, checked against each other; raises PhraseProblem where they cannot be one
    instant (two times, a range, a vague span, an hour that may be am or pm, a date whose order is unknown)."""
    kinds = {piece.kind for piece in pieces} - {"filler"}
    if not kinds:
        raise PhraseProblem(f"`{phrase}` says no time; say when to post")
    if "now" in kinds:
        if kinds != {"now"}:
            raise PhraseProblem("Say either `now` or a time, not both", examples=("now",))
        return Reading(phrase=phrase, now=True)
    for piece in pieces:
        if piece.kind == "vague":
            meaning = f" ({piece.value})" if piece.value != piece.text else ""
            what = (
                "repeats, and each post is scheduled on its own; say when this one goes out"
                if piece.value.startswith("every ")
                else "could be any time; say when exactly"
            )
            raise PhraseProblem(f"`{piece.text}`{meaning} {what}", examples=VAGUE_EXAMPLES.get(piece.value, ()))
        if piece.kind == "range":
            raise PhraseProblem(f"`{piece.text}` is a range, not one time; give the time it should go out")
    pieces = place_numbers(pieces)
    builder = _Parts(phrase=phrase, text=text, order=order)
    for piece in pieces:
        builder.add(piece)
    return builder.reading()


class _Parts:
    """Collects the parts of a phrase piece by piece, refusing a part stated twice."""

    def __init__(self, *, phrase: str, text: str, order: DateOrder | None) -> None:
        self.phrase = phrase
        self.text = text  # the phrase as read: lower case, spaces folded
        self.order = order
        self.parts: dict[str, Any] = {}
        self.said: dict[str, str] = {}
        self.clock: tuple[Clock, str] | None = None
        self.halves: list[tuple[str, str]] = []  # (half-of-day word, as written)
        self.amounts: list[tuple[str, float]] = []
        self.words: list[str] = []
        self.day_word: str | None = None  # how dateparser is told today, tomorrow...
        self.date_order: DateOrder | None = None

    def add(self, piece: Piece) -> None:
        handler = getattr(self, f"_{piece.kind}", None)
        if handler is not None:
            handler(piece)

    def _set(self, part: str, value: Any, piece: Piece) -> None:
        if part in self.parts and self.parts[part] != value:
            raise PhraseProblem(
                f"`{self.phrase}` states {_PART_NAMES[part]} twice (`{self.said[part]}`, `{piece.text}`)"
            )
        self.parts[part] = value
        self.said.setdefault(part, piece.text)

    def _date(self, piece: Piece, *, day: int, month: int, year: int | None) -> None:
        if "day" in self.parts:
            raise PhraseProblem(f"`{self.phrase}` has two dates (`{self.said['day']}`, `{piece.text}`)")
        if not (1 <= month <= 12 and 1 <= day <= 31):
            raise PhraseProblem(f"No such date: `{piece.text}`", examples=())
        self._set("day", day, piece)
        self._set("month", month, piece)
        if year is not None:
            self._set("year", year, piece)

    def _iso(self, piece: Piece) -> None:
        year, month, day, hour, minute, second, utc = piece.value
        self._date(piece, day=day, month=month, year=year)
        self.words.append(f"{year:04d}-{month:02d}-{day:02d}")
        if hour is not None:
            self._clock(replace(piece, value=(Clock(hour, minute, plain_24h=True), second)))
        if utc:  # `z`, or an offset such as `+01:00`
            self._set("zone", ZoneMatch(UTC if utc == "z" else utc_offset(utc), piece.end), piece)

    def _ymd(self, piece: Piece) -> None:
        year, month, day = piece.value
        self._date(piece, day=day, month=month, year=year)
        self.words.append(f"{year:04d}-{month:02d}-{day:02d}")

    def _dotted(self, piece: Piece) -> None:
        day, month, year = piece.value
        self._date(piece, day=day, month=month, year=year)
        self.words.append(f"{day} {MONTH_NAMES[month - 1]}" + (f" {year}" if year else ""))

    def _numeric(self, piece: Piece) -> None:
        first, second, year = piece.value
        if first == 0 or second == 0 or first > 31 or second > 31 or (first > 12 and second > 12):
            raise PhraseProblem(f"No such date: `{piece.text}`", examples=())
        if first > 12:
            order: DateOrder = "DMY"
        elif second > 12 or first == second:
            order = "MDY"
        elif self.order is None:
            after = f" {year}" if year else ""
            raise PhraseProblem(
                f"`{piece.text}` could be {first} {MONTH_NAMES[second - 1].title()} or "
                f"{MONTH_NAMES[first - 1].title()} {second}; write the month as a word",
                examples=rewritten(
                    self.text,
                    piece.text,
                    f"{first} {MONTH_NAMES[second - 1][:3]}{after}",
                    f"{MONTH_NAMES[first - 1][:3]} {second}{after}",
                ),
            )
        else:
            order = self.order
        day, month = (first, second) if order == "DMY" else (second, first)
        self._date(piece, day=day, month=month, year=year)
        self.date_order = order
        self.words.append(piece.text.replace("-", "/"))

    def _month(self, piece: Piece) -> None:
        self._set("month", piece.value, piece)
        self.words.append(MONTH_NAMES[piece.value - 1])

    def _ordinal(self, piece: Piece) -> None:
        number = piece.value
        if not 1 <= number <= 31:
            raise PhraseProblem(f"`{piece.text}` is not a day of the month", examples=())
        self._set("day", number, piece)
        self.words.append(str(number))

    def _year(self, piece: Piece) -> None:
        self._set("year", piece.value, piece)
        self.words.append(str(piece.value))

    def _month_shift(self, piece: Piece) -> None:
        self._set("month_shift", piece.value, piece)

    def _weekday(self, piece: Piece) -> None:
        weekday, qualifier = piece.value
        self._set("weekday", weekday, piece)
        self.parts["weekday_next"] = qualifier == "next"
        self.parts["weekday_this"] = qualifier.startswith("this")
        self.words.append(("next " if qualifier == "next" else "") + WEEKDAY_NAMES[weekday])

    def _weekend(self, piece: Piece) -> None:
        self._set("weekend", True, piece)
        self.words.append("{weekday}")  # Saturday or Sunday: whichever the calendar rules chose

    def _day_shift(self, piece: Piece) -> None:
        self._set("day_shift", piece.value, piece)
        self.day_word = {0: "today", 1: "tomorrow", -1: "yesterday"}.get(piece.value, f"in {piece.value} days")
        self.words.append(self.day_word)
        if piece.text == "tonight":
            self.halves.append((EVENING, piece.text))

    def _half_word(self, piece: Piece) -> None:
        self.halves.append((piece.value, piece.text))
        if piece.text.startswith("this "):  # this morning, this evening: today's
            self._day_shift(replace(piece, value=0))

    def _zone(self, piece: Piece) -> None:
        self._set("zone", piece.value, piece)

    def _hours_alone(self, piece: Piece) -> None:
        hours = piece.value
        raise hours_or_clock(piece.text, f"{hours} hour{'s' if hours != 1 else ''}", hours, text=self.text)

    def _clock(self, piece: Piece) -> None:
        clock, second = piece.value if isinstance(piece.value, tuple) else (piece.value, None)
        if self.clock is not None:
            raise PhraseProblem(f"`{self.phrase}` has more than one time of day (`{self.clock[1]}`, `{piece.text}`)")
        if clock.minute > 59 or clock.hour > 24 or (clock.half and clock.hour > 12) or (second or 0) > 59:
            raise PhraseProblem(f"`{piece.text}` is not a time of day", examples=())
        if second:
            minute = f"{clock.hour:02d}:{clock.minute:02d}"
            raise PhraseProblem(
                f"`{piece.text}` gives seconds; posts go out to the minute",
                examples=rewritten(self.text, piece.text, minute),
            )
        if clock.half and clock.hour == 0:
            raise PhraseProblem(f"`{piece.text}` is not a time of day; write `12{clock.half}`", examples=())
        self.clock = (clock, piece.text)

    def _past_to(self, piece: Piece) -> None:
        amount, direction, hour, half = piece.value
        minutes = {"half": 30, "quarter": 15}.get(amount) or int(amount)
        if minutes >= 60 or (amount == "half" and direction in ("to", "before")) or not 1 <= hour <= 12:
            raise PhraseProblem(f"`{piece.text}` is not a time of day", examples=())
        if direction in ("past", "after"):
            clock = Clock(hour, minutes, half=half, bare=half is None)
        elif half is None and hour < 12:  # `quarter to 1`: the am/pm rules of the hour named, then counted back
            clock = Clock(hour, 0, bare=True, before=minutes)
        else:  # quarter to 6pm is 5:45pm; quarter to 1pm is 12:45pm
            before = 12 if hour == 1 else hour - 1
            if half is not None and hour == 12:
                half = "pm" if half == "am" else "am"  # quarter to 12am is 11:45pm
            clock = Clock(before, 60 - minutes, half=half, bare=half is None)
        self._clock(replace(piece, value=clock))

    def _duration(self, piece: Piece) -> None:
        if self.amounts:
            raise PhraseProblem(f"`{self.phrase}` gives the duration twice", examples=("in 2 hours 30 minutes",))
        text = re.sub(r"^in\s+", "", piece.text)
        text = re.sub(r"(?:'s|s'|')?\s+time$|\s+from\s+(?:now|today)$|\s+later$", "", text)
        half_more = text.endswith("and a half")
        text = re.sub(r"\s+and\s+a\s+half$", "", text)
        units: list[str] = []
        for found in re.finditer(QUANTITY, text):
            amount_text, unit_text = (found[1], found[2]) if found[1] else (found[3], found[4])
            unit = UNITS[unit_text]
            amount = _amount(amount_text)
            if unit in units:
                raise PhraseProblem(f"Give each unit once in `{self.phrase}`", examples=("in 2 hours 30 minutes",))
            if amount != int(amount) and unit not in SUB_DAY_UNITS:
                raise self._fraction(piece, unit, amount)
            units.append(unit)
            self.amounts.append((unit, amount))
        if half_more:
            unit, amount = self.amounts[-1]
            if unit not in SUB_DAY_UNITS:
                raise self._fraction(piece, unit, amount + 0.5)
            self.amounts[-1] = (unit, amount + 0.5)
        self.said["amounts"] = piece.text
        self.words.append("in " + " ".join(f"{amount:g} {unit}" for unit, amount in self.amounts))

    def _fraction(self, piece: Piece, unit: str, amount: float) -> PhraseProblem:
        hours = {"days": 24, "weeks": 168}.get(unit)
        return PhraseProblem(
            f"`{piece.text}` counts part of a {unit.removesuffix('s')}; write it in whole {unit} or in hours",
            examples=(f"in {amount * hours:g} hours",) if hours else (),
        )

    def reading(self) -> Reading:
        parts = self.parts
        if self.amounts:
            self._check_duration_alone()
        if "year" in parts and "day" not in parts:
            raise self._year_alone(self.said["year"])
        if "month" in parts and "day" not in parts:
            raise PhraseProblem(f"`{self.said['month']}` in `{self.phrase}` is a month without a day")
        if "month_shift" in parts and ("day" not in parts or "month" in parts):
            said = self.said["month_shift"]
            raise PhraseProblem(
                f"`{said}` is not one day; name the day of the month",
                examples=tuple(f"the {day} of {said.split()[-2]} month 9am" for day in ("1st", "15th")),
            )
        clock, half, small_hours = self._clock_time()
        words = list(self.words)
        if small_hours and self.said.get("day_shift") == "tonight":  # `midnight tonight`: the coming one
            del parts["day_shift"]
            words.remove("today")
        elif self.day_word is not None and ("weekday" in parts or "day" in parts):
            words.remove(self.day_word)  # `tomorrow friday`: the weekday or date is read, the day checked against it
        if clock is not None:
            words.append(_clock_words(self.clock, clock))
        if "day" in parts and "month" not in parts:
            words.insert(words.index(str(parts["day"])) + 1, "{month}")
        zone: ZoneMatch | None = parts.get("zone")
        return Reading(
            phrase=self.phrase,
            weekday=parts.get("weekday"),
            weekday_next=parts.get("weekday_next", False),
            weekday_this=parts.get("weekday_this", False),
            weekend=parts.get("weekend", False),
            day_shift=parts.get("day_shift"),
            day=parts.get("day"),
            month=parts.get("month"),
            month_shift=parts.get("month_shift"),
            year=parts.get("year"),
            clock=clock,
            half=half,
            small_hours=small_hours,
            zone=zone.zone if zone else None,
            zone_alternatives=zone.alternatives if zone else (),
            zone_abbreviation=zone.abbreviation if zone else None,
            amounts=tuple(self.amounts),
            date_order=self.date_order,
            said=dict(self.said, **({"clock": self.clock[1]} if self.clock else {})),
            for_dateparser=tuple(words),
        )

    def _year_alone(self, written: str) -> PhraseProblem:
        """`tomorrow 2030`: a year with no date, or half past eight in the evening?"""
        hour, minute = int(written[:2]), int(written[2:])
        if hour > 23 or minute > 59 or self.clock is not None:
            return PhraseProblem(f"`{written}` in `{self.phrase}` is a year without a date")
        clock = f"{hour:02d}:{minute:02d}"
        return PhraseProblem(
            f"`{written}` in `{self.phrase}` could be the year {written} or {clock}; write a time as `{clock}`",
            examples=rewritten(self.text, written, clock),
        )

    def _check_duration_alone(self) -> None:
        anchors = [self.said[p] for p in ("day_shift", "weekday", "weekend", "day", "month") if p in self.said]
        sub_day = any(unit in SUB_DAY_UNITS for unit, _ in self.amounts)
        if self.clock is not None and sub_day:
            anchors.append(self.clock[1])
        duration = self.said["amounts"]
        if anchors:
            raise PhraseProblem(
                f"`{duration}` and `{anchors[0]}` are two different times; give one",
                examples=(*rewritten(self.text, duration, ""), duration),
            )
        if self.halves and self.clock is None:  # `in 2 days in the morning`: at what time of it?
            half, written = self.halves[0]
            if sub_day:
                raise PhraseProblem(
                    f"`{duration}` and `{written}` are two different times; give one", examples=(duration,)
                )
            clock = "9am" if half == MORNING else "7pm" if half == EVENING else "3pm"
            raise PhraseProblem(
                f"`{written}` beside `{duration}` needs a time of day",
                examples=(f"{duration} {clock}",),
            )

    def _clock_time(self) -> tuple[tuple[int, int] | None, Half | None, bool]:
        """The 24-hour clock time: an hour of 1 to 6 with no am or pm, nor a word that says which, is asked
        about; `tonight` or `evening` make 1 to 11 pm; a word that does not fit the clock time is asked about."""
        halves = {half for half, _ in self.halves}
        if len(halves) > 1:
            raise PhraseProblem(f"`{self.phrase}` says both {' and '.join(f'`{w}`' for _, w in self.halves)}")
        word_half = next(iter(halves), None)
        if self.clock is None:
            return None, ("am" if word_half == MORNING else "pm" if word_half else None), False
        clock, written = self.clock
        hour = clock.hour
        if clock.word == "midnight" or (clock.half == "am" and hour == 12):
            if word_half not in (None, EVENING):
                raise self._half_mismatch(written)
            return (0, clock.minute), "am", True
        if clock.half:
            hour = hour % 12 + (12 if clock.half == "pm" else 0)
            if word_half == EVENING and hour < SMALL_HOURS_END:  # `tonight 1am`: the night's small hours
                return (hour, clock.minute), "am", True
        elif word_half and not clock.word and 1 <= hour <= 11 and not clock.plain_24h:
            hour += 12 if word_half != MORNING else 0
        elif (clock.bare or not clock.plain_24h) and 1 <= hour <= 6 and not clock.word:
            early, minute = divmod(hour * 60 + clock.minute - clock.before, 60)  # `quarter to 1`: 00:45
            minutes = f":{minute:02d}" if minute else ""
            twelve_hour = f"{early % 12 or 12}{minutes}"
            # `half past 4` -> `half past 4am`; `5 o'clock`, `5:30`, `5h30` -> `5am`, `5:30am`
            as_written = written if re.search(r"past|after|to|before", written) else f"{early}{minutes}"
            raise PhraseProblem(
                f"`{written}` could be {early:02d}:{minute:02d} or {early + 12}:{minute:02d}; "
                f"write `{twelve_hour}am`, `{twelve_hour}pm` or `{early + 12}:{minute:02d}`",
                examples=rewritten(self.text, written, f"{as_written}am", f"{as_written}pm"),
            )
        if hour == 24 and clock.minute == 0 and not clock.half:
            raise PhraseProblem(f"`{written}` is not a time of day; write `00:00` with the next day, or `23:59`")
        if hour > 23:
            raise PhraseProblem(f"`{written}` is not a time of day", examples=())
        if word_half and hour not in HOURS_OF[word_half]:
            raise self._half_mismatch(written)
        hour, minute = divmod(hour * 60 + clock.minute - clock.before, 60)
        return (hour, minute), ("am" if hour < 12 else "pm"), False

    def _half_mismatch(self, written: str) -> PhraseProblem:
        word = self.halves[0][1]
        return PhraseProblem(f"`{written}` does not fit `{word}`; say which you mean", examples=())


def _amount(text: str) -> float:
    if text.startswith("half"):
        return 0.5
    return NUMBER_WORDS[text] if text in NUMBER_WORDS else float(text)


_DATEPARSER_CLOCK = re.compile(r"\d{1,2}(?::\d{2})?\s*(?:am|pm)|\d{1,2}:\d{2}")


def _clock_words(written: tuple[Clock, str] | None, clock: tuple[int, int]) -> str:
    """The clock time for dateparser: as written where that alone says the hour (`9:30pm`, `17:30`), else as
    24-hour `HH:MM` (`tonight 8:30`, `half past 4pm`, `noon` beside a day number)."""
    if written is not None:
        shape, text = written
        if (shape.half or shape.plain_24h) and not shape.word and _DATEPARSER_CLOCK.fullmatch(text):
            return text
    return f"{clock[0]:02d}:{clock[1]:02d}"


_PART_NAMES = {
    "weekday": "the weekday",
    "day": "the day of the month",
    "month": "the month",
    "year": "the year",
    "day_shift": "the day",
    "weekend": "the day",
    "month_shift": "the month",
    "zone": "the time zone",
}
