"""The words of time phrases: every spelling the reader knows, in one place.

Each table maps what people type (abbreviations and common typos included) to one meaning. A word that is in no
table is not guessed at: the phrase is asked about, naming the word.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date

WEEKDAYS: dict[str, int] = {
    **dict.fromkeys(("mon", "monday"), 0),
    **dict.fromkeys(("tue", "tues", "tuesday"), 1),
    **dict.fromkeys(("wed", "weds", "wednesday", "wednsday", "wensday"), 2),
    **dict.fromkeys(("thu", "thur", "thurs", "thursday", "thrusday"), 3),
    **dict.fromkeys(("fri", "friday"), 4),
    **dict.fromkeys(("sat", "saturday"), 5),
    **dict.fromkeys(("sun", "sunday"), 6),
}
WEEKDAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

MONTHS: dict[str, int] = {
    **dict.fromkeys(("jan", "january"), 1),
    **dict.fromkeys(("feb", "february", "febuary"), 2),
    **dict.fromkeys(("mar", "march"), 3),
    **dict.fromkeys(("apr", "april"), 4),
    "may": 5,
    **dict.fromkeys(("jun", "june"), 6),
    **dict.fromkeys(("jul", "july"), 7),
    **dict.fromkeys(("aug", "august"), 8),
    **dict.fromkeys(("sep", "sept", "september"), 9),
    **dict.fromkeys(("oct", "october"), 10),
    **dict.fromkeys(("nov", "november"), 11),
    **dict.fromkeys(("dec", "december"), 12),
}
MONTH_NAMES = (
    "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december",
)  # fmt: skip


def rewritten(text: str, written: str, *replacements: str) -> tuple[str, ...]:
    """The phrase with `written` replaced by each of `replacements`, as examples of what to write instead."""
    return tuple(" ".join(text.replace(written, replacement, 1).split()) for replacement in replacements)


def long_date(day: date) -> str:
    """`Sat 5 December 2026`: a date as the bot writes it back, the month spelled out so that it is hard to misread."""
    return f"{day:%a} {day.day} {MONTH_NAMES[day.month - 1].title()} {day.year}"


# Days counted from today.
DAY_WORDS: dict[str, int] = {
    "today": 0,
    "tonight": 0,
    **dict.fromkeys(
        ("tomorrow", "tmrw", "tmr", "tmrow", "tomorow", "tommorow", "tommorrow", "tomorrw", "2moro", "tmw"), 1
    ),
    "yesterday": -1,
}

NUMBER_WORDS: dict[str, float] = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20, "thirty": 30,
    "forty": 40, "forty-five": 45, "fifty": 50, "ninety": 90, "a half": 0.5, "a couple of": 2,
}  # fmt: skip

# Units of a duration, by the name dateparser reads.
UNITS: dict[str, str] = {
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), "seconds"),
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), "minutes"),  # `30m`: months are `mo`
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), "hours"),
    **dict.fromkeys(("d", "day", "days"), "days"),
    **dict.fromkeys(("w", "wk", "wks", "week", "weeks"), "weeks"),
    **dict.fromkeys(("mo", "mos", "mth", "mths", "month", "months"), "months"),
    **dict.fromkeys(("y", "yr", "yrs", "year", "years"), "years"),
}
SUB_DAY_UNITS = frozenset({"seconds", "minutes", "hours"})

# Words that say am or pm without a clock time, with the hours they can mean.
MORNING, AFTERNOON, EVENING = "morning", "afternoon", "evening"
HALF_OF_DAY_WORDS: dict[str, str] = {
    "in the morning": MORNING,
    "this morning": MORNING,
    "morning": MORNING,
    "in the afternoon": AFTERNOON,
    "this afternoon": AFTERNOON,
    "afternoon": AFTERNOON,
    "in the evening": EVENING,
    "this evening": EVENING,
    "evening": EVENING,
    "at night": EVENING,
    "night": EVENING,
    "tonight": EVENING,
}
HOURS_OF: dict[str, range] = {MORNING: range(12), AFTERNOON: range(12, 18), EVENING: range(16, 24)}

NOW_WORDS = frozenset({"now", "right now", "immediately", "right away", "straight away", "straightaway"})

# Words that carry no part of the instant: skipped.
FILLERS = frozenset({"at", "on", "the", "of", "for", "by", "and", "@", "please", "pls", "plz", "sharp"})

# Vague spans, never mapped to one clock time: each is asked about with what to write instead.
VAGUE: dict[str, str] = {
    "eod": "the end of the day",
    "end of day": "the end of the day",
    "end of the day": "the end of the day",
    "cob": "close of business",
    "close of business": "close of business",
    "eow": "the end of the week",
    "end of week": "the end of the week",
    "end of the week": "the end of the week",
    "eom": "the end of the month",
    "end of month": "the end of the month",
    "end of the month": "the end of the month",
    "asap": "as soon as possible",
    "soon": "soon",
    "later": "later",
    "later today": "later today",
    "sometime": "sometime",
    "whenever": "whenever",
    "anytime": "any time",
    "first thing": "first thing",
    "lunch": "lunch",
    "lunchtime": "lunch",
    "lunch time": "lunch",
    "after lunch": "after lunch",
    "next week": "next week",
    "this week": "this week",
    "next weekend": "next weekend",
    "next year": "next year",
    "this year": "this year",
    "in a bit": "in a bit",
    "in a while": "in a while",
    "in a few hours": "in a few hours",
    "in a few minutes": "in a few minutes",
    "in a few days": "in a few days",
    "in several hours": "in several hours",
}

# Repeating times: the bot schedules one post at a time, so these are asked about too.
for _name in WEEKDAY_NAMES:
    for _written in (f"{_name}s", f"every {_name}", f"each {_name}", f"on {_name}s"):
        VAGUE[_written] = f"every {_name.title()}"
VAGUE.update(dict.fromkeys(("every day", "daily", "each day", "everyday"), "every day"))
VAGUE.update(dict.fromkeys(("every week", "weekly", "each week"), "every week"))

# What to write instead of each vague span; `parse_when` keeps only the examples it accepts that day.
VAGUE_EXAMPLES: dict[str, tuple[str, ...]] = {
    "the end of the day": ("today 5pm", "tomorrow 5pm"),
    "close of business": ("today 5pm", "tomorrow 5pm"),
    "the end of the week": ("friday 5pm",),
    "the end of the month": ("the 28th 5pm", "the 30th 5pm"),
    "as soon as possible": ("now", "in 1 hour"),
    "soon": ("in 1 hour", "in 30 minutes"),
    "later": ("in 2 hours", "today 5pm"),
    "later today": ("in 2 hours", "today 5pm"),
    "sometime": ("tomorrow 9am",),
    "whenever": ("now", "tomorrow 9am"),
    "any time": ("now", "tomorrow 9am"),
    "first thing": ("tomorrow 9am",),
    "lunch": ("12:30pm", "tomorrow 12:30pm"),
    "after lunch": ("2pm", "tomorrow 2pm"),
    "next week": ("monday 9am", "in 7 days 9am"),
    "this week": ("friday 9am",),
    "next weekend": ("saturday 10am", "in 7 days 10am"),
    "in a bit": ("in 30 minutes", "in 1 hour"),
    "in a while": ("in 1 hour", "in 2 hours"),
    "in a few hours": ("in 3 hours",),
    "in a few minutes": ("in 5 minutes",),
    "in a few days": ("in 3 days 9am",),
    "in several hours": ("in 5 hours",),
    "every day": ("tomorrow 9am",),
    "every week": ("monday 9am",),
    **{f"every {name.title()}": (f"{name} 9am",) for name in WEEKDAY_NAMES},
}


def alternation(words: Iterable[str]) -> str:
    """A regular-expression alternation of `words`, longest first so that `thurs` wins over `thu`."""
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
