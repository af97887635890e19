"""The Discord adapter: discord.py's Client and CommandTree, translating interactions to the core's Command and back.

Commands, buttons and form submissions are deferred at once (Discord allows 3 seconds; the interaction token then
lives 15 minutes) and answered, when the work is done, by editing the deferred message: the private "thinking"
message, or the preview whose button was pressed. Two answers cannot wait and are given at once: autocomplete
choices, and the "Schedule as post" modal, which must be the first response.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, Literal

import aiohttp
import discord
import yarl
from discord import app_commands
from discord.gateway import DiscordWebSocket

from adapters.discord.autocomplete import account_choices, timezone_choices
from adapters.discord.components import ANSWER_FAILURES, DiscordClient, PreviewButton, ScheduleForm, more_arguments, why
from adapters.discord.messenger import DiscordMessenger
from adapters.discord.people import PLATFORM, DiscordPeople, place_of
from adapters.discord.responses import answer, defer, fill
from adapters.discord.settings import DiscordSettings
from adapters.discord.translation import malformed_option, to_attachment, to_draft
from bot.core import Core
from bot.errors import BotError
from bot.model import SLIDE_SECONDS, Attachment, Command, PostDraft, Reply
from bot.queue import LISTING_WORDS
from bot.texts import COMMANDS, FORM_ALREADY_SENT, busy, clip, no_files, stale_command

logger = logging.getLogger(__name__)

DEFAULT_API_URL = "https://discord.com/api/v10"
DEFAULT_GATEWAY_URL = "wss://gateway.discord.gg/"
MESSAGE_COMMAND = "Schedule as post"
# Guild events keep the role cache current for DISCORD_POSTER_ROLES; nothing privileged is needed.
INTENTS = discord.Intents(guilds=True)
RATE_LIMIT_WAIT = 10.0  # longer waits fail the call, and the outbox retries the notice later
ANSWER_BUDGET = 2.0  # of Discord's 3 seconds, for answers that cannot be deferred
NO_FILES = no_files("use /post with the `media1` (attachment) or `url` option")
STALE_COMMAND = stale_command("Discord")
BUSY = busy("Discord")

Interaction = discord.Interaction[DiscordClient]


def use_endpoints(settings: DiscordSettings) -> None:
    """Point discord.py at DISCORD_API_URL and DISCORD_GATEWAY_URL (a proxy or a test double), or at Discord.

    discord.py has no public setting for either: both are class attributes it reads (so this applies to every
    client in the process). That is why pyproject.toml pins discord.py's minor version, and a test checks that
    the bot reaches both URLs.
    """
    discord.http.Route.BASE = settings.discord_api_url or DEFAULT_API_URL
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.discord_gateway_url or DEFAULT_GATEWAY_URL)


class DiscordUnavailable(BotError):
    """Discord refused or could not be reached at start-up."""

    default_message = "Discord could not be reached, or refused the bot. Check DISCORD_TOKEN and DISCORD_API_URL."


class Refused(app_commands.CheckFailure):
    """An interaction answered with one sentence before its command runs."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


class _Tree(app_commands.CommandTree[DiscordClient]):
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


