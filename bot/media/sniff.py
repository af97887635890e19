"""What a file is, read from its first bytes rather than its name."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import filetype
from PIL import Image, UnidentifiedImageError

from bot.errors import MediaRejected

logger = logging.getLogger(__name__)

HEAD_BYTES = 8192
MAX_PIXELS = 50_000_000  # 50 megapixels is far beyond any phone photo; more is a decompression bomb

# What TikTok and Instagram take as they are, and the extension the stored copy gets.
VIDEOS = {"video/mp4": ".mp4", "video/quicktime": ".mov", "video/webm": ".webm", "video/x-m4v": ".m4v"}
IMAGES = {"image/jpeg": ".jpg", "image/webp": ".webp"}
# Images the platforms refuse but Pillow reads: converted to JPEG.
CONVERTIBLE = {"image/png", "image/gif", "image/bmp", "image/tiff", "image/x-icon"}


@dataclass(frozen=True)
class Sniffed:
    kind: Literal["video", "image"]
    content_type: str
    extension: str
    needs_conversion: bool = False


def sniff(head: bytes, *, filename: str) -> Sniffed:
    """The media kind of a file from its first bytes; MediaRejected for anything that cannot be posted."""
    guess = filetype.guess(head)
    mime = guess.mime if guess else None
    if mime in VIDEOS:
        return Sniffed("video", mime, VIDEOS[mime])
    if mime in IMAGES:
        return Sniffed("image", mime, IMAGES[mime])
    if mime in CONVERTIBLE:
        return Sniffed("image", "image/jpeg", ".jpg", needs_conversion=True)
    what = f"a {mime} file" if mime else "not a video or an image I can read"
    raise MediaRejected(
        f"`{filename}` is {what}. Posts take MP4, QuickTime or WebM videos, or JPEG, WebP or PNG images."
    )


def convert_to_jpeg(source: Path, target: Path, *, filename: str) -> None:
    """Write a JPEG copy of an image (first frame of an animation; transparency on white). Blocking: run in a thread."""
    try:
        with Image.open(source) as image:
            if image.width * image.height > MAX_PIXELS:
                raise MediaRejected(f"`{filename}` is {image.width}×{image.height} pixels; that is too large to post.")
            image.seek(0)
            rgba = image.convert("RGBA")
            flat = Image.new("RGB", rgba.size, "white")
            flat.paste(rgba, mask=rgba.getchannel("A"))
            flat.save(target, "JPEG", quality=92, optimize=True)
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise MediaRejected(f"`{filename}` looks like an image but could not be read.") from exc
