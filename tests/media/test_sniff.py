"""Types are read from the bytes, never the name; images the platforms refuse become JPEG."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from bot.errors import MediaRejected
from bot.media.sniff import convert_to_jpeg, sniff
from tests.media.files import MOV, MP4, WEBM, image


@pytest.mark.parametrize(
    ("data", "kind", "content_type", "convert"),
    [
        (MP4, "video", "video/mp4", False),
        (MOV, "video", "video/quicktime", False),
        (WEBM, "video", "video/webm", False),
        (image("JPEG"), "image", "image/jpeg", False),
        (image("WEBP"), "image", "image/webp", False),
        (image("PNG"), "image", "image/jpeg", True),
        (image("GIF"), "image", "image/jpeg", True),
    ],
)
def test_types_come_from_the_bytes(data: bytes, kind: str, content_type: str, convert: bool) -> None:
    sniffed = sniff(data[:8192], filename="named-wrong.txt")
    assert (sniffed.kind, sniffed.content_type, sniffed.needs_conversion) == (kind, content_type, convert)


@pytest.mark.parametrize("data", [b"%PDF-1.7 not media", b"just some text", b""])
def test_other_files_are_refused_by_name_with_what_works(data: bytes) -> None:
    with pytest.raises(MediaRejected) as caught:
        sniff(data, filename="launch.mp4")
    assert "`launch.mp4`" in caught.value.user_message
    assert "MP4, QuickTime or WebM" in caught.value.user_message


def test_png_with_transparency_converts_to_a_jpeg_on_white(tmp_path: Path) -> None:
    source, target = tmp_path / "in.png", tmp_path / "out.jpg"
    source.write_bytes(image("PNG", (10, 10), "RGBA"))
    convert_to_jpeg(source, target, filename="in.png")
    with Image.open(target) as converted:
        assert converted.format == "JPEG"
        assert converted.size == (10, 10)
