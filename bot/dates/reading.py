"""Our own reading of a time phrase: every word placed as a part (weekday, day, month, year, clock time, am or pm,
zone, duration), or the phrase is asked about, naming the word.

This is the second, independent reading that dateparser's answer is checked against (see `bot.dates`). It never
looks at the calendar: what the parts mean on a given day is `bot.dates.resolve`'s business.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, tzinfo
from typing import Any, Literal
from zoneinfo import ZoneInfo

from bot.dates.order import DateOrder
from bot.dates.problem import PhraseProblem
from bot.dates.words import (
    DAY_WORDS,
    EVENING,
    FILLERS,
    HALF_OF_DAY_WORDS,
    HOURS_OF,
    MONTH_NAMES,
    MONTHS,
    MORNING,
    NOW_WORDS,
    NUMBER_WORDS,
    SUB_DAY_UNITS,
    UNITS,
    VAGUE,
    VAGUE_EXAMPLES,
    WEEKDAY_NAMES,
    WEEKDAYS,
    alternation,
)
from bot.dates.zones import ZoneMatch, match_zone, utc_offset

Half = Literal["am", "pm"]

_END = r"(?=[\s,]|$)"
_AMPM = r"(am|pm)"
_UNIT = alternation(UNITS)
_LONG_UNIT = alternation(unit for unit in UNITS if len(unit) > 1)
# An amount and its unit: `2h`, `0.75 hours`, `an hour`. A word amount takes a space and a whole unit name, so
# that `and` is not read as `an` `d`.
_QUANTITY = rf"(?:(\d+(?:\.\d+)?|\.\d+)\s*({_UNIT})|(half an?|{alternation(NUMBER_WORDS)})\s+({_LONG_UNIT}))(?![a-z])"
_LONG_QUANTITY = (
    rf"(?:(?:\d+(?:\.\d+)?|\.\d+)\s*(?:{_LONG_UNIT})|(?:half an?|{alternation(NUMBER_WORDS)})\s+(?:{_LONG_UNIT}))"
    r"(?![a-z])"
)
_DURATION_TAIL = r"(?:\s+and\s+a\s+half)?(?:\s*(?:'s|s'|')?\s+time|\s+from\s+(?:now|today)|\s+later)?"


@dataclass(frozen=True)
class Clock:
    """A clock time as written, before the am/pm rules: `9am`, `17:30`, `at 10`, `half past 4`."""

    hour: int
    minute: int
    half: Half | None = None  # written with it: `9am`
    bare: bool = False  # an hour alone, or one counted from (`at 10`, `10 o'clock`, `half past 4`)
    plain_24h: bool = False  # `05:30`, `17:30`: plainly a 24-hour clock (a leading zero, or past 12)
    word: str | None = None  # noon, midnight


@dataclass(frozen=True)
class Piece:
    """One placed run of words: its kind, what it says, where it stands, and how dateparser is told it."""

    kind: str
    text: str
    start: int
    end: int
    value: Any = None


@dataclass(frozen=True, kw_only=True)
class Reading:
    """The parts a phrase states. Nothing here is inferred from today's date."""

    phrase: str
    now: bool = False
    weekday: int | None = None
    weekday_next: bool = False  # "next friday": not today
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


def normalise(phrase: str) -> str:
    text = phrase.lower().replace("’", "'").replace("‘", "'").replace("–", "-").replace("—", "-")
    text = re.sub(r"\b([ap])\.\s?m\b\.?", r"\1m", text)  # a.m. -> am
    text = re.sub(r"[!?]+", " ", text).replace(",", " , ")
    text = re.sub(r"\b(\d+)h\s?(\d{1,2})m(?:ins?)?\b", r"\1 hours \2 minutes", text)  # 2h30m, 2h 30m
    text = re.sub(r"\b(\d+)\s*,\s*(\d+)(?=\s*(?:h|hrs?|hours?|m|mins?|minutes?)\b)", r"\1.\2", text)  # 1,5 hours
    text = re.sub(r"\b(\d+) and a half (hours?|minutes?|mins?)\b", r"\1.5 \2", text)  # 2 and a half hours
    text = " ".join(text.split())
    return re.sub(r"(?<=[a-z])\.$", "", text)  # a full stop after a word, not the one of `16.07.`


