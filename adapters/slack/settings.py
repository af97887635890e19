"""Slack's section of the settings (SLACK_*), read with the rest of them and checked when Slack starts."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import NoDecode

from bot.config import Settings, split_list
from bot.sealing import MAKE_A_KEY


class SlackSettings(Settings):
    """The core's settings and Slack's: what the Slack adapter reads."""

    slack_bot_token: SecretStr | None = Field(None, validation_alias="SLACK_BOT_TOKEN")
    slack_app_token: SecretStr | None = Field(None, validation_alias="SLACK_APP_TOKEN")
    slack_signing_secret: SecretStr | None = Field(None, validation_alias="SLACK_SIGNING_SECRET")
    slack_client_id: str | None = Field(None, validation_alias="SLACK_CLIENT_ID")
    slack_client_secret: SecretStr | None = Field(None, validation_alias="SLACK_CLIENT_SECRET")
    slack_state_secret: SecretStr | None = Field(None, validation_alias="SLACK_STATE_SECRET")
    slack_api_url: str = Field("https://slack.com/api/", validation_alias="SLACK_API_URL")
    slack_poster_users: Annotated[tuple[str, ...], NoDecode] = Field((), validation_alias="SLACK_POSTER_USERS")
    slack_admin_users: Annotated[tuple[str, ...], NoDecode] = Field((), validation_alias="SLACK_ADMIN_USERS")

    @field_validator("slack_poster_users", "slack_admin_users", mode="before")
    @classmethod
    def _slack_lists(cls, value: Any) -> Any:
        return split_list(value)

    @field_validator("slack_api_url")
    @classmethod
    def _slack_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/") + "/"

    @property
    def slack_configured(self) -> bool:
        return self.slack_bot_token is not None or self.slack_oauth

    @property
    def slack_oauth(self) -> bool:
        """Any workspace installs the app (OAuth), rather than the one of SLACK_BOT_TOKEN."""
        return any(
            value is not None for value in (self.slack_client_id, self.slack_client_secret, self.slack_state_secret)
        )

    @property
    def slack_socket_mode(self) -> bool:
        return self.slack_app_token is not None

    def check_slack(self) -> None:
        """Raise a ValueError naming what is missing for Slack to start."""
        if self.slack_oauth:
            self._check_oauth()
            return
        if self.slack_bot_token is None:
            raise ValueError("SLACK_BOT_TOKEN is not set")
        if self.slack_app_token is None and self.slack_signing_secret is None:
            raise ValueError(
                "Slack needs SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET (HTTP mode on BOT_HTTP_PORT)"
            )

    def _check_oauth(self) -> None:
        if self.slack_bot_token is not None:
            raise ValueError(
                "Slack takes SLACK_BOT_TOKEN (one workspace) or SLACK_CLIENT_ID, SLACK_CLIENT_SECRET and "
                "SLACK_STATE_SECRET (any workspace that installs the app), not both: unset one of them"
            )
        missing = [
            name
            for name, value in (
                ("SLACK_CLIENT_ID", self.slack_client_id),
                ("SLACK_CLIENT_SECRET", self.slack_client_secret),
                ("SLACK_STATE_SECRET", self.slack_state_secret),
            )
            if value is None
        ]
        if missing:
            raise ValueError(f"Slack's OAuth install also needs {' and '.join(missing)}")
        if self.slack_app_token is not None or self.slack_signing_secret is None:
            raise ValueError(
                "Slack's OAuth install runs in HTTP mode: set SLACK_SIGNING_SECRET and unset SLACK_APP_TOKEN"
            )
        if self.encryption_key is None:
            raise ValueError(
                "Slack's OAuth install keeps each workspace's bot token encrypted with BOT_ENCRYPTION_KEY; make "
                f"one with {MAKE_A_KEY}"
            )
