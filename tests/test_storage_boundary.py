"""The core (bot/) reaches its database only through the ports it declares (bot/ports.py): it imports no
`storage` module, not even inside a function. Read statically, so that a lazy import cannot step around it."""

from __future__ import annotations

import ast
from pathlib import Path

BOT = Path(__file__).resolve().parent.parent / "bot"
# The composition root opens the concrete database, and the sandbox keeps its state file beside it: both are
# start-up wiring, not core logic.
WIRING = {"runtime.py", "sandbox.py"}


def storage_imports(source: str) -> list[str]:
    """The `storage` modules a module imports, wherever in it the import is."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append(node.module)
    return [name for name in found if name == "storage" or name.startswith("storage.")]


def test_the_core_imports_no_storage_module() -> None:
    offenders = {
        str(path.relative_to(BOT.parent)): names
        for path in sorted(BOT.rglob("*.py"))
        if str(path.relative_to(BOT)) not in WIRING
        if (names := storage_imports(path.read_text(encoding="utf-8")))
    }
    assert offenders == {}


def test_an_import_inside_a_function_is_seen() -> None:
    source = "def f():\n    from storage.sqlite import Storage\n    import storage.files as files\n"
    assert storage_imports(source) == ["storage.sqlite", "storage.files"]