# --- the scanner: each pattern, tried in order at each position, places one run of words ---------------------

_Builder = Callable[[re.Match[str]], Any]
_PATTERNS: list[tuple[str, re.Pattern[str], _Builder | None]] = []


def _pattern(kind: str, regex: str, build: _Builder | None = None) -> None:
    _PATTERNS.append((kind, re.compile(f"(?:{regex}){_END}"), build))


def _int(text: str | None) -> int | None:
    return int(text) if text else None


def _half(text: str | None) -> Half | None:
    return "am" if text == "am" else "pm" if text == "pm" else None


def _plain_24h(hour: str) -> bool:
    return hour.startswith("0") or int(hour) > 12


def _year(text: str | None) -> int | None:
    if not text:
        return None
    return int(text) + 2000 if len(text) == 2 else int(text)


_pattern("vague", alternation(VAGUE), lambda m: VAGUE[m.group(0)])
_pattern("now", alternation(NOW_WORDS))
_pattern(
    "range",
    r"between\s.*"
    rf"|\d{{1,2}}(?:[:.]\d{{2}})?\s*{_AMPM}?\s*(?:-|to|until|till|through)\s*\d{{1,2}}(?:[:.]\d{{2}})?\s*{_AMPM}"
    r"|\d{1,2}:\d{2}\s*-\s*\d{1,2}:\d{2}"
    rf"|(?:in\s+)?\d+\s*(?:-|to)\s*\d+\s*(?:{_UNIT})",
)
_pattern(
    "iso",
    r"(\d{4})-(\d{1,2})-(\d{1,2})(?:t(\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?(z|[+-]\d{2}:?\d{2})?",
    lambda m: (int(m[1]), int(m[2]), int(m[3]), _int(m[4]), _int(m[5]), _int(m[6]), m[7]),
)
_pattern("ymd", r"(\d{4})/(\d{1,2})/(\d{1,2})", lambda m: (int(m[1]), int(m[2]), int(m[3])))
_pattern("dotted", r"(\d{1,2})\.(\d{1,2})\.(?:(\d{4}|\d{2})(?!\d))?", lambda m: (int(m[1]), int(m[2]), _year(m[3])))
_pattern(  # 9.30pm
    "clock", rf"(\d{{1,2}})[:.](\d{{2}})\s*{_AMPM}", lambda m: Clock(int(m[1]), int(m[2]), half=_half(m[3]))
)
_pattern("dotted_pair", r"(\d{1,2})\.(\d{1,2})", lambda m: (m[1], m[2]))
_pattern("numeric", r"(\d{1,2})[/-](\d{1,2})(?:[/-](\d{4}|\d{2}))?", lambda m: (int(m[1]), int(m[2]), _year(m[3])))
_pattern(
    "clock",
    rf"t?(\d{{1,2}}):(\d{{2}})(?::(\d{{2}}))?\s*{_AMPM}?",
    lambda m: (Clock(int(m[1]), int(m[2]), half=_half(m[4]), plain_24h=_plain_24h(m[1])), _int(m[3])),
)
_pattern("clock", rf"(\d{{1,2}})\s*{_AMPM}", lambda m: Clock(int(m[1]), 0, half=_half(m[2])))
_pattern("clock", rf"(\d{{1,2}})(\d{{2}})\s*{_AMPM}", lambda m: Clock(int(m[1]), int(m[2]), half=_half(m[3])))  # 930am
_pattern("clock", r"([01]\d|2[1-3])([0-5]\d)", lambda m: Clock(int(m[1]), int(m[2]), plain_24h=True))  # 0930, 1800
_pattern(
    "duration",
    rf"in\s+{_QUANTITY}(?:\s*(?:,|and)?\s*{_QUANTITY})*{_DURATION_TAIL}"
    rf"|{_LONG_QUANTITY}(?:\s*(?:,|and)?\s*{_LONG_QUANTITY})*{_DURATION_TAIL}",
)
_pattern("clock", r"(\d{1,2})h(\d{2})", lambda m: Clock(int(m[1]), int(m[2]), plain_24h=_plain_24h(m[1])))  # 13h30
_pattern("hours_alone", r"(\d{1,2})h", lambda m: int(m[1]))  # 2h: two hours, or two o'clock?
_pattern(
    "clock",
    rf"(\d{{1,2}})\s*o'?\s?clock(?:\s*{_AMPM})?",
    lambda m: Clock(int(m[1]), 0, half=_half(m[2]), bare=not m[2]),
)
_pattern(
    "past_to",
    rf"(half|quarter|\d{{1,2}})(?:\s+minutes?)?\s+(past|after|to|before)\s+(\d{{1,2}})\s*{_AMPM}?",
    lambda m: (m[1], m[2], int(m[3]), m[4]),
)
_pattern("clock", r"noon|midday", lambda m: Clock(12, 0, word="noon"))
_pattern("clock", r"midnight", lambda m: Clock(0, 0, word="midnight"))
_pattern("day_shift", r"(?:the\s+)?day\s+after\s+(?:" + alternation(DAY_WORDS) + ")", lambda m: 2)
_pattern(
    "half_word",
    alternation(word for word in HALF_OF_DAY_WORDS if word != "tonight"),  # tonight is a day too: below
    lambda m: HALF_OF_DAY_WORDS[m.group(0)],
)
_pattern("day_shift", alternation(DAY_WORDS), lambda m: DAY_WORDS[m.group(0)])
_pattern("weekend", r"(?:this\s+|the\s+)?weekend")
_pattern(
    "weekday",
    rf"(?:(this|next|coming)\s+)?({alternation(WEEKDAYS)})\.?",
    lambda m: (WEEKDAYS[m[2]], m[1] == "next"),
)
_pattern("month_shift", r"(?:of\s+)?(this|next)\s+month", lambda m: 0 if m[1] == "this" else 1)
_pattern("month", rf"({alternation(MONTHS)})\.?", lambda m: MONTHS[m[1]])
_pattern("ordinal", r"(?:the\s+)?(\d{1,2})(?:st|nd|rd|th)|the\s+(\d{1,2})", lambda m: int(m[1] or m[2]))
_pattern("year", r"(20\d{2})", lambda m: int(m[1]))
_pattern("number", r"(\d{1,2})", lambda m: int(m[1]))
_pattern("filler", r",|" + alternation(FILLERS))


