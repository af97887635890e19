"""A local stand-in for the Infinipost API, faithful to infinipost-api.md.

Used by the console and `infinipost-bot run` when no INFINIPOST_API_KEY is set, by `infinipost-bot sandbox` as
a standalone server, and by the tests. Posts move from scheduled to posted when their time comes (to failed when
their content URL contains "fail"; never, when it contains "stuck"); one whose content URL contains "render" is
`pending_render` for RENDER_TIME first. It starts with ready accounts for the README's examples.

Given a file, the sandbox keeps its posts there (SQLite), so that a restart of the bot finds them as it left
them, as the real API would; without one they live in memory (the tests). Paths under `/_sandbox/` are for
tests: inspect posts and the requests received, move the clock, inject faults.

Modules: `state` (accounts, posts and their file, the clock), `faults` (what can be injected), `routes` (the API
and the test controls), `server` (serving it on loopback).
"""

from __future__ import annotations

from sandbox.faults import Fault
from sandbox.routes import build_app
from sandbox.server import SANDBOX_KEY, SandboxServer
from sandbox.state import Received, SandboxState, state_beside, state_option

__all__ = [
    "SANDBOX_KEY",
    "Fault",
    "Received",
    "SandboxServer",
    "SandboxState",
    "build_app",
    "state_beside",
    "state_option",
]
