"""The slash commands /post /posts /cancel /reschedule /accounts /timezone /infinipost /import /help, the approval
commands /approvals /approve /changes /reject /edit, and the calendar's /calendar /digest; the check every command
of the bot passes before it runs, and the tree that answers when one is refused or fails.

Each command's options become the core's text (or, for /post, a draft) as a user would type them in chat.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Literal

import discord
from discord import app_commands

from adapters.discord.autocomplete import account_choices, timezone_choices
from adapters.discord.components import ANSWER_FAILURES, DiscordClient, KeyForm, why
from adapters.discord.dispatch import ANSWER_BUDGET, Dispatcher, Interaction
from adapters.discord.responses import answer
from adapters.discord.translation import malformed_option, to_draft
from bot.core import Core
from bot.errors import BotError
from bot.model import SLIDE_SECONDS, Reply
from bot.queue import LISTING_WORDS
from bot.texts import COMMANDS, KEY_FORM_FAILED, WHEN_EXAMPLES, clip, stale_command

logger = logging.getLogger(__name__)

STALE_COMMAND = stale_command("Discord")
# /calendar's `show` option: what is typed after /calendar, and how Discord lists it.
CALENDAR_SHOWS = (
    ("week", "week: the coming seven days"),
    ("next", "next: the week after"),
    ("previous", "previous: the week before"),
    ("link", "link: the whole calendar in your browser"),
    ("ical", "ical: a private feed for your calendar app"),
    ("ical revoke", "ical revoke: end your feeds"),
)


class Refused(app_commands.CheckFailure):
    """An interaction answered with one sentence before its command runs."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


class AnsweringTree(app_commands.CommandTree[DiscordClient]):
    """discord.py's CommandTree, answering privately when a command is refused, stale, or fails."""

    async def on_error(self, interaction: Interaction, error: app_commands.AppCommandError, /) -> None:
        if isinstance(error, Refused):
            await answer(interaction, Reply(text=error.text, error=True))
            return
        if isinstance(error, app_commands.CommandNotFound | app_commands.CommandSignatureMismatch):
            logger.info("Discord sent a command this bot does not have in that form: %s", error)
            await answer(interaction, Reply(text=STALE_COMMAND, error=True))
            return
        failure = error.original if isinstance(error, app_commands.CommandInvokeError) else error
        name = interaction.command.name if interaction.command else "?"
        await answer(interaction, Core.failure_reply(failure, during=f"Discord command /{name}"))


