"""The words of a time phrase, placed: each run of words becomes a Piece (a clock time, a weekday, a month, a
zone, a duration...), or the phrase is asked about, naming the first word that is no word of time phrases.

Patterns are tried in order at each position. A bare number is placed last, by its neighbours: a day beside a
month, an hour after `at` or a day. What the pieces state together is `bot.dates.reading`'s business.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Literal
from zoneinfo import ZoneInfo

from bot.dates.problem import PhraseProblem
from bot.dates.words import (
    DAY_WORDS,
    FILLERS,
    HALF_OF_DAY_WORDS,
    MONTH_NAMES,
    MONTHS,
    NOW_WORDS,
    NUMBER_WORDS,
    UNITS,
    VAGUE,
    WEEKDAYS,
    alternation,
    rewritten,
)
from bot.dates.zones import match_zone

Half = Literal["am", "pm"]

_END = r"(?=[\s,]|$)"
_AMPM = r"(am|pm)"
_UNIT = alternation(UNITS)
_LONG_UNIT = alternation(unit for unit in UNITS if len(unit) > 1)
# An amount and its unit: `2h`, `0.75 hours`, `an hour`. A word amount takes a space and a whole unit name, so
# that `and` is not read as `an` `d`.
QUANTITY = (
    rf"(?:(\d+(?:\.\d+)?|\.\d+)\s*({_UNIT})|(half(?: an?)?|{alternation(NUMBER_WORDS)})\s+({_LONG_UNIT}))(?![a-z])"
)
_LONG_QUANTITY = (
    rf"(?:(?:\d+(?:\.\d+)?|\.\d+)\s*(?:{_LONG_UNIT})|(?:half(?: an?)?|{alternation(NUMBER_WORDS)})\s+(?:{_LONG_UNIT}))"
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
    before: int = 0  # minutes before the hour written: `quarter to 7` is 7 less 15


@dataclass(frozen=True)
class Piece:
    """One placed run of words: its kind, what it says, where it stands, and how dateparser is told it."""

    kind: str
    text: str
    start: int
    end: int
    value: Any = None


# Curly quotes, dashes and the minus sign, as phones and copied text write them
_PLAIN_CHARACTERS = str.maketrans({"’": "'", "‘": "'", "–": "-", "—": "-", "−": "-"})


def normalise(phrase: str) -> str:
    text = phrase.lower().translate(_PLAIN_CHARACTERS)
    text = re.sub(r"(?<![a-z])([ap])\.\s?m\b\.?", r"\1m", text)  # a.m. -> am, 9a.m. -> 9am
    text = re.sub(r"\b(\d{1,3}),(\d{3})\b", r"\1\2", text)  # 1,000 minutes: a thousands separator
    text = re.sub(r"[!?]+", " ", text).replace(",", " , ")
    text = re.sub(r"\b(\d+)h\s?(\d{1,2})m(?:ins?)?\b", r"\1 hours \2 minutes", text)  # 2h30m, 2h 30m
    text = re.sub(r"\bin (\d+)h\s?(\d{1,2})\b", r"in \1 hours \2 minutes", text)  # in 1h30
    # 1,5 hours: a decimal comma, where one or two digits follow it
    text = re.sub(r"\b(\d+)\s*,\s*(\d{1,2})(?=\s*(?:h|hrs?|hours?|m|mins?|minutes?)\b)", r"\1.\2", text)
    text = re.sub(r"\b(\d+) and a half (hours?|minutes?|mins?)\b", r"\1.5 \2", text)  # 2 and a half hours
    text = " ".join(text.split())
    text = re.sub(r"(?<=[a-z])\.$", "", text)  # a full stop after a word, not the one of `16.07.`
    # ... nor after a clock time that can be no day.month date (`at 9.30.`, `at 9:30.`)
    clock = re.search(r"\b(\d{1,2})([.:])(\d{2})\.$", text)
    if clock and (clock[2] == ":" or _dotted_shape(clock[1], clock[3]) == "clock"):
        text = text[:-1]
    return text


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
    rf"|\d{{1,2}}(?:[:.]\d{{2}})?\s*(?:to|until|till|through)\s*\d{{1,2}}(?:[:.]\d{{2}})?(?!\s*(?:minutes?|mins?))"
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
_pattern(  # 2000 hrs, 0930 hours: with its unit, even 20xx is a clock time, not a year
    "clock", r"([01]\d|2[0-3])([0-5]\d)\s*(?:hrs|hours|h)", lambda m: Clock(int(m[1]), int(m[2]), plain_24h=True)
)
_pattern(  # 0930, 1800, 2100
    "clock", r"([01]\d|2[1-3])([0-5]\d)", lambda m: Clock(int(m[1]), int(m[2]), plain_24h=True)
)
_pattern(
    "duration",
    rf"in\s+{QUANTITY}(?:\s*(?:,|and)?\s*{QUANTITY})*{_DURATION_TAIL}"
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
    rf"(?:(this coming|this|next|coming)\s+)?({alternation(WEEKDAYS)})\.?",
    lambda m: (WEEKDAYS[m[2]], m[1] or ""),
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
            capitals = word.upper() in phrase  # `NYC`, `CEST`: written as an abbreviation is
            if word.isalpha() and 2 <= len(word) <= 5 and pieces and pieces[-1].kind == "clock" and capitals:
                raise PhraseProblem(  # most likely meant as a time zone
                    f"`{word.upper()}` in `{phrase}` is not a time zone I know; write an IANA name such as `{own.key}`",
                    examples=(text.replace(word, own.key, 1), text.replace(word, "", 1).strip()),
                    unplaced=True,
                )
            raise PhraseProblem(f"I could not place `{word}` in `{phrase}`", unplaced=True)
        if piece.kind == "duration" and pieces and pieces[-1].text in _NOT_FROM_NOW:
            raise _not_from_now(pieces[-1].text, piece, text=text)
        pieces.append(piece)
        pos = piece.end
    return pieces


_NOT_FROM_NOW = ("at", "@", "by", "for")  # `at 20 hrs`, `for 2 hours`: no duration from now


def _not_from_now(before: str, duration: Piece, *, text: str) -> PhraseProblem:
    """`for 2 hours` says how long; `at 20 hrs` is most likely a clock time. Neither is read as `in 2 hours`."""
    written = f"{before} {duration.text}"
    from_now = f"in {duration.text}"
    if before == "for":
        return PhraseProblem(
            f"`{written}` says how long, not when; to post that long from now, write `{from_now}`",
            examples=rewritten(text, written, from_now),
        )
    whole = re.fullmatch(r"(\d{1,2})\s*(?:hrs?|hours?|h)", duration.text)
    return hours_or_clock(written, duration.text, int(whole[1]) if whole else None, text=text)


def hours_or_clock(written: str, duration: str, hours: int | None, *, text: str) -> PhraseProblem:
    """`2h`, `at 20 hrs`: that many hours from now, or that hour of the day? Asked about, with both written out."""
    clock = None if hours is None or hours > 23 else f"{hours}am" if 1 <= hours <= 12 else f"{hours:02d}:00"
    question = (
        f"`{written}` could be {duration} from now, or {hours:02d}:00; say which"
        if clock
        else f"`{written}` is no time of day; for {duration} from now, write `in {duration}`"
    )
    return PhraseProblem(
        question,
        examples=rewritten(text, written, *(option for option in (f"in {duration}", clock) if option)),
    )


def _piece_at(text: str, pos: int, *, own: ZoneInfo, year: int) -> Piece | None:
    for kind, pattern, build in _PATTERNS:
        found = pattern.match(text, pos)
        if found:
            return Piece(kind, found.group(0), pos, found.end(), build(found) if build else None)
    zone = match_zone(text, pos, own=own, year=year)
    if zone is not None:
        return Piece("zone", text[pos : zone.end], pos, zone.end, zone)
    return None


def place_numbers(pieces: list[Piece]) -> list[Piece]:
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
            before = _neighbour(placed, len(placed), -1)
            ahead_of_month = _neighbour(placed, placed.index(before), -1) if before and before.kind == "month" else None
            piece = _number(
                piece,
                before=before,
                after=_neighbour(pieces, i, 1),
                after_at=bool(placed) and placed[-1].text in ("at", "@"),
                has_clock=has_clock,
                month_has_day=ahead_of_month is not None and ahead_of_month.kind == "ordinal",  # `24 dec 10`
            )
        placed.append(piece)
    return placed


def _dotted_shape(first: str, second: str) -> str:
    """What `a.b` can be: a clock time (`9.30`, `14.45`), a day.month date (`16.7`, `31.12`), or either (`10.12`)."""
    clock = len(second) == 2 and int(first) <= 23 and int(second) <= 59
    date = 1 <= int(first) <= 31 and 1 <= int(second) <= 12
    return "either" if clock and date else "clock" if clock else "date"


_DAYS = frozenset({  # what a bare hour may follow
    "day_shift", "weekday", "weekend", "month", "ordinal", "dotted", "numeric", "iso", "ymd", "year", "half_word",
})  # fmt: skip


def _number(
    piece: Piece,
    *,
    before: Piece | None,
    after: Piece | None,
    after_at: bool,
    has_clock: bool,
    month_has_day: bool,
) -> Piece:
    """`at 10 dec 5`: an hour; `dec 5`, `5 dec`: a day; `tomorrow 9`, `9 tonight`, `7 tomorrow evening`,
    `24 dec 10`: an hour."""
    after_clock = after.value[0] if after and isinstance(after.value, tuple) else after.value if after else None
    twelve_o_clock = isinstance(after_clock, Clock) and after_clock.word in ("noon", "midnight")
    if piece.value == 12 and twelve_o_clock and (before is None or before.kind != "month"):
        return replace(piece, kind="filler")  # `12 noon`, `12 midnight`; not `dec 12 noon`
    if after_at and piece.value <= 24:
        return replace(piece, kind="clock", value=Clock(piece.value, 0, bare=True))
    if "month" in (before and before.kind, after and after.kind) and not month_has_day:
        return replace(piece, kind="ordinal")
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
