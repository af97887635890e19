"""The SQLite files the bot keeps (its database, the sandbox's posts): created private, checked before use.

One check for every such file, so that each is refused at start-up with the same sentences: a folder, a file
that is not SQLite, a place the bot cannot create or write.
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from bot.errors import StorageError


@dataclass(frozen=True, kw_only=True)
class DatabaseFile:
    """An SQLite file the bot keeps, and the words a refusal to use it is said in.

    Args:
        path: where the file is (or is to be created).
        name: what chose the path, as the refusal names it: `BOT_DATABASE`, `--state`.
        noun: what the file is, in "Cannot create {noun} at {path}".
        fix: what to do about a folder or a file that is not SQLite there.
        fix_access: what to do about a file that cannot be created or written.
    """

    path: Path
    name: str
    noun: str
    fix: str
    fix_access: str

    def refusal(self, exc: sqlite3.Error) -> StorageError:
        """The one sentence for an SQLite error met while opening the file."""
        if "not a database" in str(exc):
            return StorageError(f"{self.name} ({self.path}) is not an SQLite database; {self.fix}.")
        return StorageError(f"Cannot use {self.noun} at {self.path} ({exc}); {self.fix_access}.")


def bot_database(path: Path) -> DatabaseFile:
    return DatabaseFile(
        path=path,
        name="BOT_DATABASE",
        noun="the database",
        fix="point it at a new file or the bot's own one",
        fix_access="set BOT_DATABASE to a file the bot may write",
    )


def prepare(file: DatabaseFile) -> None:
    """Create the file and its folder readable by the bot's own user only, if they are not there, and check that
    SQLite can write it. Raises StorageError with one sentence saying what to fix."""
    path = file.path
    try:
        if path.is_dir():
            raise StorageError(f"{file.name} ({path}) is a folder; {file.fix}.")
        if not path.parent.exists():
            path.parent.mkdir(parents=True, mode=0o700)
        if not path.exists():
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    except OSError as exc:
        raise StorageError(f"Cannot create {file.noun} at {path} ({exc.strerror}); {file.fix_access}.") from exc
    try:
        with closing(sqlite3.connect(path, timeout=5, isolation_level=None)) as db:
            # SQLite opens a file it may not write read-only without a word, and says so only at the first write;
            # a write that is rolled back says so now.
            db.execute("BEGIN IMMEDIATE")
            db.execute("CREATE TABLE _write_check (x)")
            db.execute("ROLLBACK")
    except sqlite3.Error as exc:
        raise file.refusal(exc) from exc
