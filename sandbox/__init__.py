"""The built-in stand-in for the Infinipost API: see sandbox.routes."""

from __future__ import annotations

from sandbox.routes import SANDBOX_KEY, Fault, SandboxServer, state_beside, state_option

__all__ = ["SANDBOX_KEY", "Fault", "SandboxServer", "state_beside", "state_option"]
