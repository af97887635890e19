"""Slack: slash commands, a message shortcut, a modal with uploads, Block Kit replies and notices.

Nothing is imported here, so that the manifest and the settings work without the Slack extra installed.
"""