def scan(text: str, *, phrase: str, own: ZoneInfo, year: int) -> list[Piece]:
    """Every run of words in `text` (the normalised `phrase`) as a Piece; raises PhraseProblem naming the first
    word it cannot place."""
    pieces: list[Piece] = []
    pos = 0
    while pos < len(text):
        if text[pos] == " ":
            pos += 1
            continue
        piece = _piece_at(text, pos, own=own, year=year)
        if piece is None:
            word = text[pos:].split(" ", 1)[0]
            if word in ("am", "pm"):
                raise PhraseProblem(f"`{phrase}` says am or pm where there is no hour for it", unplaced=True)
            if word == "in":
                raise PhraseProblem(
                    f"I could not read the duration in `{phrase}`", examples=("in 90 minutes",), unplaced=True
                )
            if word.isalpha() and 2 <= len(word) <= 5 and pieces and pieces[-1].kind == "clock":
                raise PhraseProblem(  # most likely meant as a time zone
                    f"`{word}` in `{phrase}` is not a time zone I know; write an IANA name such as `Europe/London`",
                    examples=(text.replace(word, "Europe/London", 1), text.replace(word, "", 1).strip()),
                    unplaced=True,
                )
            raise PhraseProblem(f"I could not place `{word}` in `{phrase}`", unplaced=True)
        pieces.append(piece)
        pos = piece.end
    return pieces


def _piece_at(text: str, pos: int, *, own: ZoneInfo, year: int) -> Piece | None:
    for kind, pattern, build in _PATTERNS:
        found = pattern.match(text, pos)
        if found:
            return Piece(kind, found.group(0), pos, found.end(), build(found) if build else None)
    zone = match_zone(text, pos, own=own, year=year)
    if zone is not None:
        return Piece("zone", text[pos : zone.end], pos, zone.end, zone)
    return None


