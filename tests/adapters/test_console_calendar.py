"""The calendar as a person tries it in the console: the week as text, the page link and feed on this machine."""

from __future__ import annotations

from pathlib import Path

from tests.test_cli import console


def test_the_console_shows_the_week_and_gives_links_on_this_machine(tmp_path: Path) -> None:
    result = console(
        tmp_path,
        "/post https://e.com/v.mp4 to acc_1 at tomorrow 9am -- Launch day",
        "yes",
        "/calendar",
        "/calendar next",
        "/calendar link",
        "/calendar ical",
        "/calendar ical revoke",
        "/digest",
        TZ="America/New_York",
    )
    out = result.stdout
    assert "Traceback" not in out + result.stderr
    week = out.split("[sandbox] Posts from ", 1)[1]
    assert week.startswith(next(line for line in week.splitlines()))  # a heading, then the days
    assert "— scheduled — “Launch day” · #1 by " in out
    assert "nothing scheduled" in out
    assert "[sandbox] Your calendar, as you may see it: http://127.0.0.1:" in out
    assert "/calendar?t=" in out
    assert "[sandbox] Your private calendar feed: http://127.0.0.1:" in out
    assert ".ics" in out
    assert "[sandbox] Ended 1 calendar feed: the address no longer works." in out
    assert "weekly digest goes out on Mondays at 09:00" in out
