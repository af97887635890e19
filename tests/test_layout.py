"""Project-wide promises: the core never needs a chat library; every command and setting is documented."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from app.settings import Settings
from bot.texts import COMMANDS

ROOT = Path(__file__).resolve().parents[1]


def test_core_and_storage_import_without_chat_libraries() -> None:
    code = (
        "import sys\n"
        "for name in ('discord', 'slack_bolt', 'slack_sdk'):\n"
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