# --- assembly: from pieces to the parts they state --------------------------------------------------------------


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
            raise PhraseProblem(
                f"`{piece.text}`{meaning} could be any time; say when exactly",
                examples=VAGUE_EXAMPLES.get(piece.value, ()),
            )
        if piece.kind == "range":
            raise PhraseProblem(f"`{piece.text}` is a range, not one time; give the time it should go out")
    pieces = _place_numbers(pieces)
    builder = _Parts(phrase=phrase, text=text, order=order)
    for piece in pieces:
        builder.add(piece)
    return builder.reading()


def _place_numbers(pieces: list[Piece]) -> list[Piece]:
    """A bare number is a day beside a month name, and an hour after `at`, after a day, or before a word such as
    `tonight`; anywhere else it cannot be placed. A dotted pair (`16.07`) is a date where the phrase has a clock
    time besides it, and a clock time otherwise."""
    has_clock = any(
        p.kind in ("clock", "past_to")
        or (p.kind == "iso" and p.value[3] is not None)
        or (p.kind == "dotted_pair" and _dotted_shape(*p.value) == "clock")
        for p in pieces
    )
    placed: list[Piece] = []
    for i, piece in enumerate(pieces):
        if piece.kind == "dotted_pair":
            first, second = piece.value
            shape = _dotted_shape(first, second)
            if shape == "either":
                shape = "date" if has_clock else "either"
            if shape == "either":
                day, month = int(first), int(second)
                raise PhraseProblem(
                    f"`{piece.text}` could be {first}:{second} or {day} {MONTH_NAMES[month - 1].title()}; say which",
                    examples=(f"{first}:{second}", f"{day} {MONTH_NAMES[month - 1][:3]} 9am"),
                )
            if shape == "date":
                piece = replace(piece, kind="dotted", value=(int(first), int(second), None))
            else:
                clock = Clock(int(first), int(second), plain_24h=_plain_24h(first))
                piece = replace(piece, kind="clock", value=clock)
        elif piece.kind == "number":
            piece = _number(
                piece,
                before=_neighbour(placed, len(placed), -1),
                after=_neighbour(pieces, i, 1),
                after_at=bool(placed) and placed[-1].text in ("at", "@"),
                has_clock=has_clock,
            )
        placed.append(piece)
    return placed


def _dotted_shape(first: str, second: str) -> str:
    """What `a.b` can be: a clock time (`9.30`, `14.45`), a day.month date (`16.7`, `31.12`), or either (`10.12`)."""
    clock = len(second) == 2 and int(first) <= 23 and int(second) <= 59
    date = 1 <= int(first) <= 31 and 1 <= int(second) <= 12
    return "either" if clock and date else "clock" if clock else "date"


_DAYS = frozenset({
    "day_shift", "weekday", "weekend", "month", "ordinal", "dotted", "numeric", "iso", "ymd", "year", "half_word",
})  # fmt: skip


def _number(piece: Piece, *, before: Piece | None, after: Piece | None, after_at: bool, has_clock: bool) -> Piece:
    """`at 10 dec 5`: an hour; `dec 5`, `5 dec`: a day; `tomorrow 9`, `9 tonight`, `7 tomorrow evening`: an hour."""
    if after_at and piece.value <= 24:
        return replace(piece, kind="clock", value=Clock(piece.value, 0, bare=True))
    if "month" in (before and before.kind, after and after.kind):
        return replace(piece, kind="ordinal")
    if piece.value == 12 and after is not None and after.kind == "clock" and after.value.word == "noon":
        return replace(piece, kind="filler")  # `12 noon`
    follows_day = before is not None and before.kind in _DAYS
    before_day = after is not None and after.kind in ("half_word", "day_shift", "weekday", "weekend")
    if (follows_day or before_day) and not has_clock:
        return replace(piece, kind="clock", value=Clock(piece.value, 0, bare=True))
    if before is not None and before.kind == "duration":
        raise PhraseProblem(
            f"I could not place `{piece.text}` after `{before.text}`; give its unit",
            examples=(f"{before.text} {piece.text} minutes",),
        )
    hint = f"; write `at {piece.text}` for an hour" if piece.value <= 23 else ""
    raise PhraseProblem(f"I could not place `{piece.text}`{hint}", examples=())


