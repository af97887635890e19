"""Slack: slash commands, a message shortcut, a modal with uploads, Block Kit replies and notices."""

from adapters.slack.app import SlackAdapter

__all__ = ["SlackAdapter"]
