"""Properties of the time-phrase reader, searched by hypothesis rather than listed.

- Whatever is accepted states back every part the phrase named: its weekday, date and clock time.
- No phrase, however odd, gets anything but an answer or a question back (never a traceback).
- `in N minutes` is exactly N x 60 seconds of elapsed time, across any clock change.
- Every example a question back suggests is itself accepted.
- An abbreviation that is accepted is what a zone going by that name shows at the instant meant.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.dates import parse_when
from bot.dates.words import DAY_WORDS, FILLERS, HALF_OF_DAY_WORDS, MONTHS, UNITS, VAGUE, WEEKDAYS
from bot.dates.zones import ABBREVIATIONS, abbreviation_meanings
from bot.errors import InvalidTime

ZONES = [
    "UTC", "America/New_York", "America/Los_Angeles", "America/Sao_Paulo", "Europe/London", "Europe/Berlin",
    "Asia/Kolkata", "Asia/Kathmandu", "Asia/Tokyo", "Australia/Sydney", "Australia/Adelaide", "Pacific/Auckland",
    "Pacific/Chatham", "Pacific/Kiritimati", "Africa/Johannesburg",
]  # fmt: skip
MONTH_WORDS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
WEEKDAY_WORDS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]

zones = st.sampled_from(ZONES)
# Any moment of 2026-2028, to the second: month ends, leap days and daylight-saving changes included.
moments = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC))
locales = st.sampled_from([None, "en-US", "en-GB", "de", "ja"])


def _read(phrase: str, now: datetime, zone: str, locale: str | None = None) -> datetime | InvalidTime | None:
    try:
        return parse_when(phrase, now=now, tz=ZoneInfo(zone), locale=locale)
    except InvalidTime as refused:
        return refused


@st.composite
def stated_phrases(draw: st.DrawFn) -> tuple[str, dict[str, int]]:
    """A phrase built from parts, with the parts it states."""
    parts: dict[str, int] = {}
    words: list[str] = []
    if draw(st.booleans()):
        weekday = draw(st.integers(0, 6))
        parts["weekday"] = weekday
        words.append(
            draw(st.sampled_from([WEEKDAY_WORDS[weekday], list(WEEKDAYS)[list(WEEKDAYS.values()).index(weekday)]]))
        )
    if draw(st.booleans()):
        month, day = draw(st.integers(1, 12)), draw(st.integers(1, 31))
        parts.update(month=month, day=day)
        words.append(draw(st.sampled_from([f"{MONTH_WORDS[month - 1]} {day}", f"{day} {MONTH_WORDS[month - 1]}"])))
        if draw(st.booleans()):
            parts["year"] = draw(st.integers(2026, 2029))
            words.append(str(parts["year"]))
    elif draw(st.booleans()):
        parts["day"] = draw(st.integers(1, 31))
        words.append(draw(st.sampled_from([f"the {parts['day']}", f"{parts['day']}th"])))
    hour, minute = draw(st.integers(0, 23)), draw(st.sampled_from([0, 5, 15, 30, 45, 59]))
    parts.update(hour=hour, minute=minute)
    clock = draw(
        st.sampled_from([
            f"{hour:02d}:{minute:02d}",
            f"{hour % 12 or 12}:{minute:02d}{'am' if hour < 12 else 'pm'}",
            f"{hour % 12 or 12}{'am' if hour < 12 else 'pm'}" if minute == 0 else f"{hour:02d}:{minute:02d}",
        ])
    )  # fmt: skip
    words.insert(draw(st.integers(0, len(words))), clock)
    return " ".join(words), parts


@given(stated_phrases(), moments, zones)
@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_an_accepted_phrase_states_back_each_part_it_names(
    built: tuple[str, dict[str, int]], now: datetime, zone: str
) -> None:
    phrase, parts = built
    result = _read(phrase, now, zone)
    if isinstance(result, InvalidTime):
        return  # a question back: the table says which ones; this property is about what is accepted
    assert result is not None
    local = result.astimezone(ZoneInfo(zone))
    assert now < result <= now + timedelta(days=366)
    assert (local.hour, local.minute) == (parts["hour"], parts["minute"])
    for part, value in parts.items():
        if part == "weekday":
            assert local.weekday() == value
        elif part in ("day", "month", "year"):
            assert getattr(local, part) == value


VOCABULARY = sorted(
    {*WEEKDAYS, *MONTHS, *DAY_WORDS, *UNITS, *FILLERS, *HALF_OF_DAY_WORDS, *VAGUE}
    | {"in", "next", "this", "noon", "midnight", "am", "pm", "utc", "pst", "cst", "ist", "+3", "-5", "+0530", "et"}
    | {"half", "quarter", "past", "to", "o'clock", "12/3", "3/4", "25/12", "16.07.", "2026-12-05", "t09:00", "now"}
)
odd_phrases = st.one_of(
    st.text(max_size=60),
    st.lists(
        st.one_of(st.sampled_from(VOCABULARY), st.integers(0, 2100).map(str), st.text(max_size=4)), max_size=7
    ).map(" ".join),
)


@given(odd_phrases, moments, zones, locales)
@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_any_phrase_gets_an_answer_or_a_question_with_examples_that_work(
    phrase: str, now: datetime, zone: str, locale: str | None
) -> None:
    result = _read(phrase, now, zone, locale)  # anything but InvalidTime escapes and fails the test
    if isinstance(result, InvalidTime):
        assert result.user_message.strip()
        assert "Traceback" not in result.user_message
        for example in result.examples:
            assert not isinstance(_read(example, now, zone, locale), InvalidTime), (phrase, example)
    elif result is not None:
        assert now < result <= now + timedelta(days=366)


@given(st.integers(1, 525_600), moments, zones)
@settings(max_examples=400, deadline=None)
def test_in_n_minutes_is_exactly_n_minutes_of_elapsed_time(minutes: int, now: datetime, zone: str) -> None:
    result = _read(f"in {minutes} minutes", now, zone)
    if isinstance(result, InvalidTime):  # near a year, a clock change may put it past the same time next year
        tz = ZoneInfo(zone)
        wall_now, wall_then = (t.astimezone(tz).replace(tzinfo=None) for t in (now, now + timedelta(minutes=minutes)))
        assert wall_then > wall_now + relativedelta(years=1), result.user_message
        assert "more than a year ahead" in result.user_message
        return
    assert isinstance(result, datetime)
    assert result - now.replace(microsecond=0) == timedelta(minutes=minutes)


@given(st.sampled_from(sorted(ABBREVIATIONS - {"UTC", "GMT"})), moments, zones)
@settings(max_examples=600, deadline=None)
def test_an_accepted_abbreviation_is_the_name_its_zone_goes_by_at_that_instant(
    name: str, now: datetime, zone: str
) -> None:
    result = _read(f"tomorrow 9am {name}", now, zone)
    if isinstance(result, InvalidTime):
        for example in result.examples:
            assert not isinstance(_read(example, now, zone), InvalidTime), (name, example)
        return
    assert isinstance(result, datetime)

    def shows_it(key: str) -> bool:
        local = result.astimezone(ZoneInfo(key))
        goes_by = str(local.tzname()).upper() == name
        spoken = not local.dst() and name not in {str(local.replace(month=m).tzname()).upper() for m in (1, 7)}
        return (local.hour, local.minute) == (9, 0) and (goes_by or spoken)  # `EST` for Sydney: its standard time

    assert any(shows_it(key) for key in abbreviation_meanings(now.year)[name]), (name, now, zone, result)
