"""Ciphertext on S3-compatible storage through the `minio` client, streamed both ways.

The minio client is synchronous: its calls run in worker threads. An upload pulls its bytes
from the caller's async iterator one part at a time, so at most about one multipart part is
held in memory, whatever the size of the document.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections.abc import AsyncIterator, Coroutine, Sequence
from datetime import UTC, datetime
from typing import Any

from minio import Minio
from minio.commonconfig import CopySource
from minio.deleteobjects import DeleteObject
from minio.error import S3Error

from vault.domain.errors import IntegrityError
from vault.domain.orphans import StoredObject, quarantine_name

READ_SIZE = 1024 * 1024
_UNKNOWN = datetime.max.replace(tzinfo=UTC)


class _PullReader:
    """A blocking file-like `read` (for minio's thread) over an async iterator on the loop."""

    def __init__(self, chunks: AsyncIterator[bytes], loop: asyncio.AbstractEventLoop) -> None:
        self._chunks = chunks
        self._loop = loop
        self._buffer = bytearray()
        self._eof = False
        self.total = 0

    async def _next(self) -> bytes | None:
        try:
            return await anext(self._chunks)
        except StopAsyncIteration:
            return None

    def _run(self, coroutine: Coroutine[Any, Any, bytes | None]) -> bytes | None:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result()

    def read(self, size: int = -1) -> bytes:
        while not self._eof and (size < 0 or len(self._buffer) < size):
            piece = self._run(self._next())
            if piece is None:
                self._eof = True
            else:
                self._buffer += piece
        cut = len(self._buffer) if size < 0 else min(size, len(self._buffer))
        # One copy out of the buffer (a slice then bytes() would make two part-sized copies).
        with memoryview(self._buffer) as view:
            data = bytes(view[:cut])
        del self._buffer[:cut]
        self.total += len(data)
        return data


class S3ObjectStore:
    """One bucket of an S3-compatible store."""

    def __init__(self, client: Minio, bucket: str, part_size: int) -> None:
        self.client = client
        self.bucket = bucket
        self.part_size = part_size
        self._bucket_ready = False
        self._lock = threading.Lock()

    @classmethod
    def connect(
        cls,
        endpoint: str,
        access_key: str,
        secret_key: str,
        bucket: str,
        *,
        secure: bool = False,
        region: str | None = None,
        part_size: int = 8 * 1024 * 1024,
    ) -> S3ObjectStore:
        """A store on `endpoint` (no request is made until first use)."""
        client = Minio(
            endpoint, access_key=access_key, secret_key=secret_key, secure=secure, region=region
        )
        return cls(client, bucket, part_size)

    def _ensure_bucket(self) -> None:
        with self._lock:
            if self._bucket_ready:
                return
            if not self.client.bucket_exists(self.bucket):
                try:
                    self.client.make_bucket(self.bucket)
                except S3Error as exc:
                    if exc.code not in {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}:
                        raise
            self._bucket_ready = True

    def _put(self, name: str, reader: _PullReader) -> None:
        self._ensure_bucket()
        self.client.put_object(
            self.bucket,
            name,
            reader,  # type: ignore[arg-type]
            length=-1,
            part_size=self.part_size,
            content_type="application/octet-stream",
        )

    async def put_stream(self, name: str, chunks: AsyncIterator[bytes]) -> int:
        """Store the bytes of `chunks` under `name`; returns how many were stored.

        When `chunks` raises, the upload is abandoned (minio aborts a started multipart upload)
        and nothing is left under `name`.
        """
        reader = _PullReader(chunks, asyncio.get_running_loop())
        await asyncio.to_thread(self._put, name, reader)
        return reader.total

    async def get_stream(self, name: str) -> AsyncIterator[bytes]:
        """The stored bytes of `name`, in pieces; IntegrityError when the object is missing."""
        try:
            response = await asyncio.to_thread(self.client.get_object, self.bucket, name)
        except S3Error as exc:
            if exc.code == "NoSuchKey":
                raise IntegrityError(f"stored object {name} is missing") from exc
            raise
        # One read ahead: the next piece comes off the network while this one is decrypted.
        pending = asyncio.ensure_future(asyncio.to_thread(response.read, READ_SIZE))
        try:
            while True:
                piece = await pending
                if not piece:
                    return
                pending = asyncio.ensure_future(asyncio.to_thread(response.read, READ_SIZE))
                yield piece
        finally:
            # Let a read in flight finish (at most one piece) before closing under its thread.
            await asyncio.gather(pending, return_exceptions=True)
            response.close()
            response.release_conn()

    async def delete(self, name: str) -> None:
        """Remove `name` (no error when it is already gone)."""
        await asyncio.to_thread(self.client.remove_object, self.bucket, name)

    def _remove(self, names: Sequence[str]) -> set[str]:
        errors = self.client.remove_objects(self.bucket, [DeleteObject(name) for name in names])
        return {str(error.name) for error in errors}

    async def delete_many(self, names: Sequence[str]) -> set[str]:
        """Remove `names` in bulk requests; returns those the store refused to delete."""
        if not names:
            return set()
        return await asyncio.to_thread(self._remove, names)

    def _move(self, names: Sequence[str]) -> set[str]:
        refused: set[str] = set()
        for name in names:
            try:
                # A copy is dated when it is made: the retention counts from the quarantine.
                self.client.copy_object(
                    self.bucket, quarantine_name(name), CopySource(self.bucket, name)
                )
            except S3Error:
                refused.add(name)
        moved = [name for name in names if name not in refused]
        return refused | (self._remove(moved) if moved else set())

    async def quarantine(self, names: Sequence[str]) -> set[str]:
        """Copy each name under the quarantine prefix, then remove it; returns those not moved."""
        if not names:
            return set()
        return await asyncio.to_thread(self._move, names)

    def _page(self, after: str | None, size: int, prefix: str) -> list[StoredObject]:
        listing = self.client.list_objects(
            self.bucket, prefix=prefix or None, recursive=True, start_after=after
        )
        try:
            return [
                # An object of unknown age counts as brand new: never old enough to sweep.
                StoredObject(str(o.object_name), int(o.size or 0), o.last_modified or _UNKNOWN)
                for o in itertools.islice(listing, size)
            ]
        except S3Error as exc:
            if exc.code == "NoSuchBucket":
                return []
            raise

    async def list_pages(
        self, page_size: int, *, prefix: str = ""
    ) -> AsyncIterator[list[StoredObject]]:
        """Every object of the bucket (under `prefix`) in name order, `page_size` at a time.

        Each page is its own listing from after the last name seen, so memory stays at one page
        and objects deleted from earlier pages do not shift the later ones.
        """
        after: str | None = None
        while True:
            page = await asyncio.to_thread(self._page, after, page_size, prefix)
            if not page:
                return
            yield page
            after = page[-1].name
