"""A private iCal feed: each post an event, at its time, with its caption, accounts and status."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from icalendar import Calendar, Event

from bot.calendar.plan import PlannedPost
from bot.texts import clip

EVENT_LENGTH = timedelta(minutes=15)  # a post is a moment; calendars draw a short event better than none


def ical(entries: Sequence[PlannedPost], *, name: str, now: datetime) -> bytes:
    """The feed's text: one event per post (per account), whose UID stays the same as it moves or changes."""
    calendar = Calendar()
    calendar.add("prodid", "-//infinipost-bot//calendar//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", name)
    calendar.add("refresh-interval;value=duration", "PT1H")
    for entry in entries:
        event = Event()
        ident = entry.post_id or f"request-{entry.request_id}-{entry.account_id}"
        event.add("uid", f"{ident}@infinipost-bot")
        event.add("dtstamp", now.astimezone(UTC))
        event.add("dtstart", entry.at.astimezone(UTC))
        event.add("dtend", entry.at.astimezone(UTC) + EVENT_LENGTH)
        caption = " ".join((entry.caption or "").split())
        event.add("summary", f"{entry.account_label}: {clip(caption, 60) if caption else '(no caption)'}")
        event.add(
            "description",
            "\n".join(
                [
                    f"Accounts: {entry.account_label}",
                    f"Status: {entry.status_words}",
                    f"Request #{entry.request_id} by {entry.author_name}",
                    f"Caption: {entry.caption or '(none)'}",
                ]
            ),
        )
        event.add("status", "CANCELLED" if entry.status == "cancelled" else "CONFIRMED")
        event.add("categories", [entry.status_words])
        calendar.add_component(event)
    text: bytes = calendar.to_ical()
    return text
