"""Links to re-hosted uploads renewed for a later time: a post moved, approved for later, or repeated."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from bot.context import Context
from bot.model import ContentType, PostRequest
from bot.records import StoredRequest


async def renewed_links(
    ctx: Context, stored: StoredRequest, *, until: datetime
) -> tuple[ContentType, tuple[str, ...]] | None:
    """For uploads the bot re-hosts: links that last until the new time plus the margin, in the same order."""
    renewed = await renewed_request(ctx, stored, until=until)
    return (renewed.content_type, renewed.media_urls) if renewed is not None else None


async def renewed_request(ctx: Context, stored: StoredRequest, *, until: datetime) -> PostRequest | None:
    """The request with links to its uploads that last until `until`, and their stored keys (linked to the request,
    so that clean-up keeps them); None when it has no uploads."""
    request = stored.request
    if not any(request.media_keys):
        return None
    urls, keys = [], []
    for url, key in zip(request.media_urls, request.media_keys, strict=True):
        if not key:
            urls.append(url)
            keys.append("")
            continue
        new_key, new_url = await ctx.media.relink(key, until=until)
        urls.append(new_url)
        keys.append(new_key)
    await ctx.storage.media.link(stored.id, [key for key in keys if key])
    return replace(request, media_urls=tuple(urls), media_keys=tuple(keys))
