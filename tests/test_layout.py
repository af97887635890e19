"""Project-wide promises: each layer imports only what it may, the core never needs a chat library, and every
command and setting is documented."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.settings import Settings
from bot.texts import COMMANDS

ROOT = Path(__file__).resolve().parents[1]
CHAT_LIBRARIES = ("discord", "slack_bolt", "slack_sdk")
# What each package must not import, by top-level name. The app (the composition root) may import everything;
# aiohttp is allowed everywhere.
FORBIDDEN = {
    "bot": ("adapters", "storage", "app", "sandbox", *CHAT_LIBRARIES),
    "storage": ("adapters", "app"),
    "adapters": ("storage", "app"),
    "sandbox": ("adapters", "app", *CHAT_LIBRARIES),
}


def imports(package: str) -> Iterator[tuple[str, str]]:
    """(file, imported module) for every import statement in `package`, those inside functions included: a lazy
    import is still a dependency."""
    for path in sorted((ROOT / package).rglob("*.py")):
        file = path.relative_to(ROOT)
        here = file.with_suffix("").parts[:-1]  # the package a relative import starts from
        for node in ast.walk(ast.parse(path.read_text(), str(file))):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    yield file.as_posix(), alias.name
            elif isinstance(node, ast.ImportFrom):
                base = ".".join(here[: len(here) - node.level + 1]) if node.level else ""
                yield file.as_posix(), ".".join(part for part in (base, node.module) if part)


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_each_layer_imports_only_what_it_may(package: str) -> None:
    wrong = [
        f"{file} imports {module}" for file, module in imports(package) if module.split(".")[0] in FORBIDDEN[package]
    ]
    assert not wrong, "\n".join(wrong)


def test_the_import_check_reads_imports_inside_functions() -> None:
    assert ("app/cli.py", "adapters.console") in set(imports("app"))  # imported in `_console` only


def test_adapters_use_only_the_cores_public_surface() -> None:
    """Adapters translate: they call the Core's methods and never reach into its context (storage, outbox,
    places) or its handler table."""
    reaching = [
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for path in sorted((ROOT / "adapters").rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text(), str(path)))
        if (isinstance(node, ast.Attribute) and node.attr == "ctx")
        or (isinstance(node, ast.ImportFrom) and node.module == "bot.core" and {a.name for a in node.names} - {"Core"})
    ]
    assert not reaching, reaching


def test_core_and_storage_import_without_chat_libraries() -> None:
    code = (
        "import sys\n"
        f"for name in {CHAT_LIBRARIES}:\n"
        "    sys.modules[name] = None\n"
        "import pkgutil, importlib, bot, storage\n"
        "for package in (bot, storage):\n"
        "    for module in pkgutil.walk_packages(package.__path__, package.__name__ + '.'):\n"
        "        importlib.import_module(module.name)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


def test_every_command_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    for name in COMMANDS:
        assert f"/{name}" in readme, name


def test_every_setting_is_in_env_example_and_readme() -> None:
    example = (ROOT / ".env.example").read_text()
    readme = (ROOT / "README.md").read_text()
    documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", example, re.MULTILINE))
    for field in Settings.model_fields.values():
        name = str(field.validation_alias)
        assert name in documented, f"{name} missing from .env.example"
        assert name in readme, f"{name} missing from README.md"


def test_readme_starts_with_the_two_commands() -> None:
    head = (ROOT / "README.md").read_text()[:1500]
    assert "make run" in head
    assert "make test" in head


def test_make_run_installs_only_what_running_needs() -> None:
    """`make run` on a fresh clone skips the developer tools (pytest, mypy, ruff, moto...); `make test` adds them."""
    dry_run = subprocess.run(["make", "-n", "-B", "run"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    installs = [line for line in dry_run.splitlines() if "pip install" in line]
    assert installs == [line for line in installs if "dev" not in line]
    assert installs, dry_run
    assert "dev]" in subprocess.run(["make", "-n", "-B", "test"], cwd=ROOT, capture_output=True, text=True).stdout
