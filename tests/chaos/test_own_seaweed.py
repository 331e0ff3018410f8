"""The harness's own SeaweedFS survives its `s3-crash` fault (SIGKILL, then the stack script
starts it again on the same ports and state): an object stored before the crash reads back the
same after it, and the shared dev stack's S3 is never the one killed."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from minio import Minio
from urllib3.exceptions import MaxRetryError

from tests.chaos.own_seaweed import OwnSeaweed
from tests.support.stack import Stack, unique_name

pytestmark = pytest.mark.integration


@pytest.fixture
def seaweed(tmp_path: Path) -> Iterator[OwnSeaweed]:
    server = OwnSeaweed(tmp_path / "seaweedfs").start()
    yield server
    server.stop()


def client(stack: Stack) -> Minio:
    return Minio(
        stack.s3_endpoint,
        access_key=stack.s3_access_key,
        secret_key=stack.s3_secret_key,
        secure=False,
    )


def test_an_object_stored_before_a_crash_reads_back_after_the_restart(
    seaweed: OwnSeaweed, stack: Stack
) -> None:
    own = client(seaweed.stack(stack))
    assert seaweed.stack(stack).s3_endpoint != stack.s3_endpoint
    bucket = unique_name("own-s3").replace("_", "-")
    own.make_bucket(bucket)
    body = os.urandom(100_000)
    own.put_object(bucket, "evidence.bin", io.BytesIO(body), len(body))
    pid = int(seaweed.pid_file.read_text())

    seaweed.crash()
    with pytest.raises(MaxRetryError):  # nothing answers on its port any more
        own.bucket_exists(bucket)
    seaweed.start()

    assert int(seaweed.pid_file.read_text()) != pid
    assert own.get_object(bucket, "evidence.bin").read() == body
    assert client(stack).list_buckets() is not None  # the shared S3 still answers
