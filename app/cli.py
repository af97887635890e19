"""`infinipost-bot`: run the bot, chat with it in a terminal, run the sandbox API, or check a time phrase."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import socket
import sys
from collections.abc import Sequence
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from pathlib import Path

import tzlocal
from pydantic import ValidationError

from app.settings import Settings
from bot.config import describe_settings_error
from bot.dates import parse_when, to_utc_iso, zone
from bot.errors import BotError

logger = logging.getLogger(__name__)

NOTHING_TO_RUN = (
    "Nothing to run: no chat platform is configured and there is no terminal for the console.\n"
    "Set SLACK_BOT_TOKEN (with SLACK_APP_TOKEN for Socket Mode, or SLACK_SIGNING_SECRET for HTTP mode) "
    "and/or DISCORD_TOKEN, and INFINIPOST_API_KEY for the real API (see .env.example);\n"
    "or run `infinipost-bot console` to chat with the bot from standard input."
)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "when":
        return _when(args)
    try:
        settings = Settings()
    except ValidationError as exc:
        print(f"infinipost-bot: bad settings\n{describe_settings_error(exc)}", file=sys.stderr)
        return 2
    _configure_logging(settings, quiet=args.command in ("console", "run", "slack-manifest", "discord-invite"))
    if args.command in ("run", "console"):
        _warn_about_unshared_media(settings)
    try:
        if args.command == "sandbox":
            return asyncio.run(_sandbox(args.host, args.port, args.state))
        if args.command == "console":
            return asyncio.run(_console(settings, interactive=sys.stdin.isatty()))
        if args.command == "run":
            return _run(settings)
        if args.command == "slack-manifest":
            return _slack_manifest(settings, socket_mode=args.socket_mode or settings.slack_socket_mode)
        if args.command == "discord-invite":
            return _discord_invite(settings, client_id=args.client_id)
    except KeyboardInterrupt:
        return 130
    except BotError as exc:
        print(f"infinipost-bot: {exc.user_message}", file=sys.stderr)
        return 1
    raise AssertionError(args.command)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="infinipost-bot", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="start the configured chat platforms (the console when none is)")
    commands.add_parser("console", help="chat with the bot in this terminal, or script it on standard input")
    manifest = commands.add_parser("slack-manifest", help="print the Slack app manifest (uses BOT_PUBLIC_URL)")
    manifest.add_argument("--socket-mode", action="store_true", help="for Socket Mode (default: if SLACK_APP_TOKEN)")
    invite = commands.add_parser("discord-invite", help="print the URL that adds the Discord bot to a server")
    invite.add_argument("--client-id", type=int, help="the application ID (default: read from DISCORD_TOKEN)")
    sandbox = commands.add_parser("sandbox", help="serve the built-in Infinipost sandbox API")
    sandbox.add_argument("--host", default="127.0.0.1")
    sandbox.add_argument("--port", type=_port, default=8010)
    sandbox.add_argument("--state", type=Path, help="keep the sandbox's posts in this SQLite file (default: memory)")
    when = commands.add_parser(
        "when", help="print the UTC instant each time phrase means (exit status 1 if any phrase is refused)"
    )
    when.add_argument(
        "--tz", help="the IANA zone the phrases are read in (default: BOT_DEFAULT_TIMEZONE, else this machine's zone)"
    )
    when.add_argument("--locale", help="how numeric dates are written, as a language tag such as en-GB or en-US")
    when.add_argument("--now", help="the current time, ISO 8601 with its UTC offset (default: now)")
    when.add_argument("phrases", nargs="+", metavar="PHRASE")
    return parser


def _configure_logging(settings: Settings, *, quiet: bool) -> None:
    # The console chat stays readable unless a log level was asked for.
    level = (settings.log_level or ("WARNING" if quiet else "INFO")).upper()
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)


def _warn_about_unshared_media(settings: Settings) -> None:
    """One warning when a database that several replicas may share meets media that only this replica has: a
    media link the load balancer sends to another replica would find no file there."""
    if settings.media_store == "local" and settings.database_file is None:
        logger.warning(
            "BOT_DATABASE is a PostgreSQL database, which several replicas may share, but BOT_MEDIA_STORE=local "
            "keeps uploads in BOT_MEDIA_DIR (%s) on this replica only, so another replica cannot serve their "
            "links. With several replicas, set BOT_MEDIA_STORE=s3, or point BOT_MEDIA_DIR at a directory every "
            "replica shares and give them all the same BOT_MEDIA_SECRET.",
            settings.media_dir,
        )


def _when(args: argparse.Namespace) -> int:
    try:
        tz_name = args.tz or Settings().default_timezone or _machine_zone() or "UTC"
        tz = zone(tz_name)
        now = datetime.fromisoformat(args.now) if args.now else datetime.now(UTC)
    except ValidationError as exc:
        print(f"infinipost-bot: bad settings\n{describe_settings_error(exc)}", file=sys.stderr)
        return 2
    except BotError as exc:
        print(f"infinipost-bot when: {exc.user_message}", file=sys.stderr)
        return 2
    except ValueError:
        print("infinipost-bot when: --now must be ISO 8601, e.g. 2026-11-28T10:00:00-05:00", file=sys.stderr)
        return 2
    if now.tzinfo is None:
        print("infinipost-bot when: --now needs its UTC offset, e.g. 2026-11-28T10:00:00-05:00", file=sys.stderr)
        return 2
    refused = 0
    for phrase in args.phrases:
        try:
            instant = parse_when(phrase, now=now, tz=tz, locale=args.locale)
        except BotError as exc:
            print(f"error: {exc.user_message}")
            refused += 1
            continue
        print(to_utc_iso(instant or now))
    return 1 if refused else 0


def _port(written: str) -> int:
    """A TCP port for argparse: what the socket layer would refuse is refused here, with the range."""
    if not written.isdigit() or not 0 <= int(written) <= 65535:
        raise argparse.ArgumentTypeError(f"{written} is not a port; ports run from 0 (any free one) to 65535")
    return int(written)


async def _sandbox(host: str, port: int, state: Path | None) -> int:
    from sandbox import SANDBOX_KEY, SandboxServer, state_option

    try:
        async with SandboxServer(host=host, port=port, state_file=state_option(state) if state else None) as sandbox:
            print(
                f"Infinipost sandbox API on {sandbox.url}\n"
                f"Point the bot at it: INFINIPOST_API_URL={sandbox.url} INFINIPOST_API_KEY={SANDBOX_KEY}",
                flush=True,
            )
            await asyncio.Event().wait()
    except socket.gaierror:
        print(f"infinipost-bot: `{host}` is no address of this machine; pass --host, e.g. 127.0.0.1", file=sys.stderr)
        return 2
    except OSError as exc:  # the port: the state file's failures come as StorageError
        print(
            f"infinipost-bot: cannot listen on {host}:{port} ({exc.strerror}); pass another --port or --host",
            file=sys.stderr,
        )
        return 2
    return 0


def _slack_manifest(settings: Settings, *, socket_mode: bool) -> int:
    from adapters.slack.manifest import PLACEHOLDER_URL, manifest

    print(json.dumps(manifest(settings, socket_mode=socket_mode, oauth=settings.slack_oauth), indent=2))
    if not socket_mode and not settings.public_url:
        print(
            f"Note: BOT_PUBLIC_URL is not set, so the request URLs say {PLACEHOLDER_URL}; set it to where Slack "
            "can reach this bot, or use --socket-mode, and print the manifest again.",
            file=sys.stderr,
        )
    return 0


def _banner(settings: Settings, zone_name: str, *, machine: bool) -> str:
    if settings.uses_sandbox:
        api = "the built-in Infinipost sandbox (no INFINIPOST_API_KEY set; nothing is really posted)"
    else:
        api = f"the Infinipost API at {settings.api_url}"
    if machine:
        whose = "this machine's zone"
    elif settings.default_timezone:
        whose = "BOT_DEFAULT_TIMEZONE"
    elif unread := _tz_variable():
        whose = f"TZ={unread} is not a zone name the bot reads, such as TZ=America/New_York"
    else:
        whose = "UTC"
    return (
        f"infinipost-bot console: no chat platform configured, talking to {api}.\n"
        f"Times are read in {zone_name} ({whose}; `/timezone <zone>` changes it). Type /help, or quit."
    )


async def _console(settings: Settings, *, interactive: bool) -> int:
    from adapters.console import ConsoleAdapter, hidden_line, stdin_lines
    from app.runtime import check_api_key, start_runtime

    async with AsyncExitStack() as stack:
        runtime = await stack.enter_async_context(start_runtime(settings))
        await check_api_key(runtime)
        if settings.media_store == "local":
            # Serves the links of files posted from this disk. Without BOT_PUBLIC_URL only this machine (the
            # sandbox) fetches them, so any free loopback port will do.
            if settings.public_url is None:
                runtime.web.host, runtime.web.any_port_if_busy = "127.0.0.1", True
            await stack.enter_async_context(runtime.web)
        machine_zone = None if settings.default_timezone else _machine_zone()
        adapter = ConsoleAdapter(
            runtime.core,
            interactive=interactive,
            machine_zone=machine_zone,
            read_secret=hidden_line if interactive else None,
            exports_dir=settings.data_dir / "exports",
        )
        zone_name = (await runtime.ctx.zone_of(adapter.caller)).key
        print(_banner(settings, zone_name, machine=machine_zone is not None), file=sys.stderr, flush=True)
        await adapter.run(stdin_lines)
    return 0


def _machine_zone() -> str | None:
    """The zone this machine's clock is set to (TZ, else the system's), where it is one the bot can read: not a
    POSIX rule such as TZ=CET-1CEST,M3.5.0,M10.5.0/3, which tzlocal would quietly take for UTC."""
    try:
        name = _tz_variable() or tzlocal.get_localzone_name()
        return zone(name).key if name else None
    except (BotError, LookupError, ValueError, OSError):
        return None


def _tz_variable() -> str:
    """TZ as written, without the leading `:` POSIX allows before a zone file's name."""
    return os.environ.get("TZ", "").strip().removeprefix(":")


def _discord_invite(settings: Settings, *, client_id: int | None) -> int:
    from adapters.discord.invite import application_id, invite_url

    if client_id is None:
        if settings.discord_token is None:
            print(
                "infinipost-bot: set DISCORD_TOKEN, or pass --client-id with the Application ID "
                "(Developer Portal → General Information)",
                file=sys.stderr,
            )
            return 2
        try:
            client_id = application_id(settings.discord_token.get_secret_value())
        except ValueError as exc:
            print(f"infinipost-bot: {exc}; pass --client-id with the Application ID instead", file=sys.stderr)
            return 2
    print(invite_url(client_id))
    return 0


def _run(settings: Settings) -> int:
    from app.platforms import configured_platforms
    from app.serve import serve

    if platforms := configured_platforms(settings):
        try:
            for platform in platforms:
                platform.check(settings)
        except ValueError as exc:
            print(f"infinipost-bot: {exc}", file=sys.stderr)
            return 2
        return asyncio.run(serve(settings, platforms))
    if not sys.stdin.isatty():
        print(NOTHING_TO_RUN, file=sys.stderr)
        return 2
    return asyncio.run(_console(settings, interactive=True))
