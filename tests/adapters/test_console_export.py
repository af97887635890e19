"""`/posts export` in the console: the file is written under the data directory, and its path printed."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from bot.exporting import COLUMNS
from tests.test_cli import console


def test_the_console_writes_the_export_under_the_data_directory_and_prints_its_path(tmp_path: Path) -> None:
    result = console(
        tmp_path,
        "/post https://e.com/v.mp4 to acc_1 at tomorrow 9am -- Launch day",
        "yes",
        "/posts export",
        "/posts export",
        TZ="America/New_York",
    )
    assert "Traceback" not in result.stdout + result.stderr
    saved = re.findall(r"📎 (posts-\S+\.csv) is saved as (\S+)", result.stdout)
    assert len(saved) == 2, result.stdout
    (name, first), (_, second) = saved
    assert Path(first) == Path("data", "exports", name)
    assert Path(second) == Path("data", "exports", name.replace(".csv", "-2.csv"))  # never over the first
    content = (tmp_path / first).read_bytes()
    assert content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"), newline="")))
    assert [(row["caption"], row["accounts"], row["status"]) for row in rows] == [("Launch day", "acc_1", "scheduled")]
    assert tuple(rows[0]) == COLUMNS
    assert (tmp_path / second).read_bytes() == content
