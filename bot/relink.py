"""Links to re-hosted uploads renewed for a later time: a post moved, approved for later, or repeated."""

from __future__ import annotations

from datetime import datetime

from bot.context import Context
from bot.model import ContentType
from bot.records import StoredRequest


async def renewed_links(
    ctx: Context, stored: StoredRequest, *, until: datetime
) -> tuple[ContentType, tuple[str, ...]] | None:
    """For uploads the bot re-hosts: links that last until the new time plus the margin, in the same order."""
    request = stored.request
    if not any(request.media_keys):
        return None
    urls, renewed = [], []
    for url, key in zip(request.media_urls, request.media_keys, strict=True):
        if not key:
            urls.append(url)
            continue
        new_key, new_url = await ctx.media.relink(key, until=until)
        urls.append(new_url)
        renewed.append(new_key)
    await ctx.storage.media.link(stored.id, renewed)
    return request.content_type, tuple(urls)
