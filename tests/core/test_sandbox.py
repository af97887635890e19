"""The sandbox over raw HTTP: the validation and error bodies of infinipost-api.md, as a client would meet them."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from sandbox import SandboxServer
from tests.conftest import FakeClock

KEY = {"Authorization": "Bearer sk_test_raw"}
VIDEO = {"accountIds": ["acc_1"], "contentType": "video", "contentUrl": "https://e.com/v.mp4"}


async def call(sandbox: SandboxServer, method: str, path: str, **kwargs: Any) -> httpx.Response:
    async with httpx.AsyncClient(base_url=sandbox.url) as http:
        return await http.request(method, path, **kwargs)


def error_of(response: httpx.Response) -> tuple[int, str]:
    return response.status_code, response.json()["error"]["code"]


async def test_no_bearer_key_is_401(sandbox: SandboxServer) -> None:
    assert error_of(await call(sandbox, "GET", "/accounts")) == (401, "unauthorized")
    assert error_of(await call(sandbox, "POST", "/posts", json=VIDEO)) == (401, "unauthorized")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"contentType": "video", "contentUrl": "https://e.com/v.mp4"}, (400, "missing_required_fields")),
        ({**VIDEO, "accountIds": ["acc_nope"]}, (404, "not_found")),
        (
            {**VIDEO, "contentType": "slideshow", "contentUrl": ["https://e.com/1.jpg"], "slideDuration": 5},
            (400, "invalid_slide_duration"),
        ),
        ({**VIDEO, "slideDuration": 4}, (400, "invalid_slide_duration")),  # slideshow only
    ],
)
async def test_bad_creates_are_refused_and_make_nothing(
    sandbox: SandboxServer, body: dict[str, Any], expected: tuple[int, str]
) -> None:
    assert error_of(await call(sandbox, "POST", "/posts", json=body, headers=KEY)) == expected
    assert sandbox.state.posts == {}


async def test_unknown_paths_and_methods_answer_in_the_error_shape(sandbox: SandboxServer) -> None:
    assert error_of(await call(sandbox, "GET", "/nothing-here", headers=KEY)) == (404, "not_found")
    assert error_of(await call(sandbox, "PUT", "/posts", headers=KEY)) == (405, "method_not_allowed")


async def test_the_requests_received_are_listed_in_order_with_their_time_but_no_key(
    sandbox: SandboxServer, clock: FakeClock
) -> None:
    await call(sandbox, "POST", "/posts", json=VIDEO, headers=KEY)
    clock.advance(seconds=1.5)
    [post_id] = sandbox.state.posts
    await call(sandbox, "GET", f"/posts/{post_id}", headers=KEY)
    async with httpx.AsyncClient() as http:
        listed = (await http.get(sandbox.url.removesuffix("/v1") + "/_sandbox/requests")).json()["requests"]
    assert listed == [
        {"method": "POST", "path": "/v1/posts", "at": "2026-11-28T15:00:00+00:00"},
        {"method": "GET", "path": f"/v1/posts/{post_id}", "at": "2026-11-28T15:00:01.500000+00:00"},
    ]
