"""Time phrases with a pinned clock: the issue's examples, month and year ends, DST, same weekday, the past."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.dates import format_local, parse_when, to_utc_iso
from bot.errors import InvalidTime

NEW_YORK = ZoneInfo("America/New_York")


def when(phrase: str, now: datetime, tz: ZoneInfo = NEW_YORK) -> str:
    result = parse_when(phrase, now=now.replace(tzinfo=tz), tz=tz)
    return to_utc_iso(result) if result else "now"


def refused(phrase: str, now: datetime, tz: ZoneInfo = NEW_YORK) -> str:
    with pytest.raises(InvalidTime) as caught:
        parse_when(phrase, now=now.replace(tzinfo=tz), tz=tz)
    return caught.value.user_message


SATURDAY_10AM = datetime(2026, 11, 28, 10, 0)


@pytest.mark.parametrize(
    ("phrase", "expected"),
    [
        ("at tomorrow noon", "2026-11-29T17:00:00Z"),
        ("in 2 hours", "2026-11-28T17:00:00Z"),
        ("on friday 9am", "2026-12-04T14:00:00Z"),
        ("now", "now"),
        ("at 10", "2026-11-29T15:00:00Z"),  # ten o'clock; today's has just begun, so tomorrow's
        ("at 17", "2026-11-28T22:00:00Z"),
        ("tomorrow at 10", "2026-11-29T15:00:00Z"),
        ("dec 24 at 10", "2026-12-24T15:00:00Z"),
        ("9am", "2026-11-29T14:00:00Z"),  # a bare time that has passed today means tomorrow
        ("in 90 mins", "2026-11-28T16:30:00Z"),
        ("in half an hour", "2026-11-28T15:30:00Z"),
        ("2 hours from now", "2026-11-28T17:00:00Z"),
        ("9am PST", "2026-11-28T17:00:00Z"),
        ("2026-12-05 15:00", "2026-12-05T20:00:00Z"),
        ("nov 27 2027 10am", "2027-11-27T15:00:00Z"),
    ],
)
def test_phrases_resolve_in_the_callers_zone(phrase: str, expected: str) -> None:
    assert when(phrase, SATURDAY_10AM) == expected


def test_weekday_equal_to_today_means_today_if_still_ahead_else_next_week() -> None:
    assert when("saturday 11am", SATURDAY_10AM) == "2026-11-28T16:00:00Z"
    assert when("saturday 9am", SATURDAY_10AM) == "2026-12-05T14:00:00Z"


def test_month_end() -> None:
    jan_31 = datetime(2026, 1, 31, 20, 0)
    assert when("tomorrow 9am", jan_31) == "2026-02-01T14:00:00Z"
    assert when("feb 1 10am", jan_31) == "2026-02-01T15:00:00Z"


@pytest.mark.parametrize("last_day", [datetime(2026, 11, 30, 12, 0), datetime(2026, 1, 31, 12, 0)])
def test_a_passed_time_of_day_on_a_months_last_day_means_tomorrow(last_day: datetime) -> None:
    tomorrow = (last_day + timedelta(days=1)).date()
    assert when("9am", last_day).startswith(f"{tomorrow}T14:00")
    assert when("at 10", last_day).startswith(f"{tomorrow}T15:00")


def test_year_end() -> None:
    new_years_eve = datetime(2026, 12, 31, 20, 0)
    assert when("tomorrow 9am", new_years_eve) == "2027-01-01T14:00:00Z"
    assert when("dec 31 9pm", new_years_eve) == "2027-01-01T02:00:00Z"  # tonight, not next year
    assert when("jan 2 10am", new_years_eve) == "2027-01-02T15:00:00Z"  # just across the new year
    assert when("noon", new_years_eve) == "2027-01-01T17:00:00Z"  # tomorrow's, not next December's
    assert "19:00 EST (America/New_York), which has already passed" in refused("dec 31 7pm", new_years_eve)
    assert when("feb 2 10am", new_years_eve) == "2027-02-02T15:00:00Z"  # next year's is only weeks away
    assert "has already passed this year" in refused("may 2 10am", new_years_eve)  # next year's is months away


def test_daylight_saving_end_gives_the_right_instants() -> None:
    before_fall_back = datetime(2026, 11, 1, 0, 30)  # EDT; clocks go back at 02:00
    assert when("in 2 hours", before_fall_back) == "2026-11-01T06:30:00Z"  # two real hours
    assert when("tomorrow 9am", before_fall_back) == "2026-11-02T14:00:00Z"  # EST by then


def test_a_time_that_happens_twice_when_the_clocks_go_back_is_asked_about() -> None:
    in_the_repeated_hour = datetime(2026, 11, 1, 1, 30)
    assert "happens twice" in refused("1:45am", in_the_repeated_hour)
    assert "happens twice" in refused("nov 1 1:45am", datetime(2026, 10, 31, 20, 0))
    assert when("in 45 minutes", in_the_repeated_hour) == "2026-11-01T06:15:00Z"
    assert when("noon", in_the_repeated_hour) == "2026-11-01T17:00:00Z"
    assert when("sunday 1:30am", datetime(2026, 11, 1, 10, 0)) == "2026-11-08T06:30:00Z"  # next week's is single


def test_daylight_saving_start_refuses_a_time_that_does_not_exist() -> None:
    before_spring_forward = datetime(2026, 3, 8, 0, 30)
    assert when("tomorrow 9am", before_spring_forward) == "2026-03-09T13:00:00Z"
    assert "does not exist" in refused("today 2:30am", before_spring_forward)


@pytest.mark.parametrize("phrase", ["tomorrow", "friday", "dec 5", "tonight"])
def test_a_day_without_a_time_asks_for_one(phrase: str) -> None:
    assert "no time of day" in refused(phrase, SATURDAY_10AM)


def test_past_times_are_errors_not_next_year() -> None:
    assert "already passed" in refused("today 6am", SATURDAY_10AM)
    message = refused("nov 27 10am", SATURDAY_10AM)
    assert "has already passed this year" in message
    assert "2027" in message
    assert when("jan 3 9am", SATURDAY_10AM) == "2027-01-03T14:00:00Z"  # the coming one, five weeks away
    assert "has already passed this year" in refused("sep 3 9am", SATURDAY_10AM)
    assert when("jan 3 9am 2027", SATURDAY_10AM) == "2027-01-03T14:00:00Z"


def test_feb_29_in_a_year_without_one_is_not_a_date() -> None:
    assert "No such date: 2026 has no 29 February" in refused("feb 29 9am", datetime(2026, 1, 31, 12, 0))


@pytest.mark.parametrize("phrase", ["at 12/30", "at 12-30"])
def test_at_before_a_numeric_date_is_not_an_hour(phrase: str) -> None:
    assert "has no time of day" in refused(phrase, SATURDAY_10AM)
    assert when(f"{phrase} 9am", SATURDAY_10AM) == "2026-12-30T14:00:00Z"


def test_more_than_a_year_ahead_is_refused() -> None:
    assert "more than a year ahead" in refused("in 400 days", SATURDAY_10AM)


@pytest.mark.parametrize("phrase", ["5", "asap", "whenever", "tomorrow 25:00", "", "soon"])
def test_nonsense_is_refused_with_examples_that_work(phrase: str) -> None:
    with pytest.raises(InvalidTime) as caught:
        parse_when(phrase, now=SATURDAY_10AM.replace(tzinfo=NEW_YORK), tz=NEW_YORK)
    assert caught.value.examples
    for example in caught.value.examples:
        assert f"`{example}`" in caught.value.user_message
        when(example, SATURDAY_10AM)  # accepted


def test_other_zones() -> None:
    tokyo = ZoneInfo("Asia/Tokyo")
    assert when("tomorrow 9am", datetime(2026, 11, 28, 10, 0), tokyo) == "2026-11-29T00:00:00Z"


def test_local_format_names_the_zone() -> None:
    instant = datetime.fromisoformat("2026-11-29T17:00:00+00:00")
    assert format_local(instant, NEW_YORK) == "Sun 29 November 2026, 12:00 EST (America/New_York)"
    assert format_local(instant, ZoneInfo("UTC")) == "Sun 29 November 2026, 17:00 UTC"


@pytest.mark.parametrize(
    ("phrase", "expected"),
    [
        ("at 8 tonight", "2026-11-29T01:00:00Z"),  # 20:00: "tonight" says which 8
        ("tonight at 8", "2026-11-29T01:00:00Z"),
        ("at 7 this evening", "2026-11-29T00:00:00Z"),
        ("at 9 tomorrow", "2026-11-29T14:00:00Z"),
        ("13h30", "2026-11-28T18:30:00Z"),
        ("in 13h", "2026-11-29T04:00:00Z"),  # a duration
        ("tomorrow at 10 o'clock", "2026-11-29T15:00:00Z"),
    ],
)
def test_hours_written_without_am_or_pm(phrase: str, expected: str) -> None:
    assert when(phrase, SATURDAY_10AM) == expected


@pytest.mark.parametrize("phrase", ["at 5 tomorrow", "friday at 3"])
def test_an_early_hour_without_am_or_pm_is_asked_about(phrase: str) -> None:
    message = refused(phrase, SATURDAY_10AM)
    assert "could be" in message
    assert "am`" in message


@pytest.mark.parametrize(
    ("phrase", "expected"),
    [
        ("tomorrow 9am UTC", "2026-11-29T09:00:00Z"),  # the zone named is where the time is read
        ("today 5pm UTC", "2026-11-28T17:00:00Z"),
        ("tomorrow noon CET", "2026-11-29T11:00:00Z"),
        ("in 2 days 9am UTC", "2026-11-30T09:00:00Z"),
        ("dec 5 9am UTC", "2026-12-05T09:00:00Z"),
        ("tomorrow midday", "2026-11-29T17:00:00Z"),
    ],
)
def test_a_zone_named_in_the_phrase_is_where_its_time_is_read(phrase: str, expected: str) -> None:
    assert when(phrase, SATURDAY_10AM) == expected


def test_a_named_zone_is_not_moved_by_the_callers_clock_change() -> None:
    assert when("9am UTC", datetime(2026, 3, 7, 10, 0)) == "2026-03-08T09:00:00Z"  # NY springs forward that night
    assert when("9pm ET", datetime(2027, 7, 1, 10, 0)) == "2027-07-02T01:00:00Z"  # ET in July is EDT


@pytest.mark.parametrize(
    ("phrase", "says"),
    [
        ("tomorrow 13pm", "is not a time of day"),  # dateparser would keep the current clock time instead
        ("tomorrow 9.75pm", "is not a time of day"),
        ("tomorrow 9:30:99", "is not a time of day"),
        ("tomorrow 9am 5pm", "more than one time of day"),
        ("in 2 hours and 1 hour", "Give each unit once"),
        ("12/32 3pm", "No such date"),
        ("2026-13-05 15:00", "No such date"),
        ("tomorrow " * 40, "write it shorter"),
    ],
)
def test_what_dateparser_would_misread_is_refused(phrase: str, says: str) -> None:
    message = refused(phrase, SATURDAY_10AM)
    assert says in message
    assert len(message) < 300


def test_a_year_ahead_is_counted_on_the_callers_calendar_across_a_clock_change() -> None:
    before_spring_forward = datetime(2026, 3, 9, 10, 0)
    assert when("in 365 days", before_spring_forward) == "2027-03-09T15:00:00Z"
    assert "more than a year ahead" in refused("in 366 days", before_spring_forward)
    assert "more than a year ahead" in refused("in 2 years", before_spring_forward)


def test_in_one_year_is_allowed_when_the_year_ahead_has_a_feb_29() -> None:
    before_leap_day = datetime(2027, 3, 9, 10, 0)
    assert when("in 1 year", before_leap_day) == "2028-03-09T15:00:00Z"
    assert when("in 366 days", before_leap_day) == "2028-03-09T15:00:00Z"
    assert "more than a year ahead" in refused("in 367 days", before_leap_day)


@pytest.mark.parametrize("word", ["get", "west", "eat", "net", "cat"])
def test_ordinary_words_are_not_taken_for_zones_nor_ignored(word: str) -> None:
    message = refused(f"tomorrow 9am {word}", SATURDAY_10AM)
    assert f"I could not place `{word}` in `tomorrow 9am {word}`" in message
    assert "`tomorrow 9am`" in message  # a phrase that works


def test_an_unknown_abbreviation_is_told_as_a_zone_the_bot_does_not_know() -> None:
    message = refused("tomorrow 9am NYX", SATURDAY_10AM)
    assert "`NYX` in `tomorrow 9am NYX` is not a time zone I know" in message
    assert "`tomorrow 9am America/New_York`" in message


@pytest.mark.parametrize(
    ("phrase", "now", "zone", "expected"),
    [
        ("tomorrow 9am IST", datetime(2026, 2, 28, 12, 0), "Asia/Kolkata", "2026-03-01T03:30:00Z"),
        ("tomorrow 9am CST", datetime(2026, 11, 28, 18, 0), "Asia/Shanghai", "2026-11-29T01:00:00Z"),
        ("tomorrow 9am EDT", datetime(2026, 7, 10, 10, 0), "America/New_York", "2026-07-11T13:00:00Z"),
        ("9am ET tomorrow", datetime(2026, 7, 10, 10, 0), "America/Los_Angeles", "2026-07-11T13:00:00Z"),
        ("tomorrow 9am (PT)", datetime(2026, 7, 10, 10, 0), "America/New_York", "2026-07-11T16:00:00Z"),
    ],
)
def test_an_abbreviation_of_the_callers_own_zone_or_a_region_follows_its_clock(
    phrase: str, now: datetime, zone: str, expected: str
) -> None:
    assert when(phrase, now, ZoneInfo(zone)) == expected


def test_an_abbreviation_naming_several_zones_asks_for_an_offset() -> None:
    assert "names several time zones" in refused("tomorrow 9am IST", SATURDAY_10AM)
    assert when("tomorrow 9am +0530", SATURDAY_10AM) == "2026-11-29T03:30:00Z"


@pytest.mark.parametrize(
    ("phrase", "expected"),
    [
        ("tomorrow 10.30pm", "2026-11-30T03:30:00Z"),  # a dotted clock time
        ("2026-12-05T09:00:00Z", "2026-12-05T09:00:00Z"),  # ISO 8601 in UTC
    ],
)
def test_written_forms_of_a_clock_time(phrase: str, expected: str) -> None:
    assert when(phrase, SATURDAY_10AM) == expected


def test_the_zone_abbreviation_says_which_of_the_two_times_the_clocks_pass_twice() -> None:
    fall_back_eve = datetime(2026, 10, 31, 23, 0)
    assert when("tomorrow 1:30am EDT", fall_back_eve) == "2026-11-01T05:30:00Z"  # the first 01:30
    assert when("tomorrow 1:30am EST", fall_back_eve) == "2026-11-01T06:30:00Z"  # an hour later
    message = refused("tomorrow 1:30am", fall_back_eve)
    assert "say which, `EDT` or `EST`" in message
    assert "`nov 1 1:30am EDT`" in message


def test_a_region_word_is_read_on_its_own_clock_in_every_season() -> None:
    july = datetime(2026, 7, 15, 10, 0)
    assert when("9am pacific", july) == when("9am PDT", july) == "2026-07-15T16:00:00Z"  # 9am in Los Angeles
    assert when("9am pacific", SATURDAY_10AM) == when("9am PST", SATURDAY_10AM) == "2026-11-28T17:00:00Z"
    assert "`MST` names several time zones" in refused("9am MST", july)  # Denver keeps summer time, Phoenix not


def test_an_abbreviation_whose_offset_the_zone_does_not_keep_that_day_is_asked_about() -> None:
    los_angeles = ZoneInfo("America/Los_Angeles")
    spring_forward_eve = datetime(2027, 3, 13, 22, 0)
    message = refused("tomorrow 9am PST", spring_forward_eve, los_angeles)
    assert "`PST` is UTC-8, but on Sun 14 March 2027 Los Angeles keeps PDT (UTC-7); say which" in message
    assert "`tomorrow 9am America/Los_Angeles` or `tomorrow 9am UTC-8`" in message
    assert when("tomorrow 9am America/Los_Angeles", spring_forward_eve, los_angeles) == "2027-03-14T16:00:00Z"
    assert when("tomorrow 9am UTC-8", spring_forward_eve, los_angeles) == "2027-03-14T17:00:00Z"
    assert "`EST` is UTC-5, but on Wed 15 July 2026 New York keeps EDT" in refused("9am EST", datetime(2026, 7, 15, 8))


def test_a_place_that_keeps_the_abbreviation_all_year_is_offered_beside_the_region() -> None:
    adelaide, december = ZoneInfo("Australia/Adelaide"), datetime(2026, 12, 5, 12, 0)
    message = refused("9am AEST", december, adelaide)  # Sydney keeps AEDT then; Brisbane AEST
    assert "`9am Australia/Sydney` or `9am Australia/Brisbane`" in message
    assert when("9am Australia/Brisbane", december, adelaide) == "2026-12-05T23:00:00Z"
    assert "`9am Australia/Adelaide` or `9am Australia/Darwin`" in refused("9am ACST", december, adelaide)


def test_gmt_is_utc_all_year_even_in_london() -> None:
    london, december = ZoneInfo("Europe/London"), datetime(2026, 12, 5, 12, 0)
    assert when("jun 1 2027 9am GMT", december, london) == "2027-06-01T09:00:00Z"
    assert "`BST` is UTC+1, but on Sun 6 December 2026 London keeps GMT (UTC+0)" in refused("9am BST", december, london)


def test_us_before_a_region_means_the_us_region_wherever_the_caller_is() -> None:
    sydney, december = ZoneInfo("Australia/Sydney"), datetime(2026, 12, 5, 12, 0)
    assert when("9am us eastern", december, sydney) == "2026-12-05T14:00:00Z"  # 9am in New York, not Sydney
    assert when("9am us central", december, ZoneInfo("Europe/Berlin")) == "2026-12-05T15:00:00Z"


@pytest.mark.parametrize(
    ("zone", "phrase", "meanings"),
    [
        ("Australia/Adelaide", "9am eastern", ("America/New_York", "Australia/Sydney")),
        ("Australia/Adelaide", "9am central", ("America/Chicago", "Australia/Adelaide")),
        ("Europe/Berlin", "9am central", ("America/Chicago", "Europe/Berlin")),
        ("Europe/Helsinki", "9am eastern", ("America/New_York", "Europe/Helsinki")),
    ],
)
def test_a_region_word_with_two_meanings_for_the_caller_is_asked_about(
    zone: str, phrase: str, meanings: tuple[str, str]
) -> None:
    message = refused(phrase, datetime(2026, 12, 5, 12, 0), ZoneInfo(zone))
    assert "names several time zones" in message
    assert " or ".join(f"`9am {key}`" for key in meanings) in message


@pytest.mark.parametrize(
    ("phrase", "expected"),
    [
        ("2pm pacific", "2026-12-05T22:00:00Z"),
        ("9am mountain", "2026-12-05T16:00:00Z"),
        ("9am ET", "2026-12-05T14:00:00Z"),
        ("9am PT", "2026-12-05T17:00:00Z"),
        ("9am CT", "2026-12-05T15:00:00Z"),
        ("9am western", "2026-12-06T01:00:00Z"),  # Perth: the only western there is for an Australian
    ],
)
def test_a_region_word_with_one_meaning_for_an_australian_is_read(phrase: str, expected: str) -> None:
    assert when(phrase, datetime(2026, 12, 5, 12, 0), ZoneInfo("Australia/Adelaide")) == expected
