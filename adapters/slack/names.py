"""The names the Slack app's manifest and the adapter must agree on. No Slack library is imported here, so that
`infinipost-bot slack-manifest` works without the Slack extra installed."""

from __future__ import annotations

EVENTS_PATH = "/slack/events"  # commands, interactivity and events, in HTTP mode
INSTALL_PATH = "/slack/install"  # OAuth: where a workspace's admin starts installing the app
OAUTH_REDIRECT_PATH = "/slack/oauth_redirect"  # OAuth: where Slack sends them back, with a code
SHORTCUT_CALLBACK = "schedule_as_post"
BOT_EVENTS = ("app_uninstalled", "tokens_revoked")  # so that the logs say why Slack stopped answering
HOME_EVENT = "app_home_opened"  # someone opened the Home tab: their calendar is published there
