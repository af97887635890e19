"""`/infinipost`: which Infinipost key a workspace (a Discord server) uses, and an admin connecting its own.

`/infinipost` (or `status`) says whether the workspace uses its own key, shown as its last four characters, or
the bot's default. `/infinipost connect` takes the key through a private form (typed at a prompt in the console),
never from the command's text: the adapters hand it over as `Command.secret`. It is checked with one call to
Infinipost, sealed with BOT_ENCRYPTION_KEY and kept; from then on every call for the workspace's posts uses it
(bot/clients.py). `/infinipost disconnect` forgets it, and the workspace is back on the default key.

The key is never said back, logged, audited or stored in clear: only its last four characters are.
"""

from __future__ import annotations

import logging
from datetime import UTC

from bot.context import Context
from bot.errors import ApiAuthError, ApiError, ApiUnavailable, BadCommand, NotAllowed, UsageError
from bot.model import Caller, Command, Reply
from bot.records import WorkspaceKey

logger = logging.getLogger(__name__)

KEY_PREFIX = "sk_"  # Infinipost's keys are sk_live_… or sk_test_…
MAX_KEY_LENGTH = 200
USAGE = (
    "Write `/infinipost` to see which Infinipost key this workspace uses, or `/infinipost connect` or "
    "`/infinipost disconnect`."
)
NOT_AN_ADMIN = "Only a workspace or server admin can connect or disconnect this workspace's Infinipost key."
TYPED_INLINE = (
    "Don't type the key in the command: I did not read or keep it. Send `/infinipost connect` alone, and enter "
    "the key in the private form it opens."
)
USE_THE_FORM = "`/infinipost connect` asks for the key in a private form; send it alone."


def asks_for_key(name: str, text: str) -> bool:
    """Whether a command is `/infinipost connect` with nothing after it: the adapters answer it with their own
    private way to type the key, and hand the key over as `Command.secret`."""
    return name.lower().lstrip("/") == "infinipost" and text.strip().lower() == "connect"


async def infinipost(ctx: Context, command: Command) -> Reply:
    words = command.text.split()
    action = words[0].lower() if words else "status"
    if action == "status" and len(words) <= 1:
        return await _status(ctx, command.caller)
    if action == "connect":
        if len(words) > 1:  # said before anything else, even to a non-admin: the key may be in those words
            raise UsageError(TYPED_INLINE)
        return await _connect(ctx, command.caller, command.secret)
    if action == "disconnect" and len(words) == 1:
        return await _disconnect(ctx, command.caller)
    raise BadCommand(USAGE)


def connect_refusal(ctx: Context, caller: Caller) -> None:
    """Raise what stops the caller connecting a key here, before a form for it is shown: not an admin, or no
    BOT_ENCRYPTION_KEY to seal it with."""
    if not caller.is_admin:
        raise NotAllowed(NOT_AN_ADMIN)
    ctx.clients.sealer()


async def _status(ctx: Context, caller: Caller) -> Reply:
    stored = await ctx.storage.workspace_keys.get(caller.platform, caller.workspace_id)
    if stored is None:
        return Reply(
            text="This workspace uses the bot's default Infinipost key. An admin can connect the workspace's own "
            "with `/infinipost connect`."
        )
    when = stored.connected_at.astimezone(await ctx.zone_of(caller))
    return Reply(
        text=f"This workspace uses its own Infinipost key (…{stored.last4}), connected on {when.day} {when:%B %Y}. An "
        "admin can replace it with `/infinipost connect`, or go back to the bot's default key with "
        "`/infinipost disconnect`."
    )


async def _connect(ctx: Context, caller: Caller, secret: str | None) -> Reply:
    connect_refusal(ctx, caller)
    if secret is None:
        raise UsageError(USE_THE_FORM)
    key = secret.strip()
    if not key:
        raise UsageError("The key was empty; nothing was kept. Send `/infinipost connect` again.")
    looks_right = key.startswith(KEY_PREFIX) and len(key) <= MAX_KEY_LENGTH and key.isascii() and key.isprintable()
    if not looks_right or any(c.isspace() for c in key):
        raise UsageError(
            "That does not look like an Infinipost API key (they start with `sk_live_` or `sk_test_`), so I did "
            "not send it anywhere or keep it. Copy it again from Infinipost's dashboard (Settings → API Keys)."
        )
    sealer = ctx.clients.sealer()
    try:
        await ctx.clients.check(key)
    except ApiAuthError as exc:
        raise ApiAuthError(
            "Infinipost refused that key, so nothing was kept. Copy it again from Infinipost's dashboard "
            "(Settings → API Keys)."
        ) from exc
    except ApiUnavailable as exc:
        raise ApiUnavailable(
            "Infinipost did not answer, so the key could not be checked and nothing was kept. Try again in a minute."
        ) from exc
    except ApiError as exc:
        why = exc.code or exc.status or type(exc).__name__
        raise ApiError(f"Infinipost could not check that key ({why}), so nothing was kept.") from exc
    last4 = key[-4:]
    await ctx.storage.workspace_keys.put(
        WorkspaceKey(
            platform=caller.platform,
            workspace_id=caller.workspace_id,
            sealed=sealer.seal(key),
            last4=last4,
            connected_by=caller.user_id,
            connected_at=ctx.clock().astimezone(UTC),
        ),
        by=caller,
    )
    ctx.clients.forget(caller.platform, caller.workspace_id)
    logger.info("%s workspace %s connected its own Infinipost key", caller.platform, caller.workspace_id)
    return Reply(
        text=f"Connected: this workspace's posts now go through its own Infinipost key (…{last4}). Posts scheduled "
        "here before are followed with it from now on too. `/accounts` lists the accounts it reaches."
    )


async def _disconnect(ctx: Context, caller: Caller) -> Reply:
    if not caller.is_admin:
        raise NotAllowed(NOT_AN_ADMIN)
    stored = await ctx.storage.workspace_keys.get(caller.platform, caller.workspace_id)
    removed = await ctx.storage.workspace_keys.delete(caller.platform, caller.workspace_id, by=caller)
    ctx.clients.forget(caller.platform, caller.workspace_id)
    if not removed or stored is None:
        return Reply(text="This workspace has no Infinipost key of its own; it uses the bot's default key.")
    logger.info("%s workspace %s disconnected its own Infinipost key", caller.platform, caller.workspace_id)
    return Reply(
        text=f"Disconnected this workspace's own Infinipost key (…{stored.last4}). Its posts use the bot's default "
        "key from now on, and posts already scheduled with its own key are followed with the default key too: if "
        "that key is for another Infinipost account, Infinipost will not know them and they will show as missing."
    )