def _neighbour(pieces: list[Piece], i: int, step: int) -> Piece | None:
    j = i + step
    while 0 <= j < len(pieces) and pieces[j].kind == "filler" and pieces[j].text in ("the", "of", ","):
        j += step
    return pieces[j] if 0 <= j < len(pieces) else None


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
                examples=_rewritten(
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
        weekday, is_next = piece.value
        self._set("weekday", weekday, piece)
        self.parts["weekday_next"] = is_next
        self.words.append(("next " if is_next else "") + WEEKDAY_NAMES[weekday])

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
        clock = f"{hours}am" if 1 <= hours <= 12 else f"{hours:02d}:00"
        duration = f"{hours} hour{'s' if hours != 1 else ''}"
        raise PhraseProblem(
            f"`{piece.text}` could be {duration} from now, or {hours:02d}:00; say which",
            examples=_rewritten(self.text, piece.text, f"in {duration}", clock),
        )

    def _clock(self, piece: Piece) -> None:
        clock, second = piece.value if isinstance(piece.value, tuple) else (piece.value, None)
        if self.clock is not None:
            raise PhraseProblem(f"`{self.phrase}` has more than one time of day (`{self.clock[1]}`, `{piece.text}`)")
        if second not in (None, 0) or clock.minute > 59 or clock.hour > 24 or (clock.half and clock.hour > 12):
            raise PhraseProblem(f"`{piece.text}` is not a time of day", examples=())
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
        for found in re.finditer(_QUANTITY, text):
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
            raise PhraseProblem(f"`{self.said['year']}` in `{self.phrase}` is a year without a date")
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

    def _check_duration_alone(self) -> None:
        anchors = [self.said[p] for p in ("day_shift", "weekday", "weekend", "day", "month") if p in self.said]
        sub_day = any(unit in SUB_DAY_UNITS for unit, _ in self.amounts)
        if self.clock is not None and sub_day:
            anchors.append(self.clock[1])
        if anchors:
            duration = self.said["amounts"]
            raise PhraseProblem(
                f"`{duration}` and `{anchors[0]}` are two different times; give one",
                examples=(*_rewritten(self.text, duration, ""), duration),
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
        elif word_half and not clock.word and 1 <= hour <= 11 and not clock.plain_24h:
            hour += 12 if word_half != MORNING else 0
        elif (clock.bare or not clock.plain_24h) and 1 <= hour <= 6 and not clock.word:
            minutes = f":{clock.minute:02d}" if clock.minute else ""
            # `half past 4` -> `half past 4am`; `5 o'clock`, `5:30`, `5h30` -> `5am`, `5:30am`
            as_written = written if re.search(r"past|after|to|before", written) else f"{hour}{minutes}"
            raise PhraseProblem(
                f"`{written}` could be {hour:02d}:{clock.minute:02d} or {hour + 12}:{clock.minute:02d}; "
                f"write `{hour}{minutes}am`, `{hour}{minutes}pm` or `{hour + 12}:{clock.minute:02d}`",
                examples=_rewritten(self.text, written, f"{as_written}am", f"{as_written}pm"),
            )
        if hour == 24 and clock.minute == 0 and not clock.half:
            raise PhraseProblem(f"`{written}` is not a time of day; write `00:00` with the next day, or `23:59`")
        if hour > 23:
            raise PhraseProblem(f"`{written}` is not a time of day", examples=())
        if word_half and hour not in HOURS_OF[word_half]:
            raise self._half_mismatch(written)
        return (hour, clock.minute), ("am" if hour < 12 else "pm"), False

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


def _rewritten(text: str, written: str, *replacements: str) -> tuple[str, ...]:
    """The phrase with `written` replaced by each of `replacements`, as examples of what to write instead."""
    return tuple(" ".join(text.replace(written, replacement, 1).split()) for replacement in replacements)
