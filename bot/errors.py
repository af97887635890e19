"""The one exception tree of the bot.

Every ``BotError`` carries a ``user_message`` that is safe to show in chat: it says what went wrong and, where
the user can do something about it, how to do it right. Anything that is not a ``BotError`` is a bug: it is
logged with its traceback and the user sees a fixed apology instead.

    BotError
      UsageError                 the user asked for something we will not do as asked
        BadCommand               the command text does not follow the grammar
        InvalidTime              a time phrase we cannot turn into one future instant
        UnknownAccount           an account name that is not among the known accounts
        NotAllowed               the caller may not do this here
          NotSetUp               a server or workspace the operator did not name
        MediaRejected            an upload that cannot become a post (type, size, host)
        BadLink                  a link that is not a web address the bot or Infinipost could fetch
      ApiError                   Infinipost refused or failed
        ApiAuthError             401: the API key is missing, wrong or expired
        ApiNotFound              404 / not_found
        ApiRejected              400-class validation errors
        ApiUnavailable           5xx, 429, timeouts and connection failures on calls safe to repeat
        ApiUnconfirmed           a create call that may or may not have created posts
        ApiProtocolError         an answer we cannot read
      OutOfTime                  a command's work outlasted the bot's time limit
      StorageError               the local database failed
      DeliveryError              a chat platform refused a message
"""

from __future__ import annotations


class BotError(Exception):
    """A failure with a message that may be shown to the user as it is."""

    default_message = "Something went wrong."

    def __init__(self, user_message: str | None = None) -> None:
        self.user_message = user_message or self.default_message
        super().__init__(self.user_message)


class UsageError(BotError):
    default_message = "I could not do that as asked. Try /help."


class BadCommand(UsageError):
    pass


class InvalidTime(UsageError):
    """A time phrase refused; `examples` are phrases the message suggests, each of which is accepted."""

    def __init__(self, user_message: str | None = None, *, examples: tuple[str, ...] = ()) -> None:
        super().__init__(user_message)
        self.examples = examples


class UnknownAccount(UsageError):
    pass


class NotAllowed(UsageError):
    default_message = "You are not allowed to do that here."


class NotSetUp(NotAllowed):
    default_message = "This server or workspace is not set up for this bot; ask whoever runs it."


class MediaRejected(UsageError):
    pass


class BadLink(UsageError):
    pass


class ApiError(BotError):
    default_message = "Infinipost could not do that."

    def __init__(
        self,
        user_message: str | None = None,
        *,
        status: int | None = None,
        code: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(user_message)
        self.status = status
        self.code = code
        self.retry_after = retry_after


class ApiAuthError(ApiError):
    default_message = "Infinipost refused the bot's API key. Ask whoever runs the bot to check INFINIPOST_API_KEY."


class ApiNotFound(ApiError):
    default_message = "Infinipost does not know that."


class ApiRejected(ApiError):
    default_message = "Infinipost refused the request."


class ApiUnavailable(ApiError):
    default_message = "Infinipost is not answering right now. Nothing was changed; try again in a minute."


class ApiUnconfirmed(ApiError):
    default_message = (
        "Infinipost did not confirm whether it created the post. I am checking and will tell you here; "
        "please do not send it again yet."
    )


class ApiProtocolError(ApiError):
    default_message = "Infinipost sent an answer I could not read. Nothing was changed."


class OutOfTime(BotError):
    default_message = "That took too long, so I stopped it."


class StorageError(BotError):
    default_message = "The bot's database failed. Nothing was sent; try again."


class DeliveryError(BotError):
    """A chat platform refused a message; ``retryable`` says whether trying later may help, and ``tries`` how
    many attempts in all it is worth (None: the outbox's usual number)."""

    default_message = "The chat platform refused the message."

    def __init__(
        self,
        user_message: str | None = None,
        *,
        retryable: bool = True,
        retry_after: float | None = None,
        tries: int | None = None,
    ) -> None:
        super().__init__(user_message)
        self.retryable = retryable
        self.retry_after = retry_after
        self.tries = tries
