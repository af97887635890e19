"""The Slack app manifest a person pastes into "Create an app → From a manifest"."""

from __future__ import annotations

from typing import Any

from adapters.slack.names import BOT_EVENTS, EVENTS_PATH, HOME_EVENT, OAUTH_REDIRECT_PATH, SHORTCUT_CALLBACK
from bot.config import Settings
from bot.texts import COMMANDS

BOT_SCOPES = [
    "commands",  # the slash commands and the message shortcut
    "chat:write",  # announcements, notices and answers
    "chat:write.public",  # announce in public channels the bot was not invited to
    "files:read",  # download uploads (file_input and the shortcut's message files)
    "files:write",  # /posts export: the CSV, uploaded to the person's direct messages with the bot
    "users:read",  # each user's time zone and admin flags
    "usergroups:read",  # SLACK_POSTER_USERS and /approvals may name user groups
    "channels:read",  # the calendar: whether a channel is public (conversations.info)
    "groups:read",  # and who is in a private one (conversations.members), who alone see its posts
    "channels:history",  # after a crash mid-delivery, check whether a notice went out before sending it again
    "groups:history",  # the same in private channels
    "im:history",  # and in direct messages with the bot
    "mpim:history",  # and in group direct messages
]
PLACEHOLDER_URL = "https://YOUR-PUBLIC-HOST"
# Slack shows at most 100 characters of a usage hint.
_HINTS = {"post": "<links> to <accounts> at <time> -- <caption>   (nothing: open the form)"}


def manifest(settings: Settings, *, socket_mode: bool, oauth: bool = False, name: str = "Infinipost") -> dict[str, Any]:
    """`oauth`: any workspace installs the app (SLACK_CLIENT_ID), so Slack must know where to send them back."""
    url = f"{settings.public_url or PLACEHOLDER_URL}{EVENTS_PATH}"
    oauth_config: dict[str, Any] = {"scopes": {"bot": BOT_SCOPES}}
    if oauth:
        oauth_config["redirect_urls"] = [f"{settings.public_url or PLACEHOLDER_URL}{OAUTH_REDIRECT_PATH}"]
    commands = []
    for command, (usage, what) in COMMANDS.items():
        entry: dict[str, Any] = {
            "command": f"/{command}",
            "description": what[:100],
            "usage_hint": _HINTS.get(command, usage.removeprefix(f"/{command}").strip())[:100],
            # Escaped, Slack sends a mention as the ID it means (`<@U123|alice>`, `<!subteam^S123|@design>`)
            # rather than a name that may be changed or shared; only /approvals names people.
            "should_escape": command == "approvals",
        }
        if not socket_mode:
            entry["url"] = url
        commands.append(entry)
    interactivity: dict[str, Any] = {"is_enabled": True}
    events: dict[str, Any] = {"bot_events": [*BOT_EVENTS, HOME_EVENT]}
    if not socket_mode:
        interactivity["request_url"] = url
        events["request_url"] = url
    return {
        "display_information": {
            "name": name,
            "description": "Schedule TikTok and Instagram posts through Infinipost",
            "background_color": "#1f2937",
        },
        "features": {
            "app_home": {
                "home_tab_enabled": True,  # each person's calendar of the next two weeks
                "messages_tab_enabled": True,
                "messages_tab_read_only_enabled": True,
            },
            "bot_user": {"display_name": name, "always_online": True},
            "slash_commands": commands,
            "shortcuts": [
                {
                    "name": "Schedule as post",
                    "type": "message",
                    "callback_id": SHORTCUT_CALLBACK,
                    "description": "Schedule this message's video or images on TikTok/Instagram",
                }
            ],
        },
        "oauth_config": oauth_config,
        "settings": {
            "interactivity": interactivity,
            "event_subscriptions": events,
            "org_deploy_enabled": False,
            "socket_mode_enabled": socket_mode,
            "token_rotation_enabled": False,
        },
    }
