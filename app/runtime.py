"""Assembles the bot from its settings: database, Infinipost (or the sandbox), core and background workers."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from bot.accounts import AccountDirectory
from bot.api import InfinipostClient
from bot.calendar.links import CalendarLinks
from bot.calendar.page import CalendarPages
from bot.clients import ApiClients, WorkspaceApi
from bot.config import Settings
from bot.context import Context
from bot.core import Core
from bot.dates import warm_up
from bot.errors import ApiAuthError, ApiError, BotError
from bot.media import MediaService
from bot.media.download import download_client
from bot.media.store import LocalStore, MediaStore, S3Store, load_secret
from bot.metrics import Metrics
from bot.outbox import Outbox
from bot.probes import Probes
from bot.recovery import settle_unfinished
from bot.tracking import Tracker
from bot.web import WebServer
from sandbox import SANDBOX_KEY, SandboxServer, state_beside
from storage.sql import Storage

logger = logging.getLogger(__name__)


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Runtime:
    """A running bot: the core the adapters call, the workers beside them, and the HTTP server (not yet
    started: adapters add their routes first, then `async with runtime.web`)."""

    core: Core
    sandbox: SandboxServer | None
    web: WebServer
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    @property
    def ctx(self) -> Context:
        return self.core.ctx

    def spawn(self, work: Coroutine[Any, Any, None], name: str) -> None:
        """Run a worker until the runtime stops; a crash is logged, not silent."""
        task = asyncio.create_task(work, name=name)
        task.add_done_callback(_report_crash)
        self._tasks.append(task)

    async def stop_workers(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()


def _report_crash(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        logger.error("worker %s stopped", task.get_name(), exc_info=task.exception())


@asynccontextmanager
async def start_runtime(
    settings: Settings,
    *,
    clock: Callable[[], datetime] = utc_now,
    transport: httpx.AsyncBaseTransport | None = None,
    workers: bool = True,
    api_timeout: float = 20.0,
    api_backoff: float = 0.5,
) -> AsyncIterator[Runtime]:
    """Open everything the settings ask for; close it all on exit, whatever happens.

    `transport`, `api_timeout` and `api_backoff` tune the Infinipost client (tests make them short).
    """
    async with AsyncExitStack() as stack:
        storage = await Storage.open(
            settings.database,
            clock=clock,
            api=settings.api_identity,
            legacy_api=settings.api_url,
            replica=settings.replica_id,
            lease=settings.claim_lease,
        )
        stack.push_async_callback(storage.close)
        sandbox = None
        if settings.api_key is None:
            # Beside the database, so that a restart finds the sandbox's posts where the bot's records say they are.
            state_file = state_beside(settings.data_dir / "bot.db")
            sandbox = await stack.enter_async_context(SandboxServer(clock=clock, state_file=state_file))
            base_url, key = sandbox.url, SANDBOX_KEY
        else:
            base_url, key = settings.api_url, settings.api_key.get_secret_value()
        metrics = Metrics()

        def client(api_key: str, *, auth_message: str | None = None) -> InfinipostClient:
            return InfinipostClient(
                base_url=base_url,
                api_key=api_key,
                transport=transport,
                timeout=api_timeout,
                backoff=api_backoff,
                metrics=metrics,
                auth_message=auth_message,
            )

        api = await stack.enter_async_context(client(key))
        clients = ApiClients(
            default=WorkspaceApi(api=api, accounts=AccountDirectory(api, configured_ids=settings.accounts)),
            keys=storage.workspace_keys,
            encryption_key=settings.encryption_key.get_secret_value() if settings.encryption_key else None,
            make_client=client,
            configured_ids=settings.accounts,
        )
        stack.push_async_callback(clients.aclose)
        outbox = Outbox(storage, clock=clock)
        web = WebServer(host=settings.http_host, port=settings.http_port)
        downloads = await stack.enter_async_context(download_client())
        media = MediaService(
            store=_media_store(settings, web=web, sandbox=sandbox is not None, clock=clock),
            storage=storage,
            http=downloads,
            # Downloads land beside the files they become, so that storing one is a rename.
            work_dir=(settings.media_dir if settings.media_store == "local" else settings.data_dir) / ".incoming",
            max_bytes=int(settings.max_media_mb * 1024 * 1024),
            clock=clock,
        )
        await media.sweep()
        ctx = Context(
            settings=settings,
            storage=storage,
            clients=clients,
            outbox=outbox,
            media=media,
            clock=clock,
            metrics=metrics,
            calendar_links=_calendar_links(settings, web=web, clock=clock),
        )
        Probes(ctx).mount(web.app)
        CalendarPages(ctx).mount(web.app)
        await settle_unfinished(ctx)
        warm_up()
        runtime = Runtime(core=Core(ctx), sandbox=sandbox, web=web)
        if workers:
            runtime.spawn(outbox.run(), "outbox")
            runtime.spawn(Tracker(ctx).run(), "tracker")
            runtime.spawn(media.clean_up_forever(keep=settings.media_keep_days_delta), "media clean-up")
        try:
            yield runtime
        finally:
            await runtime.stop_workers()


async def check_api_key(runtime: Runtime) -> None:
    """Stop at start-up, with one sentence, when Infinipost refuses INFINIPOST_API_KEY; an Infinipost that does
    not answer is only warned about, since the bot can still start and take commands."""
    if runtime.sandbox is not None:
        return
    try:
        await runtime.ctx.api.check_key()
    except ApiAuthError as exc:
        why = f" ({exc.code or exc.status})" if exc.code or exc.status else ""
        raise BotError(
            f"Infinipost refused INFINIPOST_API_KEY{why}; check the key in Infinipost's dashboard (Settings -> "
            "API Keys) and INFINIPOST_API_URL."
        ) from exc
    except ApiError as exc:
        logger.warning("Infinipost did not answer at start-up (%s); starting anyway", type(exc).__name__)


def _link_secret(settings: Settings) -> bytes:
    """BOT_MEDIA_SECRET, else the one the bot generated and keeps beside its database: what signs its links."""
    configured = settings.media_secret.get_secret_value() if settings.media_secret else None
    return load_secret(configured, settings.data_dir / "media.secret")


def _calendar_links(settings: Settings, *, web: WebServer, clock: Callable[[], datetime]) -> CalendarLinks:
    """The calendar's links, signed with the media links' secret, at BOT_PUBLIC_URL or, when the server listens on
    this machine only (the console), at its loopback address."""

    def base_url() -> str | None:
        if settings.public_url:
            return settings.public_url
        loopback = web.host in ("127.0.0.1", "localhost", "::1")  # as it listens (the console moves it there)
        return f"http://127.0.0.1:{web.port}" if loopback and web.port else None

    return CalendarLinks(_link_secret(settings), base_url=base_url, clock=clock)


def _media_store(settings: Settings, *, web: WebServer, sandbox: bool, clock: Callable[[], datetime]) -> MediaStore:
    if settings.media_store == "s3":
        if not settings.s3_bucket:
            raise BotError("BOT_MEDIA_STORE=s3 needs BOT_S3_BUCKET (and the usual AWS_* credentials).")
        return S3Store(
            bucket=settings.s3_bucket,
            endpoint_url=settings.s3_endpoint_url,
            region=settings.s3_region,
            public_url=settings.s3_public_url,
            clock=clock,
        )

    def base_url() -> str | None:
        # Without BOT_PUBLIC_URL only the sandbox, on this machine, can fetch the links.
        if settings.public_url:
            return settings.public_url
        return f"http://127.0.0.1:{web.port}" if sandbox and web.port else None

    store = LocalStore(settings.media_dir, secret=_link_secret(settings), base_url=base_url, clock=clock)
    web.app.router.add_get("/media/{key}", store.serve)
    return store
