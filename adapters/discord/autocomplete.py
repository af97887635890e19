"""Autocomplete choices for Discord's command options: the accounts to post to, and time zones.

Discord shows at most 25 choices of at most 100 characters each, and must have them within 3 seconds.
"""

from __future__ import annotations

from discord import app_commands

from bot.accounts import names_account
from bot.errors import BotError
from bot.grammar import account_list
from bot.model import PostForm
from bot.preferences import zone_choices
from bot.texts import clip

CHOICE_LIMIT = 100
# Quotes that may open a name with spaces in it, as the core's account lists read them.
_OPENING_QUOTES = "\"“”„'‘’«"


def account_choices(form: PostForm, typed: str) -> list[app_commands.Choice[str]]:
    """Completions for the account being typed, after those already typed: the channel's accounts (its defaults
    first), then the workspace's aliases of them."""
    chosen, last = _typed_so_far(typed)
    prefix = "".join(f"{_as_typed(name)}, " for name in chosen)
    aliases = dict(form.aliases)
    taken = {key.lower().lstrip("@") for key in chosen}
    taken_ids = {aliases.get(key, key) for key in taken}
    needle = last.lower().lstrip("@")
    offered: list[tuple[str, str]] = []  # (what is shown, what is typed)
    for account in sorted(form.accounts, key=lambda account: account.id not in form.defaults):
        names = (account.id, account.name, account.username)
        if account.id in taken_ids or any(names_account(key, account) for key in taken):
            continue
        if not needle or any(needle in name.lower() for name in names):
            offered.append((account.label, account.id))
    labels = {account.id: account.label for account in form.accounts}
    for alias, account_id in form.aliases:
        if account_id not in taken_ids and alias.lower() not in taken and needle in alias.lower():
            offered.append((f"{alias}: {labels[account_id]}", alias))
    choices = []
    for shown, name in offered:
        value = prefix + _as_typed(name)
        if len(value) <= CHOICE_LIMIT:
            choices.append(app_commands.Choice(name=clip(prefix + shown, CHOICE_LIMIT), value=value))
    return choices[:25]


def _typed_so_far(typed: str) -> tuple[tuple[str, ...], str]:
    """The accounts an accounts option names in full, and the start of the one being typed (empty after a comma
    or a space), read as the core reads the whole option."""
    try:
        names = account_list(typed)
    except BotError:  # a quote is open: the name being typed starts after it
        opening = max(
            (i for i, char in enumerate(typed) if char in _OPENING_QUOTES and typed[i - 1 : i].strip() == ""),
            default=0,
        )
        return _typed_so_far(typed[:opening] + ",")[0], typed[opening + 1 :]
    if not names or typed[-1:].isspace() or typed.endswith(","):
        return names, ""
    return names[:-1], names[-1]


def _as_typed(name: str) -> str:
    """An account name as an accounts option takes it: quoted if it holds a space or a comma."""
    return f'"{name}"' if any(char.isspace() or char == "," for char in name) else name


def timezone_choices(typed: str) -> list[app_commands.Choice[str]]:
    choices = [app_commands.Choice(name=name, value=name) for name in zone_choices(typed)]
    if typed.strip() and "reset".startswith(typed.strip().lower()):
        choices.insert(0, app_commands.Choice(name="reset (back to the server's default zone)", value="reset"))
    return choices[:25]
