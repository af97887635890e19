"""Time phrases as people type them, read in 22 zones at pinned moments: the table this reader is held to.

Each block is one caller: a zone (half-hour and 45-minute offsets, both hemispheres, no daylight saving, +14),
a pinned "now" (daylight-saving eves, Dec 31 late evening, Feb 28/29, month ends) and, where given, the
platform locale. Each row is a phrase and what the bot must make of it: the instant, shown on the caller's own
clock, or `?` and the words its question back must contain. Every example a question suggests must itself be
accepted.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from bot.dates import parse_when
from bot.errors import InvalidTime

TABLE: dict[tuple[str, str, str | None], str] = {
    ("America/New_York", "2026-11-28T10:00", "en-US"): """
        tomorrow 9am                   | Sun 2026-11-29 09:00
        at tomorrow noon               | Sun 2026-11-29 12:00
        in 2 hours                     | Sat 2026-11-28 12:00
        on friday 9am                  | Fri 2026-12-04 09:00
        friday 17:30                   | Fri 2026-12-04 17:30
        now                            | now
        at 10                          | Sun 2026-11-29 10:00
        at 17                          | Sat 2026-11-28 17:00
        9am                            | Sun 2026-11-29 09:00
        noon                           | Sat 2026-11-28 12:00
        dec 24 at 10                   | Thu 2026-12-24 10:00
        in 90 mins                     | Sat 2026-11-28 11:30
        2 hours from now               | Sat 2026-11-28 12:00
        9am PST                        | Sat 2026-11-28 12:00
        2026-12-05 15:00               | Sat 2026-12-05 15:00
        nov 27 2027 10am               | Sat 2027-11-27 10:00
        the 3rd at 2pm                 | Thu 2026-12-03 14:00
        on the 15th 10am               | Tue 2026-12-15 10:00
        the 28th 9am                   | ? has already passed
        the 20th 9am                   | Sun 2026-12-20 09:00
        the 31st 9am                   | Thu 2026-12-31 09:00
        the 3rd of next month 9am      | Thu 2026-12-03 09:00
        the 25th of this month 9am     | ? has already passed
        sat the 12th 10am              | Sat 2026-12-12 10:00
        fri the 12th 10am              | ? not a Friday
        sat 12 dec 10am                | Sat 2026-12-12 10:00
        sat 6 dec 9am                  | ? not a Saturday
        sun 6 dec 9am                  | Sun 2026-12-06 09:00
        10 o'clock                     | Sun 2026-11-29 10:00
        5 o'clock                      | ? could be 0
        5 o'clock tonight              | Sat 2026-11-28 17:00
        tomorrow at 10 o'clock         | Sun 2026-11-29 10:00
        10am +3                        | Sun 2026-11-29 02:00
        noon UTC +2                    | Sun 2026-11-29 05:00
        9am GMT -5                     | Sun 2026-11-29 09:00
        9am gmt-5                      | Sun 2026-11-29 09:00
        10am +03:00                    | Sun 2026-11-29 02:00
        tomorrow 9am +0530             | Sat 2026-11-28 22:30
        tomorrow 9am CST               | Sun 2026-11-29 10:00
        tomorrow 9am UTC               | Sun 2026-11-29 04:00
        today 5pm UTC                  | Sat 2026-11-28 12:00
        tomorrow noon CET              | Sun 2026-11-29 06:00
        in 2 days 9am UTC              | Mon 2026-11-30 04:00
        dec 5 9am UTC                  | Sat 2026-12-05 04:00
        2-3pm                          | ? is a range
        2pm-3pm                        | ? is a range
        14:00-15:00                    | ? is a range
        between 2 and 3pm              | ? is a range
        in 2-3 hours                   | ? is a range
        next week 9am                  | ? could be any time
        next month 9am                 | ? is not one day
        this week                      | ? could be any time
        at tomorrow 9am in 2 hours     | ? two different times
        in 2 hours tomorrow            | ? two different times
        tomorrow now                   | ? Say either `now` or a time
        9am in 2 days                  | Mon 2026-11-30 09:00
        in 2 days 9am                  | Mon 2026-11-30 09:00
        weds 9am                       | Wed 2026-12-02 09:00
        thur 9am                       | Thu 2026-12-03 09:00
        thurs 9am                      | Thu 2026-12-03 09:00
        tmrw 9am                       | Sun 2026-11-29 09:00
        this sun 9am                   | Sun 2026-11-29 09:00
        next sat 9am                   | Sat 2026-12-05 09:00
        coming friday 9am              | Fri 2026-12-04 09:00
        next monday 10                 | Mon 2026-11-30 10:00
        in 0.75 hours                  | Sat 2026-11-28 10:45
        in 0.5 minutes                 | Sat 2026-11-28 10:00:30
        tomorrow 9                     | Sun 2026-11-29 09:00
        next friday 10                 | Fri 2026-12-04 10:00
        half past 4                    | ? could be 0
        half past 4pm                  | Sat 2026-11-28 16:30
        quarter past 11am              | Sat 2026-11-28 11:15
        quarter to 6pm                 | Sat 2026-11-28 17:45
        quarter to 12pm                | Sat 2026-11-28 11:45
        20 past 9am                    | Sun 2026-11-29 09:20
        in 3 hours' time               | Sat 2026-11-28 13:00
        in an hour's time              | Sat 2026-11-28 11:00
        an hour and a half             | Sat 2026-11-28 11:30
        half an hour                   | Sat 2026-11-28 10:30
        in 2h30m                       | Sat 2026-11-28 12:30
        9am Europe/London              | Sun 2026-11-29 04:00
        2pm pacific                    | Sat 2026-11-28 17:00
        9am eastern                    | Sun 2026-11-29 09:00
        9am central                    | Sun 2026-11-29 10:00
        4pm mountain time              | Sat 2026-11-28 18:00
        tomorrow 9am (PT)              | Sun 2026-11-29 12:00
        9am ET tomorrow                | Sun 2026-11-29 09:00
        16.07. 18:00                   | ? has already passed
        16.07.2027 18:00               | Fri 2027-07-16 18:00
        3.1.2027 9:00                  | Sun 2027-01-03 09:00
        this weekend 10am              | Sun 2026-11-29 10:00
        end of day                     | ? could be any time
        eod                            | ? could be any time
        end of the week                | ? could be any time
        asap                           | ? could be any time
        soon                           | ? could be any time
        lunch                          | ? could be any time
        3/4 9am                        | ? has already passed
        12/3 9am                       | Thu 2026-12-03 09:00
        25/12 9am                      | Fri 2026-12-25 09:00
        12/25 9am                      | Fri 2026-12-25 09:00
        12/32 3pm                      | ? No such date
        2026-13-05 15:00               | ? No such date
        feb 30 9am                     | ? No such date
        feb 29 2028 9am                | ? more than a year ahead
        tomorrow 9am xyz               | ? could not place
        tomorrow 9am get               | ? could not place
        9am Mars/Olympus               | ? is not a time zone I know
        tonight                        | ? has no time of day
        tomorrow morning               | ? has no time of day
        tomorrow morning 9             | Sun 2026-11-29 09:00
        tonight at 8                   | Sat 2026-11-28 20:00
        at 8 tonight                   | Sat 2026-11-28 20:00
        at 7 this evening              | Sat 2026-11-28 19:00
        this evening 7                 | Sat 2026-11-28 19:00
        8 in the evening               | Sat 2026-11-28 20:00
        9am tonight                    | ? does not fit
        at 11 in the afternoon         | ? does not fit
        tomorrow at 3 in the afternoon | Sun 2026-11-29 15:00
        tomorrow at 9 in the morning   | Sun 2026-11-29 09:00
        9 o'clock tomorrow morning     | Sun 2026-11-29 09:00
        friday midnight                | ? beside a day could be early that day or in the night after it
        tomorrow 12am                  | ? beside a day could be early that day or in the night after it
        midnight                       | Sun 2026-11-29 00:00
        midnight tonight               | Sun 2026-11-29 00:00
        tomorrow 5:30                  | ? could be 0
        tomorrow 05:30                 | Sun 2026-11-29 05:30
        tomorrow 17:30                 | Sun 2026-11-29 17:30
        tomorrow 13pm                  | ? is not a time of day
        tomorrow 9.75pm                | ? is not a time of day
        tomorrow 9:30:99               | ? is not a time of day
        tomorrow 25:00                 | ? is not a time of day
        tomorrow 9am 5pm               | ? more than one time of day
        tomorrow 10.30pm               | Sun 2026-11-29 22:30
        13h                            | ? could be 13 hours from now
        13h30                          | Sat 2026-11-28 13:30
        in 13h                         | Sat 2026-11-28 23:00
        yesterday 9am                  | ? has already passed
        today 6am                      | ? has already passed
        in 400 days                    | ? more than a year ahead
        in 365 days                    | Sun 2027-11-28 10:00
        in 1 month                     | Mon 2026-12-28 10:00
        in 2 weeks                     | Sat 2026-12-12 10:00
        in 1.5 days                    | ? counts part of
        in 2 hours and 1 hour          | ? Give each unit once
        2026-12-05T09:00:00Z           | Sat 2026-12-05 04:00
        2026-12-05t09:00:00+01:00      | Sat 2026-12-05 03:00
        Dec 24th, 10am                 | Thu 2026-12-24 10:00
        24th december 10am             | Thu 2026-12-24 10:00
        december 24 2026 at 10am       | Thu 2026-12-24 10:00
        on 24 dec at 10:30pm           | Thu 2026-12-24 22:30
        friday 9am please              | Fri 2026-12-04 09:00
        9am sharp tomorrow             | Sun 2026-11-29 09:00
        @ 9am tomorrow                 | Sun 2026-11-29 09:00
        5                              | ? could not place
        tomorrow                       | ? has no time of day
        friday                         | ? has no time of day
        2027 9am                       | ? is a year without a date
        dec 9am                        | ? is a month without a day
        friday night 12:30am           | ? beside a day could be early that day or in the night after it
        tonight 12:30am                | Sun 2026-11-29 00:30
        2h                             | ? could be 2 hours from now, or 02:00
        5h30                           | ? could be 0
        tonight 8:30                   | Sat 2026-11-28 20:30
        tonight 10:15                  | Sat 2026-11-28 22:15
        tonight 10.30                  | Sat 2026-11-28 22:30
        this evening 7:30              | Sat 2026-11-28 19:30
        tomorrow afternoon 2:30        | Sun 2026-11-29 14:30
        dec 12 noon                    | Sat 2026-12-12 12:00
        12/12 noon                     | Sat 2026-12-12 12:00
        7 tomorrow evening             | Sun 2026-11-29 19:00
        9 friday night                 | Fri 2026-12-04 21:00
        at 10 dec 5                    | Sat 2026-12-05 10:00
        in a half hour                 | Sat 2026-11-28 10:30
        in 30m                         | Sat 2026-11-28 10:30
        in a couple of hours           | Sat 2026-11-28 12:00
        12 noon                        | Sat 2026-11-28 12:00
        tomorrow 0930                  | Sun 2026-11-29 09:30
        tomorrow 930am                 | Sun 2026-11-29 09:30
        3pm tmw                        | Sun 2026-11-29 15:00
        in 2h 30m                      | Sat 2026-11-28 12:30
        1h30m                          | Sat 2026-11-28 11:30
        9 o'clock am                   | Sun 2026-11-29 09:00
        9am new york time              | Sun 2026-11-29 09:00
        in 1,5 hours                   | Sat 2026-11-28 11:30
        in 2 and a half hours          | Sat 2026-11-28 12:30
        in 1 hour 30                   | ? could not place
        in 9999999999 hours            | ? more than a year ahead
        in 99999 years                 | ? more than a year ahead
        9am -13                        | ? is not a UTC offset
        9am GMT-14                     | ? is not a UTC offset
        in a few hours                 | ? could be any time
    """,
    ("America/New_York", "2026-03-07T22:00", None): """
        tomorrow 9am      | Sun 2026-03-08 09:00
        tomorrow 2:30am   | ? does not exist
        sunday 2am        | ? does not exist
        tomorrow 3am      | Sun 2026-03-08 03:00
        in 5 hours        | Sun 2026-03-08 04:00
        in 1 day          | Sun 2026-03-08 22:00
        tomorrow 9am UTC  | ? on your calendar
        9am UTC           | Sun 2026-03-08 05:00
        the 15th 2pm      | Sun 2026-03-15 14:00
        sat the 12th 10am | ? not a Saturday
        tonight at 8      | ? has already passed
    """,
    ("America/New_York", "2026-10-31T23:00", None): """
        tomorrow 9am    | Sun 2026-11-01 09:00
        tomorrow 1:30am | ? happens twice
        nov 1 1:30am    | ? happens twice
        in 3 hours      | Sun 2026-11-01 01:00
        in 45 minutes   | Sat 2026-10-31 23:45
        tomorrow 2am    | Sun 2026-11-01 02:00
        in 1 day        | Sun 2026-11-01 23:00
        sunday 3am      | Sun 2026-11-01 03:00
        noon            | Sun 2026-11-01 12:00
        the 15th 2pm    | Sun 2026-11-15 14:00
    """,
    ("Australia/Sydney", "2026-04-04T20:00", "en-AU"): """
        tomorrow 9am      | Sun 2026-04-05 09:00
        tomorrow 2:30am   | ? happens twice
        tomorrow 3am      | Sun 2026-04-05 03:00
        tomorrow 1am      | Sun 2026-04-05 01:00
        in 8 hours        | Sun 2026-04-05 03:00
        in 1 day          | Sun 2026-04-05 20:00
        5/4 10am          | Sun 2026-04-05 10:00
        4/5 10am          | Mon 2026-05-04 10:00
        13/4 10am         | Mon 2026-04-13 10:00
        9am AEST          | Sun 2026-04-05 09:00
        9am AEDT          | ? `AEDT` is UTC+11, but on Sun 5 April 2026 Sydney keeps AEST
        9am UTC           | Sun 2026-04-05 19:00
        friday 17:30      | Fri 2026-04-10 17:30
        sat the 12th 10am | ? not a Saturday
    """,
    ("Australia/Sydney", "2026-10-03T20:00", None): """
        tomorrow 9am    | Sun 2026-10-04 09:00
        tomorrow 2:30am | ? does not exist
        sunday 2:15am   | ? does not exist
        tomorrow 3:30am | Sun 2026-10-04 03:30
        in 7 hours      | Sun 2026-10-04 04:00
        4/10 9am        | Sun 2026-10-04 09:00
        the 15th 2pm    | Thu 2026-10-15 14:00
        next monday 10  | Mon 2026-10-05 10:00
    """,
    ("Europe/London", "2026-12-31T23:30", "en-GB"): """
        tomorrow 9am      | Fri 2027-01-01 09:00
        midnight          | Fri 2027-01-01 00:00
        in 30 minutes     | Fri 2027-01-01 00:00
        noon              | Fri 2027-01-01 12:00
        jan 1 9am         | Fri 2027-01-01 09:00
        1st jan 9am       | Fri 2027-01-01 09:00
        jan 2 10am        | Sat 2027-01-02 10:00
        feb 2 10am        | Tue 2027-02-02 10:00
        dec 31 11:45pm    | Thu 2026-12-31 23:45
        dec 31 11pm       | ? has already passed
        3/1 9am           | Sun 2027-01-03 09:00
        1/3 9am           | Mon 2027-03-01 09:00
        tomorrow 00:00    | Fri 2027-01-01 00:00
        9am BST           | ? `BST` is UTC+1, but on Fri 1 January 2027 London keeps GMT
        9am GMT           | Fri 2027-01-01 09:00
        the 1st 9am       | Fri 2027-01-01 09:00
        the 15th 2pm      | Fri 2027-01-15 14:00
        the 31st 9am      | ? has already passed
        sat the 12th 10am | ? not a Saturday
        friday 17:30      | Fri 2027-01-01 17:30
        in 365 days       | Fri 2027-12-31 23:30
    """,
    ("Asia/Kolkata", "2028-02-28T18:00", None): """
        tomorrow 9am    | Tue 2028-02-29 09:00
        feb 29 9am      | Tue 2028-02-29 09:00
        the 29th 9am    | Tue 2028-02-29 09:00
        29/2 9am        | Tue 2028-02-29 09:00
        in 1 day        | Tue 2028-02-29 18:00
        mar 1 9am       | Wed 2028-03-01 09:00
        feb 29 2029 9am | ? No such date
        9am IST         | Tue 2028-02-29 09:00
        3/4 9am         | Mon 2028-04-03 09:00
        9am +0530       | Tue 2028-02-29 09:00
        9am +05:30      | Tue 2028-02-29 09:00
        tonight at 8    | Mon 2028-02-28 20:00
        in 2 hours      | Mon 2028-02-28 20:00
        the 15th 2pm    | Wed 2028-03-15 14:00
    """,
    ("Asia/Kolkata", "2028-02-29T09:00", None): """
        the 29th 10am     | Tue 2028-02-29 10:00
        feb 29 10am       | Tue 2028-02-29 10:00
        in 1 year         | Wed 2029-02-28 09:00
        feb 28 2029 9am   | Wed 2029-02-28 09:00
        in 1 month        | Wed 2028-03-29 09:00
        the 30th 9am      | Thu 2028-03-30 09:00
        tomorrow 9am      | Wed 2028-03-01 09:00
        sat the 12th 10am | ? not a Saturday
    """,
    ("Asia/Kathmandu", "2026-01-31T21:00", None): """
        tomorrow 9am | Sun 2026-02-01 09:00
        feb 1 9am    | Sun 2026-02-01 09:00
        the 31st 9am | ? has already passed
        the 1st 9am  | Sun 2026-02-01 09:00
        in 1 month   | Sat 2026-02-28 21:00
        9am +0545    | Sun 2026-02-01 09:00
        9am UTC      | Sun 2026-02-01 14:45
        noon         | Sun 2026-02-01 12:00
        in 90 mins   | Sat 2026-01-31 22:30
    """,
    ("Pacific/Kiritimati", "2026-11-30T23:00", None): """
        tomorrow 9am      | Tue 2026-12-01 09:00
        in 2 hours        | Tue 2026-12-01 01:00
        dec 1 9am         | Tue 2026-12-01 09:00
        9am UTC           | Tue 2026-12-01 23:00
        9am +14           | Tue 2026-12-01 09:00
        the 1st 9am       | Tue 2026-12-01 09:00
        sat the 12th 10am | Sat 2026-12-12 10:00
        tonight at 8      | ? has already passed
    """,
    ("Pacific/Chatham", "2026-09-26T20:00", None): """
        tomorrow 9am    | Sun 2026-09-27 09:00
        tomorrow 3am    | ? does not exist
        tomorrow 2:50am | ? does not exist
        in 7 hours      | Sun 2026-09-27 04:00
        9am +1245       | Sun 2026-09-27 10:00
        noon            | Sun 2026-09-27 12:00
    """,
    ("America/Sao_Paulo", "2026-06-30T12:00", None): """
        tomorrow 9am | Wed 2026-07-01 09:00
        jul 1 9am    | Wed 2026-07-01 09:00
        1/7 9am      | Wed 2026-07-01 09:00
        the 30th 9am | ? has already passed
        the 1st 9am  | Wed 2026-07-01 09:00
        9am -03:00   | Wed 2026-07-01 09:00
        tonight at 8 | Tue 2026-06-30 20:00
        in 2 hours   | Tue 2026-06-30 14:00
    """,
    ("Pacific/Auckland", "2026-04-04T20:00", None): """
        tomorrow 9am    | Sun 2026-04-05 09:00
        tomorrow 2:30am | ? happens twice
        tomorrow 1:30am | Sun 2026-04-05 01:30
        in 8 hours      | Sun 2026-04-05 03:00
        9am NZST        | Sun 2026-04-05 09:00
        5/4 9am         | Sun 2026-04-05 09:00
    """,
    ("Asia/Tokyo", "2027-02-28T23:00", None): """
        tomorrow 9am | Mon 2027-03-01 09:00
        mar 1 9am    | Mon 2027-03-01 09:00
        feb 29 9am   | ? No such date
        the 29th 9am | Mon 2027-03-29 09:00
        3/1 9am      | Mon 2027-03-01 09:00
        9am JST      | Mon 2027-03-01 09:00
        the 28th 9am | ? has already passed
        in 90 mins   | Mon 2027-03-01 00:30
        noon         | Mon 2027-03-01 12:00
    """,
    ("Europe/Berlin", "2026-03-28T21:00", "de"): """
        tomorrow 9am    | Sun 2026-03-29 09:00
        tomorrow 2:30am | ? does not exist
        tomorrow 3am    | Sun 2026-03-29 03:00
        in 6 hours      | Sun 2026-03-29 04:00
        28.3. 23:00     | Sat 2026-03-28 23:00
        29.03. 9:00     | Sun 2026-03-29 09:00
        1.4.2026 9:00   | Wed 2026-04-01 09:00
        2/4 9am         | Thu 2026-04-02 09:00
        9am CET         | ? `CET` is UTC+1, but on Sun 29 March 2026 Berlin keeps CEST
        9am CEST        | Sun 2026-03-29 09:00
    """,
    ("America/Los_Angeles", "2026-12-31T22:00", None): """
        tomorrow 9am | Fri 2027-01-01 09:00
        jan 1 9am    | Fri 2027-01-01 09:00
        dec 31 11pm  | Thu 2026-12-31 23:00
        midnight     | Fri 2027-01-01 00:00
        9am PT       | Fri 2027-01-01 09:00
        9am ET       | Fri 2027-01-01 06:00
        in 2 hours   | Fri 2027-01-01 00:00
    """,
    ("UTC", "2026-11-28T10:00", None): """
        tomorrow 9am     | Sun 2026-11-29 09:00
        3/4/2027 9am     | ? could be 3
        12/3 9am         | ? could be 1
        25/12 9am        | Fri 2026-12-25 09:00
        9am PST          | ? names several time zones
        9am CST          | ? names several time zones
        9am EST          | ? names several time zones
        9am IST          | ? names several time zones
        tomorrow 9am UTC | Sun 2026-11-29 09:00
        in 2 hours       | Sat 2026-11-28 12:00
    """,
    ("Europe/London", "2026-12-05T12:00", "en-GB"): """
        at 2000 hrs                    | Sat 2026-12-05 20:00
        9am UTC−5                      | Sat 2026-12-05 14:00
        2030 hours                     | Sat 2026-12-05 20:30
        2000 hrs tomorrow              | Sun 2026-12-06 20:00
        at 20 hrs                      | ? could be 20 hrs from now, or 20:00
        for 2 hours                    | ? says how long, not when
        tomorrow at 18 hrs             | ? could be 18 hrs from now, or 18:00
        tomorrow 2030                  | ? could be the year 2030 or 20:30
        tomorrow at 9.30.              | Sun 2026-12-06 09:30
        this sat 10am                  | ? was earlier today
        this sat 3pm                   | Sat 2026-12-05 15:00
        sat 10am                       | Sat 2026-12-12 10:00
        in 2 days in the morning       | ? needs a time of day
        in 3 days evening              | ? needs a time of day
        in 2 hours in the evening      | ? two different times
        quarter to 1                   | ? could be 00:45 or 12:45
        quarter to 7                   | Sun 2026-12-06 06:45
        quarter to 7 tonight           | Sat 2026-12-05 18:45
        quarter to 12 tonight          | Sat 2026-12-05 23:45
        9999-12-31 11:59pm             | ? more than a year ahead
        0001-01-01 1am +5              | ? long past
    """,
    ("America/Los_Angeles", "2026-12-05T22:00", "en-US"): """
        tomorrow 9am ET                | ? on your calendar
        today 9pm America/New_York     | ? on your calendar
        9am ET                         | Sun 2026-12-06 06:00
        tomorrow 9am                   | Sun 2026-12-06 09:00
    """,
    ("Europe/London", "2027-12-05T12:00", "en-GB"): """
        feb 29 9am                     | Tue 2028-02-29 09:00
        29/2 9am                       | Tue 2028-02-29 09:00
    """,
    ("Asia/Shanghai", "2026-11-28T10:00", None): """
        tomorrow 9am | Sun 2026-11-29 09:00
        9am CST      | Sun 2026-11-29 09:00
        3/4/2027 9am | Thu 2027-03-04 09:00
        12/3 9am     | Thu 2026-12-03 09:00
        9am PST      | ? names several time zones
    """,
    ("America/Chicago", "2026-07-10T10:00", None): """
        9am CST         | ? `CST` is UTC-6, but on Sat 11 July 2026 Chicago keeps CDT
        9am CDT         | Sat 2026-07-11 09:00
        9am EST         | ? `EST` is UTC-5, but on Sat 11 July 2026 New York keeps EDT
        9am central     | Sat 2026-07-11 09:00
        3/4/2027 9am    | Thu 2027-03-04 09:00
        next friday 9am | Fri 2026-07-17 09:00
        friday 9am      | Fri 2026-07-17 09:00
        friday 11am     | Fri 2026-07-10 11:00
    """,
    ("Australia/Adelaide", "2026-10-03T20:00", None): """
        tomorrow 9am    | Sun 2026-10-04 09:00
        tomorrow 2:30am | ? does not exist
        9am ACST        | ? Darwin keeps ACST all year
        in 7 hours      | Sun 2026-10-04 04:00
    """,
    ("Africa/Johannesburg", "2026-05-31T23:00", None): """
        tomorrow 9am | Mon 2026-06-01 09:00
        the 31st 9am | ? has already passed
        jun 1 9am    | Mon 2026-06-01 09:00
        9am SAST     | Mon 2026-06-01 09:00
    """,
    ("Europe/London", "2026-11-28T10:00", "en-US"): """
        3/4/2027 9am | Thu 2027-03-04 09:00
        12/3 9am     | Thu 2026-12-03 09:00
        9am cst      | ? names several time zones
    """,
    ("America/New_York", "2026-11-29T10:00", None): """
        this weekend 11am | Sun 2026-11-29 11:00
        this weekend 9am  | ? has passed; name the day
    """,
    ("America/New_York", "2026-07-15T10:00", None): """
        9am PST                   | ? `PST` is UTC-8, but on Wed 15 July 2026 Los Angeles keeps PDT
        9am PDT                   | Wed 2026-07-15 12:00
        9am pacific               | Wed 2026-07-15 12:00
        9am CST                   | ? `CST` is UTC-6
        9am MST                   | ? names several time zones
        9am EST                   | ? `EST` is UTC-5, but on Thu 16 July 2026 New York keeps EDT
        9am eastern standard time | ? `eastern standard time` (EST) is UTC-5
        9am eastern daylight time | Thu 2026-07-16 09:00
    """,
    ("Europe/London", "2026-07-15T07:00", None): """
        9am CET | ? `CET` is UTC+1, but on Wed 15 July 2026 Paris keeps CEST
        9am GMT | Wed 2026-07-15 10:00
        9am UTC | Wed 2026-07-15 10:00
    """,
    ("Australia/Brisbane", "2026-07-15T10:00", None): """
        9am EST | Thu 2026-07-16 09:00
    """,
    ("America/Los_Angeles", "2026-11-26T10:00", None): """
        tomorrow friday 9am   | Fri 2026-11-27 09:00
        tomorrow nov 27 9am   | Fri 2026-11-27 09:00
        tomorrow nov 28 9am   | ? `tomorrow` is
        tomorrow saturday 9am | ? not a Saturday
    """,
    ("America/New_York", "2026-12-31T23:30", None): """
        dec 31 11:30pm | ? has already passed
        feb 1 9am      | Mon 2027-02-01 09:00
        apr 15 9am     | ? has already passed
    """,
    ("Asia/Kathmandu", "2027-01-31T10:00", None): """
        tue the 29th 9am | ? has already passed
    """,
    ("Asia/Jerusalem", "2026-07-15T10:00", None): """
        9am IDT | Thu 2026-07-16 09:00
    """,
    ("Australia/Sydney", "2026-12-05T12:00", None): """
        9am us eastern   | Sun 2026-12-06 01:00
        9am ET           | Sun 2026-12-06 01:00
        2pm pacific      | Sun 2026-12-06 09:00
        9am eastern      | ? `eastern` names several time zones (America/New_York, Australia/Sydney)
        9am eastern time | ? names several time zones
        9am AEDT         | Sun 2026-12-06 09:00
        9am AEST         | ? Brisbane keeps AEST all year
        9am EST          | ? `EST` is UTC+10, but on Sun 6 December 2026 Sydney keeps AEDT (UTC+11)
    """,
    ("Australia/Adelaide", "2026-12-05T12:00", None): """
        2pm pacific               | Sun 2026-12-06 08:30
        9am mountain              | Sun 2026-12-06 02:30
        9am ET                    | Sun 2026-12-06 00:30
        9am PT                    | Sun 2026-12-06 03:30
        9am CT                    | Sun 2026-12-06 01:30
        9am MT                    | Sun 2026-12-06 02:30
        9am us central            | Sun 2026-12-06 01:30
        9am western               | Sun 2026-12-06 11:30
        9am eastern               | ? `eastern` names several time zones (America/New_York, Australia/Sydney)
        9am central               | ? `central` names several time zones (America/Chicago, Australia/Adelaide)
        9am eastern standard time | ? names several time zones
        9am ACDT                  | Sun 2026-12-06 09:00
        9am AEST                  | ? `AEST` is UTC+10, but on Sun 6 December 2026 Sydney keeps AEDT (UTC+11)
        9am ACST                  | ? `ACST` is UTC+9:30, but on Sun 6 December 2026 Adelaide keeps ACDT (UTC+10:30)
    """,
    ("Europe/Berlin", "2026-12-05T12:00", None): """
        9am central    | ? `central` names several time zones (America/Chicago, Europe/Berlin)
        9am eastern    | ? `eastern` names several time zones (America/New_York, Europe/Athens)
        9am us central | Sat 2026-12-05 16:00
        9am CT         | Sat 2026-12-05 16:00
        9am pacific    | Sat 2026-12-05 18:00
        9am CET        | Sun 2026-12-06 09:00
        9am CEST       | ? `CEST` is UTC+2, but on Sun 6 December 2026 Berlin keeps CET (UTC+1)
    """,
    ("Europe/Helsinki", "2026-12-05T12:00", None): """
        9am eastern    | ? `eastern` names several time zones (America/New_York, Europe/Helsinki)
        9am us eastern | Sat 2026-12-05 16:00
        9am EET        | Sun 2026-12-06 09:00
    """,
    ("Europe/London", "2026-12-05T12:00", None): """
        jun 1 2027 9am GMT | Tue 2027-06-01 10:00
        jun 1 2027 9am BST | Tue 2027-06-01 09:00
        9am GMT            | Sun 2026-12-06 09:00
        9am UTC+1          | Sun 2026-12-06 08:00
        9am BST            | ? `BST` is UTC+1, but on Sun 6 December 2026 London keeps GMT (UTC+0)
        9am CEST           | ? `CEST` is UTC+2, but on Sun 6 December 2026 Paris keeps CET (UTC+1)
        9am eastern        | ? names several time zones
    """,
    ("America/Los_Angeles", "2027-03-13T22:00", None): """
        tomorrow 9am PST                   | ? `PST` is UTC-8, but on Sun 14 March 2027 Los Angeles keeps PDT (UTC-7)
        tomorrow 9am pacific standard time | ? `pacific standard time` (PST) is UTC-8
        tomorrow 9am PDT                   | Sun 2027-03-14 09:00
        tomorrow 9am pacific               | Sun 2027-03-14 09:00
        tomorrow 9am UTC-8                 | Sun 2027-03-14 10:00
    """,
    ("America/Denver", "2026-07-05T12:00", None): """
        9am MST                    | ? Phoenix keeps MST all year
        9am mountain standard time | ? `mountain standard time` (MST) is UTC-7
        9am MDT                    | Mon 2026-07-06 09:00
        9am mountain               | Mon 2026-07-06 09:00
    """,
    ("America/Phoenix", "2026-07-05T12:00", None): """
        9am mountain      | Mon 2026-07-06 09:00
        9am mountain time | Mon 2026-07-06 09:00
        9am MST           | Mon 2026-07-06 09:00
    """,
    ("Europe/Berlin", "2026-11-28T10:00", "de"): """
        10.12       | ? could be 10:12 or 10 December
        10.12 14.30 | Thu 2026-12-10 14:30
    """,
}


def _rows() -> list[tuple[str, str, str | None, str, str]]:
    rows = []
    for (zone, now, locale), block in TABLE.items():
        for line in block.strip().splitlines():
            phrase, expected = (part.strip() for part in line.split("|"))
            rows.append((zone, now, locale, phrase, expected))
    return rows


ROWS = _rows()


def test_the_table_covers_what_the_issue_asks_for() -> None:
    assert len(ROWS) >= 300
    assert len({zone for zone, *_ in ROWS}) >= 15


@pytest.mark.parametrize(("zone", "now", "locale", "phrase", "expected"), ROWS)
def test_phrase(zone: str, now: str, locale: str | None, phrase: str, expected: str) -> None:
    tz = ZoneInfo(zone)
    moment = datetime.fromisoformat(now).replace(tzinfo=tz)
    if expected.startswith("?"):
        with pytest.raises(InvalidTime) as refused:
            parse_when(phrase, now=moment, tz=tz, locale=locale)
        assert expected.removeprefix("? ") in refused.value.user_message
        assert refused.value.examples, "a question back suggests what to write"
        for example in refused.value.examples:
            assert f"`{example}`" in refused.value.user_message
            parse_when(example, now=moment, tz=tz, locale=locale)  # each suggestion is accepted as it is
        return
    instant = parse_when(phrase, now=moment, tz=tz, locale=locale)
    if expected == "now":
        assert instant is None
        return
    assert instant is not None
    local = instant.astimezone(tz)
    seconds = f":{local.second:02d}" if local.second else ""
    assert f"{local:%a %Y-%m-%d %H:%M}{seconds}" == expected
