"""CSV cells a spreadsheet would run as formulas (CSV injection): told apart, and written so that none runs.

A cell that begins with `=`, `+`, `-` or `@` and is not a link runs as a formula when a spreadsheet opens the file.
An export writes such a cell with a `'` in front (`guard_cell`), which spreadsheets read as "this is text"; an
import refuses one without it, and takes the `'` off one an export marked (`unguard_cell`).
"""

from __future__ import annotations

import re

FORMULA_START = ("=", "+", "-", "@")
_LINK = re.compile(r"^[a-z][a-z0-9+.-]*://\S+$", re.IGNORECASE)


def looks_like_formula(cell: str) -> bool:
    """Whether a spreadsheet would run this cell: it begins with `=`, `+`, `-` or `@` and is not a link."""
    return cell.startswith(FORMULA_START) and not _LINK.match(cell)


def guard_cell(cell: str) -> str:
    """The cell as an export writes it: a `'` in front of one a spreadsheet would run as a formula (and of one that
    already has `'`s in front of such a start, so that `unguard_cell` gives back exactly what was written)."""
    return f"'{cell}" if looks_like_formula(cell.lstrip("'")) else cell


def unguard_cell(cell: str) -> str:
    """A cell as `guard_cell` found it: the `'` an export put in front of a formula-looking cell taken off."""
    return cell[1:] if cell.startswith("'") and looks_like_formula(cell.lstrip("'")) else cell
