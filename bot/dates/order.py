"""Which number comes first in a numeric date such as `3/4`: the day (3 April) or the month (March 4).

The caller's own platform locale decides first (Discord sends one with every interaction, Slack with
`users.info`), then the convention of the country the caller's zone is in. Both come from CLDR through Babel:
how the locale writes a day and month in digits (its `Md` pattern, `M/d` in the US, `dd/MM` in Britain).
"""

from __future__ import annotations

from functools import cache
from typing import Literal

from babel import Locale, UnknownLocaleError

from bot.dates.zones import country_of

DateOrder = Literal["DMY", "MDY"]


def date_order(*, locale: str | None, zone_key: str) -> DateOrder | None:
    """The caller's order of day and month, or None where neither their locale nor their zone settles it."""
    if locale:
        order = _locale_order(locale.replace("-", "_"))
        if order:
            return order
    country = country_of(zone_key)
    return _locale_order(f"und_{country}") if country else None


@cache
def _locale_order(tag: str) -> DateOrder | None:
    try:
        pattern = Locale.parse(tag).datetime_skeletons.get("Md")
    except (UnknownLocaleError, ValueError, TypeError):
        return None
    text = str(getattr(pattern, "pattern", pattern) or "")
    if "d" not in text or "M" not in text:
        return None
    return "DMY" if text.index("d") < text.index("M") else "MDY"