class DiscordAdapter:
    """The bot's Discord application around the core: `start()` it, and `stop()` it on the way out."""

    def __init__(self, core: Core, settings: DiscordSettings) -> None:
        if settings.discord_token is None:
            raise ValueError("DISCORD_TOKEN is not set")
        self._token = settings.discord_token.get_secret_value()
        self.core = core
        self.settings = settings
        use_endpoints(settings)
        _quiet_library_logs()
        self.client = DiscordClient(
            on_preview=self._press,
            intents=INTENTS,
            max_ratelimit_timeout=RATE_LIMIT_WAIT,
            allowed_mentions=discord.AllowedMentions.none(),
        )
        self.tree = _Tree(self.client)
        core.serve(PLATFORM, workspaces=[str(server) for server in settings.discord_servers])
        if not settings.discord_servers:
            logger.warning(
                "Discord: no server may use the bot: list the operator's servers in DISCORD_GUILD_IDS "
                "(or, with the commands registered globally, in DISCORD_ALLOWED_GUILD_IDS)"
            )
        self.people = DiscordPeople(poster_roles=settings.discord_poster_roles)
        self.messenger = DiscordMessenger(self.client)
        self.failed = False
        self._gateway: asyncio.Task[None] | None = None
        self._stopping = False
        self._register()

    # Lifecycle

    async def login(self) -> None:
        """Log in over REST, register the commands, and take over the channel notices of Discord channels."""
        try:
            await self.client.login(self._token)
            await self._sync()
        except discord.LoginFailure as exc:
            raise DiscordUnavailable(
                "Discord refused DISCORD_TOKEN. Copy the bot token again (Developer Portal → Bot → Reset Token)."
            ) from exc
        except discord.HTTPException as exc:
            raise DiscordUnavailable(f"Discord refused to start the bot (HTTP {exc.status}, code {exc.code}).") from exc
        except (aiohttp.ClientError, OSError) as exc:
            raise DiscordUnavailable(
                f"Could not reach Discord at {self.settings.discord_api_url or DEFAULT_API_URL}."
            ) from exc
        self.core.attach(PLATFORM, self.messenger)

    async def start(self, *, on_failure: Callable[[], None] | None = None) -> None:
        """Log in, then keep the gateway connection in the background; `on_failure` runs if it ends for good."""
        await self.login()
        self._gateway = asyncio.create_task(self.client.connect(reconnect=True), name="discord-gateway")
        self._gateway.add_done_callback(lambda task: self._gateway_ended(task, on_failure))

    def _gateway_ended(self, task: asyncio.Task[None], on_failure: Callable[[], None] | None) -> None:
        if self._stopping or task.cancelled() or task.exception() is None:
            return
        error = task.exception()
        self.failed = True
        logger.error("Discord: the gateway connection ended for good (%s: %s)", type(error).__name__, error)
        if on_failure is not None:
            on_failure()

    async def stop(self) -> None:
        self._stopping = True
        self.core.detach(PLATFORM)
        await self.client.close()
        if self._gateway is not None:
            _, pending = await asyncio.wait({self._gateway}, timeout=5)
            for task in pending:
                task.cancel()
            await asyncio.gather(self._gateway, return_exceptions=True)

    async def _sync(self) -> None:
        """Guild commands appear at once in DISCORD_GUILD_IDS; global ones can take Discord up to an hour."""
        if not self.settings.discord_guild_ids:
            synced = await self.tree.sync()
            logger.info("Discord: %d commands registered globally", len(synced))
            return
        for guild_id in self.settings.discord_guild_ids:
            guild = discord.Object(id=guild_id)
            self.tree.copy_global_to(guild=guild)
            try:
                synced = await self.tree.sync(guild=guild)
            except discord.Forbidden:
                logger.warning(
                    "Discord: could not register the commands in server %s: the bot is not in it, or was added "
                    "without the applications.commands scope (see `infinipost-bot discord-invite`)",
                    guild_id,
                )
                continue
            logger.info("Discord: %d commands registered in server %s", len(synced), guild_id)

    def _register(self) -> None:
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
        commands: list[app_commands.Command[Any, ..., None] | app_commands.ContextMenu] = [post, timezone, posts]
        for name, callback in (
            ("cancel", self.cancel),
            ("reschedule", self.reschedule),
            ("accounts", self.accounts),
            ("help", self.help),
        ):
            commands.append(app_commands.Command(name=name, description=_describe(name), callback=callback))
        commands.append(app_commands.ContextMenu(name=MESSAGE_COMMAND, callback=self.schedule_message))
        for command in commands:
            command.add_check(self._admissible)
            self.tree.add_command(command)
        self.client.add_dynamic_items(PreviewButton)

    async def _admissible(self, interaction: Interaction) -> bool:
        """Before any command runs: a server the operator did not name is refused, and so is an option that came
        in a shape the command does not declare (discord.py hands such values on as they are)."""
        refused = self._refusal(interaction)
        if refused is not None:
            raise Refused(refused.text)
        problem = malformed_option(interaction)
        if problem is not None:
            raise Refused(problem)
        return True

    # Application commands

    @app_commands.guild_only()
    @app_commands.rename(content_type="type")
    @app_commands.describe(
        accounts="Accounts to post to, separated by commas (empty: this channel's defaults)",
        when="When, in your time zone: tomorrow 9am, friday 17:30, in 2 hours (empty: now)",
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
        attachments = tuple(self.to_attachment(file) for file in files if file is not None)
        await self._run(interaction, "post", draft=draft, attachments=attachments)

    @app_commands.guild_only()
    @app_commands.describe(
        show="Only upcoming, past or failed posts, only yours, or the next page",
        account="Only this account's posts",
        refresh="Ask Infinipost for each post's status first",
    )
    @app_commands.choices(show=[app_commands.Choice(name=word, value=word) for word in LISTING_WORDS])
    async def posts(
        self, interaction: Interaction, show: str | None = None, account: str | None = None, refresh: bool = False
    ) -> None:
        words = (show, account, "refresh" if refresh else None)
        await self._run(interaction, "posts", text=" ".join(word for word in words if word))

    @app_commands.guild_only()
    @app_commands.describe(target="A post ID, or #request number (see /posts)")
    async def cancel(self, interaction: Interaction, target: str) -> None:
        await self._run(interaction, "cancel", text=target)

    @app_commands.guild_only()
    @app_commands.describe(
        target="A post ID, or #request number (see /posts)", when="The new time, e.g. friday 9am, in 2 hours"
    )
    async def reschedule(self, interaction: Interaction, target: str, when: str) -> None:
        await self._run(interaction, "reschedule", text=f"{target} {when}")

    @app_commands.guild_only()
    @app_commands.describe(
        arguments="Empty: list them. Admins: default <accounts> | alias <name> <account> | allow <accounts|all>"
    )
    async def accounts(self, interaction: Interaction, arguments: str | None = None) -> None:
        await self._run(interaction, "accounts", text=arguments or "")

    @app_commands.guild_only()
    @app_commands.describe(zone="An IANA zone such as Europe/Paris, or reset; empty: show yours")
    async def timezone(self, interaction: Interaction, zone: str | None = None) -> None:
        await self._run(interaction, "timezone", text=zone or "")

    @app_commands.guild_only()
    @app_commands.describe(command="One command to explain")
    @app_commands.choices(command=[app_commands.Choice(name=name, value=name) for name in COMMANDS])
    async def help(self, interaction: Interaction, command: str | None = None) -> None:
        await self._run(interaction, "help", text=command or "")

    async def _account_choices(self, interaction: Interaction, current: str) -> list[app_commands.Choice[str]]:
        if self._refusal(interaction) is not None or not isinstance(current, str):
            return []
        try:
            async with asyncio.timeout(ANSWER_BUDGET):  # reading the member's roles may need Discord's REST API
                caller = await self.people.caller(interaction)
                form = await self.core.post_form(caller)
        except (BotError, TimeoutError):
            return []
        return account_choices(form, current)

    async def _zone_choices(self, interaction: Interaction, current: str) -> list[app_commands.Choice[str]]:
        return timezone_choices(current) if isinstance(current, str) else []

    # The message command and its form

    @app_commands.guild_only()
    async def schedule_message(self, interaction: Interaction, message: discord.Message) -> None:
        """Apps → Schedule as post: a form for accounts, time and caption, then the message's files are posted."""
        attachments = tuple(self.to_attachment(file) for file in message.attachments)
        if not attachments:
            await answer(interaction, Reply(text=NO_FILES, error=True))
            return
        # One deadline for everything before the form: reading the member's roles may need Discord's REST API.
        deadline = asyncio.get_running_loop().time() + ANSWER_BUDGET
        try:
            async with asyncio.timeout_at(deadline):
                caller = await self.people.caller(interaction)
        except TimeoutError:
            await answer(interaction, Reply(text=BUSY, error=True))
            return
        except BotError as exc:
            await answer(interaction, Reply(text=exc.user_message, error=True))
            return
        if not caller.may_post:
            # Refused before the form rather than after it; the core words the refusal.
            await self._run(interaction, "post", draft=PostDraft(), attachments=attachments)
            return
        try:
            async with asyncio.timeout_at(deadline):
                defaults = ", ".join((await self.core.post_form(caller)).defaults)
        except TimeoutError:
            defaults = ""  # the form must open within 3 seconds; empty accounts mean the defaults anyway
        except BotError as exc:
            await answer(interaction, Reply(text=exc.user_message, error=True))
            return

        async def submitted(submission: discord.Interaction[Any], values: dict[str, str]) -> None:
            # Submitted again while the first is still being handled (its answer was slow): that one answers.
            if not await self.core.first_submission(f"{PLATFORM}:{form.custom_id}"):
                await answer(submission, Reply(text=FORM_ALREADY_SENT))
                return
            try:
                draft = to_draft(accounts=values["accounts"], when=values["when"], caption=values["caption"])
            except BotError as exc:
                await answer(submission, Core.failure_reply(exc, during="the post form"))
                return
            await self._run(submission, "post", draft=draft, attachments=attachments)

        form = ScheduleForm(accounts=defaults, on_submit=submitted, open_forms=self.client.open_forms)
        try:
            await interaction.response.send_modal(form)
        except ANSWER_FAILURES as exc:
            form.close()
            logger.warning("Discord: could not open the post form (%s)", why(exc))
        except BaseException:
            form.close()
            raise

    # Buttons

    async def _press(self, interaction: discord.Interaction[Any], *, action: str, author_id: int, token: str) -> None:
        """Schedule / Cancel on a preview: the author's preview becomes the result; anyone else is told privately."""
        refused = self._refusal(interaction)
        if refused is not None:
            await answer(interaction, refused)
            return
        own = interaction.user.id == author_id
        if not await defer(interaction, update=own):
            return
        if action == "more":  # the next page of `/posts`, for whoever presses it
            await fill(interaction, await self._handle(interaction, "posts", text=more_arguments(token)))
            return
        await fill(interaction, await self._handle(interaction, action, text=token))

    # Translation

    async def _run(
        self,
        interaction: discord.Interaction[Any],
        name: str,
        *,
        text: str = "",
        draft: PostDraft | None = None,
        attachments: tuple[Attachment, ...] = (),
    ) -> None:
        refused = self._refusal(interaction)  # a form's submission comes here without a command's checks
        if refused is not None:
            await answer(interaction, refused)
            return
        if await defer(interaction):
            await fill(
                interaction, await self._handle(interaction, name, text=text, draft=draft, attachments=attachments)
            )

    def _refusal(self, interaction: discord.Interaction[Any]) -> Reply | None:
        """The core's answer to a server the operator did not name, given before anything else is done."""
        place = place_of(interaction)
        return self.core.refusal(place) if place is not None else None

    async def _handle(
        self,
        interaction: discord.Interaction[Any],
        name: str,
        *,
        text: str = "",
        draft: PostDraft | None = None,
        attachments: tuple[Attachment, ...] = (),
    ) -> Reply:
        try:
            caller = await self.people.caller(interaction)
        except BotError as exc:
            return Reply(text=exc.user_message, error=True)
        return await self.core.handle(
            Command(name=name, caller=caller, text=text, draft=draft, attachments=attachments)
        )

    def to_attachment(self, file: discord.Attachment) -> Attachment:
        return to_attachment(file, api_url=self.settings.discord_api_url)


def _describe(name: str) -> str:
    return clip(COMMANDS[name][1], 100)


def _quiet_library_logs() -> None:
    # discord.py's DEBUG logs carry raw gateway payloads and webhook URLs, which hold interaction tokens.
    library = logging.getLogger("discord")
    if library.getEffectiveLevel() < logging.INFO:
        library.setLevel(logging.INFO)
    # The bot never joins voice channels, so the missing voice libraries are not worth a warning at each start.
    discord.VoiceClient.warn_nacl = False
    discord.VoiceClient.warn_dave = False
