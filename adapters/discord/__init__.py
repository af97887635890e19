"""Discord: application commands with attachment options, a message command with a form, embeds and buttons.

Nothing is imported here, so that the settings and the invite link work without the Discord extra installed.
"""
