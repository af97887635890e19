"""Slack's section of the settings (SLACK_*), read with the rest of them and checked when Slack starts."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import NoDecode

from bot.config import Settings, split_list


class SlackSettings(Settings):
    """The core's settings and Slack's: what the Slack adapter reads."""

    slack_bot_token: SecretStr | None = Field(None, validation_alias="SLACK_BOT_TOKEN")
    slack_app_token: SecretStr | None = Field(None, validation_alias="SLACK_APP_TOKEN")
    slack_signing_secret: SecretStr | None = Field(None, validation_alias="SLACK_SIGNING_SECRET")
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
        return self.slack_bot_token is not None

    @property
    def slack_socket_mode(self) -> bool:
        return self.slack_app_token is not None

    def check_slack(self) -> None:
        """Raise a ValueError naming what is missing for Slack to start."""
        if self.slack_bot_token is None:
            raise ValueError("SLACK_BOT_TOKEN is not set")
        if self.slack_app_token is None and self.slack_signing_secret is None:
            raise ValueError(
                "Slack needs SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET (HTTP mode on BOT_HTTP_PORT)"
            )
