"""The S3 store against a real S3-compatible server (moto's server mode) on loopback, links fetched over HTTP."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import boto3
import httpx
import pytest
from moto.server import ThreadedMotoServer

from bot.media.store import S3Store
from tests.conftest import FakeClock
from tests.media.files import MP4

BUCKET = "infinipost-media"
PUBLIC_PREFIX_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{BUCKET}/public/*"}
    ],
}


@pytest.fixture
def s3_endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    httpx.post(f"{endpoint}/moto-api/reset")  # moto keeps its buckets per process, not per server
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(PUBLIC_PREFIX_POLICY))  # as the README says
    yield endpoint
    server.stop()


@pytest.fixture
def store(s3_endpoint: str, clock: FakeClock) -> S3Store:
    return S3Store(bucket=BUCKET, endpoint_url=s3_endpoint, region="us-east-1", clock=clock)


async def put(store: S3Store, tmp_path: Path, key: str) -> None:
    upload = tmp_path / "upload"
    upload.write_bytes(MP4)
    await store.put(upload, key, content_type="video/mp4")


async def test_a_presigned_link_serves_the_same_bytes(store: S3Store, tmp_path: Path, clock: FakeClock) -> None:
    until = clock() + timedelta(days=2)
    key = store.key_for("f" * 64, ".mp4", until=until)
    assert key == "media/" + "f" * 64 + ".mp4"
    await put(store, tmp_path, key)
    assert await store.exists(key)
    link = store.link(key, until=until)
    assert "X-Amz-Signature=" in link
    assert "X-Amz-Expires=172800" in link
    async with httpx.AsyncClient() as http:
        response = await http.get(link)
        assert response.status_code == 200
        assert response.content == MP4
        assert response.headers["Content-Type"] == "video/mp4"
        unsigned = await http.get(link.split("?")[0])
        assert unsigned.status_code == 403  # the object itself is private


async def test_further_ahead_than_a_presigned_link_lives_gets_an_unguessable_public_object(
    store: S3Store, tmp_path: Path, clock: FakeClock
) -> None:
    until = clock() + timedelta(days=30)
    key = store.key_for("f" * 64, ".mp4", until=until)
    assert key.startswith("public/")
    assert "f" * 64 not in key  # not derivable from the content
    assert key != store.key_for("f" * 64, ".mp4", until=until)
    await put(store, tmp_path, key)
    link = store.link(key, until=until)
    assert "X-Amz-Signature" not in link
    async with httpx.AsyncClient() as http:
        assert (await http.get(link)).content == MP4


async def test_public_objects_are_linked_at_the_buckets_public_address_when_one_is_set(
    s3_endpoint: str, tmp_path: Path, clock: FakeClock
) -> None:
    public_url = f"{s3_endpoint}/{BUCKET}"  # stands in for an R2 public bucket domain, which serves keys at its root
    store = S3Store(bucket=BUCKET, endpoint_url=s3_endpoint, region="us-east-1", public_url=public_url, clock=clock)
    until = clock() + timedelta(days=30)
    key = store.key_for("f" * 64, ".mp4", until=until)
    await put(store, tmp_path, key)
    link = store.link(key, until=until)
    assert link == f"{public_url}/{key}"
    async with httpx.AsyncClient() as http:
        assert (await http.get(link)).content == MP4
    assert "X-Amz-Signature=" in store.link("media/" + "f" * 64 + ".mp4", until=clock() + timedelta(days=2))


async def test_keys_delete_and_copy(store: S3Store, tmp_path: Path) -> None:
    key = "media/" + "e" * 64 + ".mp4"
    await put(store, tmp_path, key)
    await store.copy(key, "public/" + "x" * 32 + ".mp4")
    assert await store.keys() == {key, "public/" + "x" * 32 + ".mp4"}
    await store.delete(key)
    assert not await store.exists(key)


async def test_objects_the_bot_did_not_write_are_never_listed_or_swept(store: S3Store, s3_endpoint: str) -> None:
    s3 = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    s3.put_object(Bucket=BUCKET, Key="IMG_20240101_123456.jpg", Body=b"someone else's photo")
    s3.put_object(Bucket=BUCKET, Key="backups/" + "a" * 64 + ".mp4", Body=b"not ours")
    assert await store.keys() == set()
