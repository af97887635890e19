"""The controls under a week of `/calendar`: "◀ Previous week" and "Next week ▶" buttons, and a menu of the
accounts that narrows the week to one of them.

Each carries the `/calendar` arguments it stands for in its custom_id, so that it is handled from there rather
than from anything this process holds: the controls keep working after a restart. Pressing one shows the presser
(whose private message it is) that week, in place of the one they were reading.
"""

from __future__ import annotations

import re
from typing import Any

import discord

from adapters.discord.components import DiscordClient
from bot.model import CalendarControls
from bot.texts import clip

CUSTOM_ID_LIMIT = 100  # Discord's limit on a component's custom_id
OPTION_LIMIT = 100  # characters of a select option's label and value
MAX_OPTIONS = 25  # options of one select menu
BUTTON_PREFIX = "calendar:"
PICK_PREFIX = "calendar:pick:"
ALL_ACCOUNTS = "all"  # the menu's value for no account; an account's value starts with "@"
BUTTON_TEMPLATE = re.compile(re.escape(BUTTON_PREFIX) + r"(?P<arguments>week -?[0-9]{1,3}(?: @\S{1,80})?)")
PICK_TEMPLATE = re.compile(re.escape(PICK_PREFIX) + r"(?P<week>-?[0-9]{1,3})")


class CalendarButton(discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]], template=BUTTON_TEMPLATE):
    """Previous week or Next week: `calendar:<the /calendar arguments of that week>`."""

    def __init__(self, arguments: str, label: str = "") -> None:
        super().__init__(
            discord.ui.Button(
                label=label or "Week", style=discord.ButtonStyle.secondary, custom_id=BUTTON_PREFIX + arguments
            )
        )
        self.arguments = arguments

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> CalendarButton:
        return cls(match["arguments"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        client = interaction.client
        if isinstance(client, DiscordClient):
            await client.on_page(interaction, name="calendar", text=self.arguments)


class CalendarSelect(discord.ui.DynamicItem[discord.ui.Select[discord.ui.View]], template=PICK_TEMPLATE):
    """The account menu of one week: `calendar:pick:<week>`; each option's value is `all` or `@<account ID>`."""

    def __init__(self, week: int, options: list[discord.SelectOption] | None = None) -> None:
        super().__init__(
            discord.ui.Select(
                custom_id=f"{PICK_PREFIX}{week}",
                placeholder="All accounts",
                options=options or [discord.SelectOption(label="All accounts", value=ALL_ACCOUNTS)],
            )
        )
        self.week = week

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> CalendarSelect:
        return cls(int(match["week"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        client = interaction.client
        if not isinstance(client, DiscordClient):
            return
        chosen = self.item.values[0] if self.item.values else ALL_ACCOUNTS
        account = f" {chosen}" if chosen.startswith("@") else ""
        await client.on_page(interaction, name="calendar", text=f"week {self.week}{account}")


def calendar_view(controls: CalendarControls) -> discord.ui.View:
    """The buttons to the weeks around this one, and the menu of accounts (the one shown chosen). A control whose
    custom_id or value would pass Discord's limits is left out: the text's `/calendar next` still serves."""
    view = discord.ui.View(timeout=None)
    for arguments, label in ((controls.previous, "◀ Previous week"), (controls.next, "Next week ▶")):
        if arguments is None:  # the edge of how far `/calendar` goes
            continue
        if BUTTON_TEMPLATE.fullmatch(BUTTON_PREFIX + arguments) and len(BUTTON_PREFIX + arguments) <= CUSTOM_ID_LIMIT:
            view.add_item(CalendarButton(arguments, label))
    view.add_item(CalendarSelect(controls.week, _account_options(controls)))
    return view


def _account_options(controls: CalendarControls) -> list[discord.SelectOption]:
    """All accounts, then each account, within Discord's 25 options (the one shown among them, even if far down)."""
    listed = [(ident, label) for ident, label in controls.accounts if len(ident) + 1 <= OPTION_LIMIT]
    kept = listed[: MAX_OPTIONS - 1]
    shown = [account for account in listed if account[0] == controls.account]
    if shown and shown[0] not in kept:
        kept[-1] = shown[0]
    options = [discord.SelectOption(label="All accounts", value=ALL_ACCOUNTS, default=controls.account is None)]
    for ident, label in kept:
        options.append(
            discord.SelectOption(
                label=clip(label or ident, OPTION_LIMIT), value=f"@{ident}", default=ident == controls.account
            )
        )
    return options