class SlashCommands:
    """The slash commands, each handed to the core through the dispatcher."""

    def __init__(self, dispatcher: Dispatcher) -> None:
        self.dispatcher = dispatcher

    def build(self) -> list[app_commands.Command[Any, ..., None]]:
        """The slash commands to register, with their autocomplete."""
        post: app_commands.Command[Any, ..., None] = app_commands.Command(
            name="post", description=_describe("post"), callback=self.post
        )
        post.autocomplete("accounts")(self._account_choices)
        timezone: app_commands.Command[Any, ..., None] = app_commands.Command(
            name="timezone", description=_describe("timezone"), callback=self.timezone
        )
        timezone.autocomplete("zone")(self._zone_choices)
        posts: app_commands.Command[Any, ..., None] = app_commands.Command(
            name="posts", description=_describe("posts"), callback=self.posts
        )
        posts.autocomplete("account")(self._account_choices)
        calendar: app_commands.Command[Any, ..., None] = app_commands.Command(
            name="calendar", description=_describe("calendar"), callback=self.calendar
        )
        calendar.autocomplete("account")(self._account_choices)
        commands: list[app_commands.Command[Any, ..., None]] = [post, timezone, posts, calendar]
        for name, callback in (
            ("cancel", self.cancel),
            ("reschedule", self.reschedule),
            ("accounts", self.accounts),
            ("infinipost", self.infinipost),
            ("approvals", self.approvals),
            ("approve", self.approve),
            ("changes", self.changes),
            ("reject", self.reject),
            ("edit", self.edit),
            ("digest", self.digest),
            ("import", self.import_file),
            ("help", self.help),
        ):
            commands.append(app_commands.Command(name=name, description=_describe(name), callback=callback))
        declared = {command.name for command in commands}
        # A command the core has and this adapter declares no options for still works: its words in one option.
        for name in COMMANDS:
            if name not in declared:
                commands.append(
                    app_commands.Command(name=name, description=_describe(name), callback=self._as_typed(name))
                )
        return commands

    def _as_typed(self, name: str) -> Any:
        """The callback of a command taken as typed: one optional `arguments` option, the core's text."""

        @app_commands.guild_only()
        @app_commands.describe(arguments=clip(COMMANDS[name][0].removeprefix(f"/{name}").strip() or "-", 100))
        async def as_typed(interaction: Interaction, arguments: str | None = None) -> None:
            await self.dispatcher.run(interaction, name, text=arguments or "")

        return as_typed

    async def admissible(self, interaction: Interaction) -> bool:
        """Before any command runs: a server the operator did not name is refused, and so is an option that came
        in a shape the command does not declare (discord.py hands such values on as they are)."""
        refused = self.dispatcher.refusal(interaction)
        if refused is not None:
            raise Refused(refused.text)
        problem = malformed_option(interaction)
        if problem is not None:
            raise Refused(problem)
        return True

    @app_commands.guild_only()
    @app_commands.rename(content_type="type")
    @app_commands.describe(
        accounts="Accounts to post to, separated by commas (empty: this channel's defaults)",
        when=f"When, in your time zone: {WHEN_EXAMPLES} (empty: now)",
        caption="The caption, exactly as it should appear",
        media1="The video, or the first image of a slideshow",
        url="Public links to the video or images, separated by spaces",
        sound="A public link to an audio file to play with it",
        slide_duration="Seconds each image of a slideshow is shown",
        content_type="Video or slideshow, when the files or links do not tell",
        **{f"media{n}": f"Image {n} of a slideshow" for n in range(2, 11)},
    )
    @app_commands.choices(slide_duration=[app_commands.Choice(name=f"{n} seconds", value=n) for n in SLIDE_SECONDS])
    async def post(
        self,
        interaction: Interaction,
        accounts: str | None = None,
        when: str | None = None,
        caption: str | None = None,
        media1: discord.Attachment | None = None,
        url: str | None = None,
        sound: str | None = None,
        slide_duration: int | None = None,
        content_type: Literal["video", "slideshow"] | None = None,
        media2: discord.Attachment | None = None,
        media3: discord.Attachment | None = None,
        media4: discord.Attachment | None = None,
        media5: discord.Attachment | None = None,
        media6: discord.Attachment | None = None,
        media7: discord.Attachment | None = None,
        media8: discord.Attachment | None = None,
        media9: discord.Attachment | None = None,
        media10: discord.Attachment | None = None,
    ) -> None:
        files = (media1, media2, media3, media4, media5, media6, media7, media8, media9, media10)
        draft = to_draft(
            accounts=accounts,
            when=when,
            caption=caption,
            url=url,
            sound=sound,
            slide_duration=slide_duration,
            content_type=content_type,
        )
        attachments = tuple(self.dispatcher.to_attachment(file) for file in files if file is not None)
        await self.dispatcher.run(interaction, "post", draft=draft, attachments=attachments)

    @app_commands.guild_only()
    @app_commands.describe(
        show="Only upcoming, past or failed posts, only yours, the next page, or export: all as a CSV file",
        account="Only this account's posts",
        refresh="Ask Infinipost for each post's status first",
    )
    @app_commands.choices(show=[app_commands.Choice(name=word, value=word) for word in LISTING_WORDS])
    async def posts(
        self, interaction: Interaction, show: str | None = None, account: str | None = None, refresh: bool = False
    ) -> None:
        words = (show, account, "refresh" if refresh else None)
        await self.dispatcher.run(interaction, "posts", text=" ".join(word for word in words if word))

    @app_commands.guild_only()
    @app_commands.describe(target="A post ID, or #request number (see /posts)")
    async def cancel(self, interaction: Interaction, target: str) -> None:
        await self.dispatcher.run(interaction, "cancel", text=target)

    @app_commands.guild_only()
    @app_commands.describe(
        target="A post ID, or #request number (see /posts)", when="The new time, e.g. friday 9am, in 2 hours"
    )
    async def reschedule(self, interaction: Interaction, target: str, when: str) -> None:
        await self.dispatcher.run(interaction, "reschedule", text=f"{target} {when}")

    @app_commands.guild_only()
    @app_commands.describe(
        arguments="Empty: list them. Admins: default <accounts> | alias <name> <account> | allow <accounts|all>"
    )
    async def accounts(self, interaction: Interaction, arguments: str | None = None) -> None:
        await self.dispatcher.run(interaction, "accounts", text=arguments or "")

    @app_commands.guild_only()
    @app_commands.describe(
        action="Empty: which key this server uses. Admins: connect (opens a private form) or disconnect"
    )
    async def infinipost(
        self, interaction: Interaction, action: Literal["status", "connect", "disconnect"] | None = None
    ) -> None:
        if action != "connect":
            await self.dispatcher.run(interaction, "infinipost", text=action or "")
            return
        # The form must be the first response, within Discord's 3 seconds: who may see it is asked first.
        try:
            async with asyncio.timeout(ANSWER_BUDGET):
                caller = await self.dispatcher.people.caller(interaction)
        except TimeoutError:
            await answer(interaction, Reply(text=KEY_FORM_FAILED, error=True))
            return
        except BotError as exc:
            await answer(interaction, Reply(text=exc.user_message, error=True))
            return
        refused = self.dispatcher.core.key_form_refusal(caller)
        if refused is not None:
            await answer(interaction, refused)
            return

        async def submitted(submission: discord.Interaction[Any], key: str) -> None:
            await self.dispatcher.run(submission, "infinipost", text="connect", secret=key)

        try:
            await interaction.response.send_modal(KeyForm(on_submit=submitted))
        except ANSWER_FAILURES as exc:
            logger.warning("Discord: could not open the key form (%s)", why(exc))

    @app_commands.guild_only()
    @app_commands.describe(zone="An IANA zone such as Europe/Paris, or reset; empty: show yours")
    async def timezone(self, interaction: Interaction, zone: str | None = None) -> None:
        await self.dispatcher.run(interaction, "timezone", text=zone or "")

    @app_commands.guild_only()
    @app_commands.describe(
        setting="Empty: show them. Admins: required by @people @roles | authors-may-approve yes|no | off"
    )
    async def approvals(self, interaction: Interaction, setting: str | None = None) -> None:
        # Mentions arrive as raw IDs; named, the core's replies show names rather than numbers.
        await self.dispatcher.run(interaction, "approvals", text=setting or "", name_mentions=True)

    @app_commands.guild_only()
    @app_commands.describe(
        request="The #request number (see /posts pending)",
        when="Only if its time is past or too near: a new time (friday 9am, in 1 hour), or now",
    )
    async def approve(self, interaction: Interaction, request: str, when: str | None = None) -> None:
        await self.dispatcher.run(interaction, "approve", text=_joined(request, when))

    @app_commands.guild_only()
    @app_commands.describe(request="The #request number (see /posts pending)", note="What should change")
    async def changes(self, interaction: Interaction, request: str, note: str) -> None:
        await self.dispatcher.run(interaction, "changes", text=_joined(request, note))

    @app_commands.guild_only()
    @app_commands.describe(request="The #request number (see /posts pending)", reason="Why it is turned down")
    async def reject(self, interaction: Interaction, request: str, reason: str) -> None:
        await self.dispatcher.run(interaction, "reject", text=_joined(request, reason))

    @app_commands.guild_only()
    @app_commands.describe(
        request="The #request number (see /posts)",
        changes="In the /post words: to <accounts>, at <time> or now, <links>, sound <link>, slides 4|6|8, -- caption",
        file="A new video or image, in place of the post's media",
    )
    async def edit(
        self,
        interaction: Interaction,
        request: str,
        changes: str | None = None,
        file: discord.Attachment | None = None,
    ) -> None:
        attachments = (self.dispatcher.to_attachment(file),) if file is not None else ()
        await self.dispatcher.run(interaction, "edit", text=_joined(request, changes), attachments=attachments)

    @app_commands.guild_only()
    @app_commands.describe(
        show="The coming week (the default), the next or previous one, the calendar page, or your private feed",
        account="Only this account's posts",
    )
    @app_commands.choices(show=[app_commands.Choice(name=name, value=word) for word, name in CALENDAR_SHOWS])
    async def calendar(self, interaction: Interaction, show: str | None = None, account: str | None = None) -> None:
        narrowed = f"@{account.strip().lstrip('@')}" if account and account.strip().lstrip("@") else None
        await self.dispatcher.run(interaction, "calendar", text=_joined(show, narrowed))

    @app_commands.guild_only()
    @app_commands.describe(
        setting="Empty: when this channel's digest goes out. Admins: a day and time (fri 4pm), off, on"
    )
    async def digest(self, interaction: Interaction, setting: str | None = None) -> None:
        await self.dispatcher.run(interaction, "digest", text=setting or "")

    @app_commands.guild_only()
    @app_commands.describe(file="A CSV file, one post a row: media, accounts, when, caption, sound, slides")
    async def import_file(self, interaction: Interaction, file: discord.Attachment) -> None:
        await self.dispatcher.run(interaction, "import", attachments=(self.dispatcher.to_attachment(file),))

    @app_commands.guild_only()
    @app_commands.describe(command="One command to explain")
    @app_commands.choices(command=[app_commands.Choice(name=name, value=name) for name in COMMANDS])
    async def help(self, interaction: Interaction, command: str | None = None) -> None:
        await self.dispatcher.run(interaction, "help", text=command or "")

    async def _account_choices(self, interaction: Interaction, current: str) -> list[app_commands.Choice[str]]:
        if self.dispatcher.refusal(interaction) is not None or not isinstance(current, str):
            return []
        try:
            async with asyncio.timeout(ANSWER_BUDGET):  # reading the member's roles may need Discord's REST API
                caller = await self.dispatcher.people.caller(interaction)
                form = await self.dispatcher.core.post_form(caller)
        except (BotError, TimeoutError):
            return []
        return account_choices(form, current)

    async def _zone_choices(self, interaction: Interaction, current: str) -> list[app_commands.Choice[str]]:
        return timezone_choices(current) if isinstance(current, str) else []


def _describe(name: str) -> str:
    return clip(COMMANDS[name][1], 100)


def _joined(*parts: str | None) -> str:
    """Options as one command line, in the order the core reads them (`#12 friday 9am`)."""
    return " ".join(part.strip() for part in parts if part and part.strip())
