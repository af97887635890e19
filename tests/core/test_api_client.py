"""The Infinipost client: both error shapes, every status class, retries only where safe, and the sandbox."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime

import httpx
import pytest

from bot.api import InfinipostClient
from bot.errors import (
    ApiAuthError,
    ApiNotFound,
    ApiProtocolError,
    ApiRejected,
    ApiUnavailable,
    ApiUnconfirmed,
)
from bot.model import Account, PostRequest, PostStatus
from sandbox import SandboxServer

REQUEST = PostRequest(
    accounts=(Account(id="acc_123", platform="tiktok"),),
    content_type="video",
    media_urls=("https://e.com/v.mp4",),
    caption="hi",
    scheduled_time=datetime(2026, 11, 29, 17, 0, tzinfo=UTC),
)


class Recorder:
    """An httpx MockTransport handler that answers from a list and records each request."""

    def __init__(self, *answers: httpx.Response | Exception) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer


def client(handler: Callable[[httpx.Request], httpx.Response], sleeps: list[float] | None = None) -> InfinipostClient:
    async def sleep(seconds: float) -> None:
        if sleeps is not None:
            sleeps.append(seconds)

    return InfinipostClient(
        base_url="https://api.example.test/v1",
        api_key="sk_test_abc",
        transport=httpx.MockTransport(handler),
        sleep=sleep,
    )


def nested(status: int, code: str, message: str, **headers: str) -> httpx.Response:
    return httpx.Response(status, json={"error": {"code": code, "message": message}}, headers=headers)


async def test_create_sends_the_documented_body_with_bearer_auth() -> None:
    recorder = Recorder(
        httpx.Response(200, json={"posts": [{"id": "post_1", "accountId": "acc_123", "status": "scheduled"}]})
    )
    async with client(recorder) as api:
        posts = await api.create_posts(REQUEST)
    sent = recorder.requests[0]
    assert sent.method == "POST"
    assert sent.url.path == "/v1/posts"
    assert sent.headers["Authorization"] == "Bearer sk_test_abc"
    assert json.loads(sent.content) == {
        "accountIds": ["acc_123"],
        "contentType": "video",
        "contentUrl": "https://e.com/v.mp4",
        "caption": "hi",
        "scheduledTime": "2026-11-29T17:00:00Z",
    }
    assert posts[0].id == "post_1"
    assert posts[0].status is PostStatus.SCHEDULED


async def test_post_id_falls_back_to_post_id_key() -> None:
    recorder = Recorder(
        httpx.Response(200, json={"posts": [{"postId": "post_9", "accountId": "acc_123", "status": "generated"}]})
    )
    async with client(recorder) as api:
        assert (await api.create_posts(REQUEST))[0].id == "post_9"


@pytest.mark.parametrize(
    ("response", "error", "text"),
    [
        (nested(401, "unauthorized", "No API key provided"), ApiAuthError, "INFINIPOST_API_KEY"),
        (nested(401, "invalid_api_key", "The API key provided is invalid"), ApiAuthError, "INFINIPOST_API_KEY"),
        (nested(401, "unauthenticated", "Invalid or missing API key"), ApiAuthError, "INFINIPOST_API_KEY"),
        (nested(404, "not_found", "Account acc_x not found"), ApiNotFound, "Account acc_x not found"),
        (nested(400, "missing_required_fields", "accountIds is required"), ApiRejected, "accountIds is required"),
        (httpx.Response(400, json={"error": "accountId is required"}), ApiRejected, "accountId is required"),
        (httpx.Response(403, json={"error": "This API key does not have partner access"}), ApiAuthError, "API key"),
        (httpx.Response(422, text="<html>nope</html>"), ApiRejected, "refused"),
        (httpx.Response(404, text="Not Found"), ApiNotFound, "INFINIPOST_API_URL may be wrong"),
    ],
)
async def test_error_shapes_map_to_one_tree(response: httpx.Response, error: type[Exception], text: str) -> None:
    recorder = Recorder(response)
    async with client(recorder) as api:
        with pytest.raises(error) as caught:
            await api.get_post("post_1")
    assert text in caught.value.user_message  # type: ignore[attr-defined]
    assert len(recorder.requests) == 1  # client errors are never retried


@pytest.mark.parametrize(
    "failure",
    [
        nested(500, "internal", "An unexpected error occurred"),
        httpx.Response(502, text="bad gateway"),
        nested(503, "internal", "down", **{"Retry-After": "2"}),
        httpx.Response(429, json={"error": {"code": "rate_limited", "message": "slow down"}}),
        httpx.ConnectError("refused"),
        httpx.ReadTimeout("slow"),
        httpx.RemoteProtocolError("reset"),
    ],
)
async def test_reads_retry_then_succeed(failure: httpx.Response | Exception) -> None:
    ok = httpx.Response(200, json={"postId": "post_1", "accountId": "acc_1", "status": "posted"})
    recorder = Recorder(failure, ok)
    sleeps: list[float] = []
    async with client(recorder, sleeps) as api:
        post = await api.get_post("post_1")
    assert post.status is PostStatus.POSTED
    assert len(recorder.requests) == 2
    assert len(sleeps) == 1


async def test_retry_after_is_honoured_and_attempts_are_bounded() -> None:
    recorder = Recorder(nested(429, "rate_limited", "slow down", **{"Retry-After": "7"}))
    sleeps: list[float] = []
    async with client(recorder, sleeps) as api:
        with pytest.raises(ApiUnavailable) as caught:
            await api.get_post("post_1")
    assert sleeps == [7.0, 7.0, 7.0]
    assert len(recorder.requests) == 4
    assert "rate limiting" in caught.value.user_message


async def test_a_retry_after_too_long_gives_up_at_once() -> None:
    recorder = Recorder(nested(503, "internal", "maintenance", **{"Retry-After": "3600"}))
    async with client(recorder, []) as api:
        with pytest.raises(ApiUnavailable):
            await api.list_accounts()
    assert len(recorder.requests) == 1


@pytest.mark.parametrize(
    "failure",
    [
        nested(500, "internal", "An unexpected error occurred"),
        httpx.Response(503, text="unavailable"),
        httpx.ReadTimeout("no answer"),
        httpx.RemoteProtocolError("connection reset"),
        httpx.Response(200, text='{"posts": ['),
        httpx.Response(200, json={"posts": [{"accountId": "acc_123"}]}),
        httpx.Response(200, json={"unexpected": True}),
    ],
)
async def test_create_is_never_repeated_once_it_may_have_arrived(failure: httpx.Response | Exception) -> None:
    recorder = Recorder(failure, httpx.Response(200, json={"posts": [{"id": "post_2", "accountId": "acc_123"}]}))
    async with client(recorder, []) as api:
        with pytest.raises(ApiUnconfirmed):
            await api.create_posts(REQUEST)
    assert len(recorder.requests) == 1


async def test_create_is_retried_when_the_connection_never_opened() -> None:
    ok = httpx.Response(200, json={"posts": [{"id": "post_2", "accountId": "acc_123"}]})
    recorder = Recorder(httpx.ConnectError("refused"), ok)
    async with client(recorder, []) as api:
        posts = await api.create_posts(REQUEST)
    assert [p.id for p in posts] == ["post_2"]


async def test_create_rate_limited_is_a_clear_failure_not_unconfirmed() -> None:
    recorder = Recorder(nested(429, "rate_limited", "slow down", **{"Retry-After": "20"}))
    async with client(recorder, []) as api:
        with pytest.raises(ApiUnavailable) as caught:
            await api.create_posts(REQUEST)
    assert "try again in 20 s" in caught.value.user_message


async def test_list_posts_follows_cursors() -> None:
    pages = {
        None: {"data": [{"postId": "p1", "accountId": "a"}], "hasMore": True, "nextCursor": "c2"},
        "c2": {"data": [{"postId": "p2", "accountId": "a"}], "hasMore": False, "nextCursor": None},
    }

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=pages[request.url.params.get("cursor")])

    async with client(handler) as api:
        assert [p.id async for p in api.list_posts(accountId="a")] == ["p1", "p2"]


async def test_unreadable_read_is_a_protocol_error() -> None:
    async with client(Recorder(httpx.Response(200, text="not json"))) as api:
        with pytest.raises(ApiProtocolError):
            await api.get_post("p1")


async def test_unknown_status_is_kept_as_unknown() -> None:
    answer = httpx.Response(200, json={"postId": "p1", "accountId": "a", "status": "queued_for_review"})
    async with client(Recorder(answer)) as api:
        post = await api.get_post("p1")
    assert post.status is PostStatus.UNKNOWN
    assert post.raw_status == "queued_for_review"


async def test_against_the_sandbox(sandbox: SandboxServer) -> None:
    async with InfinipostClient(base_url=sandbox.url, api_key="sk_test_x") as api:
        accounts = await api.list_accounts()
        assert {a.platform for a in accounts} == {"tiktok", "instagram"}
        created = await api.create_posts(REQUEST)
        fetched = await api.get_post(created[0].id)
        assert fetched.status is PostStatus.SCHEDULED
        assert fetched.scheduled_time == REQUEST.scheduled_time
        moved = await api.edit_post(created[0].id, scheduled_time=datetime(2026, 12, 1, 9, 30, tzinfo=UTC))
        assert moved.scheduled_time == datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
        result = await api.delete_posts([created[0].id, "post_missing"])
        assert result.deleted == (created[0].id,)
        assert "post_missing" in result.failed
        with pytest.raises(ApiNotFound, match="Account acc_x not found"):
            await api.create_posts(
                PostRequest(
                    accounts=(Account(id="acc_x", platform=""),),
                    content_type="video",
                    media_urls=("https://e.com/v.mp4",),
                )
            )
    async with InfinipostClient(base_url=sandbox.url, api_key="wrong") as api:
        with pytest.raises(ApiAuthError):
            await api.list_accounts()


async def test_a_create_answer_with_unreadable_posts_is_unconfirmed() -> None:
    async with client(Recorder(httpx.Response(200, json={"posts": ["post_1"]}))) as api:
        with pytest.raises(ApiUnconfirmed):
            await api.create_posts(REQUEST)


async def test_a_cancel_whose_answer_is_lost_is_not_repeated() -> None:
    recorder = Recorder(httpx.ReadTimeout("no answer"), httpx.Response(200, json={"deleted": ["p1"]}))
    async with client(recorder, []) as api:
        with pytest.raises(ApiUnconfirmed):
            await api.delete_posts(["p1"])
    assert len(recorder.requests) == 1


async def test_without_an_account_list_the_bot_says_to_set_bot_accounts() -> None:
    from bot.accounts import AccountDirectory

    async with client(Recorder(httpx.Response(404, text="Not Found"))) as api:
        with pytest.raises(ApiNotFound, match="set BOT_ACCOUNTS"):
            await AccountDirectory(api).all()


async def test_bot_accounts_are_used_when_the_api_cannot_list_them() -> None:
    from bot.accounts import AccountDirectory

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/accounts":
            return httpx.Response(404, json={"error": {"code": "not_found", "message": "Not found"}})
        account_id = request.url.path.rsplit("/", 1)[-1]
        return httpx.Response(200, json={"accountId": account_id, "platform": "tiktok", "accountStatus": "ready"})

    async with client(handler) as api:
        accounts = await AccountDirectory(api, configured_ids=["acc_7", "acc_8"]).all()
    assert [(a.id, a.platform) for a in accounts] == [("acc_7", "tiktok"), ("acc_8", "tiktok")]


async def test_bot_accounts_that_infinipost_does_not_have_are_left_out() -> None:
    from bot.accounts import AccountDirectory

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path in ("/v1/accounts", "/v1/accounts/acc_9"):
            return httpx.Response(404, json={"error": {"code": "not_found", "message": "Not found"}})
        return httpx.Response(200, json={"accountId": "acc_7", "platform": "tiktok", "accountStatus": "ready"})

    async with client(handler) as api:
        accounts = await AccountDirectory(api, configured_ids=["acc_7", "acc_9"]).all()
    assert [a.id for a in accounts] == ["acc_7"]


async def test_bot_accounts_are_taken_on_trust_when_infinipost_describes_none() -> None:
    from bot.accounts import AccountDirectory

    async with client(lambda request: httpx.Response(404, text="Not Found")) as api:
        accounts = await AccountDirectory(api, configured_ids=["acc_7", "acc_8"]).all()
    assert [a.id for a in accounts] == ["acc_7", "acc_8"]
