"""Reading a CSV file of posts to import: its bytes to rows of cells, or one refusal that says what is wrong.

The file is what a spreadsheet saves: UTF-8 with or without a byte-order mark, cells separated by commas or by
semicolons (as spreadsheets in comma-decimal locales save them), a header row naming the columns in any order.
Rows are numbered as the spreadsheet shows them: the header is row 1, so the first post is row 2.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePosixPath

from bot.csv_cells import looks_like_formula, unguard_cell
from bot.errors import BadCommand
from bot.model import PostDraft, PostRequest
from bot.texts import clip

MAX_BYTES = 1024 * 1024
MAX_ROWS = 500
COLUMNS = ("media", "accounts", "when", "caption", "sound", "slides")
# Read but not posted: an export's post IDs, which keep a re-imported export from posting them twice.
KEPT = ("id",)
CSV_TYPES = frozenset({"text/csv", "application/csv", "text/comma-separated-values", "application/vnd.ms-excel"})
SHOWN_CELLS = 5  # formula cells named in one refusal

EXAMPLE = (
    "The first row names the columns, in any order: `media` (one or more links, separated by spaces), "
    "`accounts`, `when` (a time phrase such as `friday 9am`, an ISO time such as `2026-12-05T15:00`, or "
    "`next slot`), `caption`, `sound` and `slides`; only `media` is required."
)


class TableRefused(BadCommand):
    """The file as a whole cannot be imported: nothing is checked or sent."""


@dataclass(frozen=True, kw_only=True)
class Row:
    """One post's row: its number as the spreadsheet shows it, and its cells by column (empty ones left out)."""

    number: int
    cells: dict[str, str]


@dataclass(frozen=True, kw_only=True)
class Table:
    rows: tuple[Row, ...]
    ignored: tuple[str, ...] = ()  # header names that are not columns of an import (an export's `id`, a typo)


@dataclass(frozen=True, kw_only=True)
class PlannedRow:
    """A row checked as a /post would be: what it asked, and the request it becomes."""

    number: int
    draft: PostDraft
    request: PostRequest


@dataclass(frozen=True, kw_only=True)
class ImportPlan:
    """An import previewed and waiting for its author's yes: its good rows, in the file's order."""

    file: str
    rows: tuple[PlannedRow, ...]
    whose: tuple[str, str, str]  # (platform, workspace, user) of its author
    asked: datetime


def is_csv(filename: str, content_type: str | None = None) -> bool:
    """Whether an upload says it is a CSV file, by its MIME type or its name; what adapters route to `/import`."""
    base = (content_type or "").split(";")[0].strip().lower()
    return base in CSV_TYPES or PurePosixPath(filename.lower()).suffix == ".csv"


def read_table(data: bytes, *, filename: str) -> Table:
    """The rows of a CSV file; TableRefused names the first thing that keeps the whole file out."""
    if len(data) > MAX_BYTES:
        raise TableRefused(f"`{clip(filename, 60)}` is {_size(len(data))}; an import takes at most {_size(MAX_BYTES)}.")
    text = _text(data, filename)
    lines = text.splitlines()
    header_line = next((line for line in lines if line.strip()), "")
    delimiter = ";" if header_line.count(";") > header_line.count(",") else ","
    records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False))
    header_row = 1
    while records and not any(cell.strip() for cell in records[0]):
        records.pop(0)
        header_row += 1
    if not records:
        raise TableRefused(f"`{clip(filename, 60)}` is empty. {EXAMPLE}")
    header = [name.strip().lower() for name in records[0]]
    if "media" not in header:
        named = ", ".join(f"`{clip(name, 20)}`" for name in header if name) or "nothing"
        raise TableRefused(
            f"`{clip(filename, 60)}` does not look like a CSV file of posts: its first row names {named}, and no "
            f"`media` column. {EXAMPLE}"
        )
    duplicated = sorted({name for name in header if name in COLUMNS and header.count(name) > 1})
    if duplicated:
        raise TableRefused(f"The column `{duplicated[0]}` appears twice in the first row; keep one.")
    rows: list[Row] = []
    for offset, record in enumerate(records[1:], start=1):
        cells = {
            name: value.strip()
            for name, value in zip(header, record, strict=False)
            if name in (*COLUMNS, *KEPT) and value.strip()
        }
        if cells:  # spreadsheets save empty rows (`;;;;;`) at the end of a sheet
            rows.append(Row(number=header_row + offset, cells=cells))
    if not rows:
        raise TableRefused(f"`{clip(filename, 60)}` has a header row but no posts under it.")
    if len(rows) > MAX_ROWS:
        raise TableRefused(
            f"`{clip(filename, 60)}` has {len(rows):,} posts; an import takes at most {MAX_ROWS}. Split it into "
            "several files."
        )
    _refuse_formulas(rows)
    # A cell an export marked as text (`'-50% off`) is taken as it was: the mark is what kept it from being a formula.
    rows = [Row(number=row.number, cells={k: unguard_cell(v) for k, v in row.cells.items()}) for row in rows]
    ignored = tuple(dict.fromkeys(name for name in header if name and name not in (*COLUMNS, *KEPT)))
    return Table(rows=tuple(rows), ignored=ignored)


def _text(data: bytes, filename: str) -> str:
    if b"\x00" in data:  # UTF-16 (Excel's "Unicode text"), or not text at all: a spreadsheet or an image
        raise TableRefused(
            f"`{clip(filename, 60)}` is not a CSV file. Save the sheet as “CSV UTF-8 (comma delimited)” and attach "
            "that."
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise TableRefused(
            f"`{clip(filename, 60)}` is not UTF-8 text (byte {exc.start + 1:,} cannot be read). Save the sheet as "
            "“CSV UTF-8 (comma delimited)” and attach that."
        ) from exc


def _refuse_formulas(rows: list[Row]) -> None:
    found = [(row.number, column) for row in rows for column, value in row.cells.items() if looks_like_formula(value)]
    if not found:
        return
    named = ", ".join(f"row {number} `{column}`" for number, column in found[:SHOWN_CELLS])
    more = f" and {len(found) - SHOWN_CELLS} more" if len(found) > SHOWN_CELLS else ""
    raise TableRefused(
        f"Nothing was imported: {len(found)} cell{'s' if len(found) != 1 else ''} ({named}{more}) "
        "begin with `=`, `+`, `-` or `@`, which a spreadsheet runs as a formula. Start those cells with another "
        "character (an account without its `@`: its username alone works)."
    )


def _size(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB" if size >= 1024 * 1024 else f"{max(1, size // 1024):,} KB"
