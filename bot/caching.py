"""Reading the bot's time-limited caches (cachetools' TTLCache) safely."""

from __future__ import annotations

from typing import Any, TypeVar

from cachetools import TTLCache

K = TypeVar("K")
V = TypeVar("V")

MISSING: Any = object()


def fresh(cache: TTLCache[K, V, Any], key: K, default: V | None = None) -> V | None:
    """The value cached under `key`, or `default` when it is absent or has expired.

    cachetools' own `cache.get(key)`, like `key in cache` followed by `cache[key]`, reads the clock twice: an entry
    that expires between the two reads raises KeyError. Under load that turned a /post into "something went wrong".
    Here the clock is read once.
    """
    try:
        return cache[key]
    except KeyError:
        return default
