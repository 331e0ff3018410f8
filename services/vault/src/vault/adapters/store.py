"""Ciphertext on S3-compatible storage through the `minio` client, streamed both ways.

The minio client is synchronous: its calls run in worker threads. An upload gathers the
caller's pieces into parts on the event loop and hands each part to a thread, so the next part
is received and sealed while the previous ones travel to the store: at most `UPLOADS_IN_FLIGHT`
parts travel at once and one is being gathered, whatever the size of the document. A document
that fits in one part is one PUT.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from typing import cast

from minio import Minio
from minio.commonconfig import CopySource
from minio.datatypes import Part
from minio.deleteobjects import DeleteObject
from minio.error import S3Error

from vault.domain.errors import IntegrityError
from vault.domain.orphans import StoredObject, quarantine_name

READ_SIZE = 1024 * 1024
UPLOADS_IN_FLIGHT = 2
_CONTENT_TYPE = {"Content-Type": "application/octet-stream"}
_UNKNOWN = datetime.max.replace(tzinfo=UTC)


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

    async def _parts(self, chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
        """The pieces of `chunks` gathered into parts of at least `part_size` bytes.

        Each piece is copied into its part as it arrives and dropped at once, so a part is
        never held twice (as its pieces and joined).
        """
        part = bytearray()
        gathered = 0
        async for piece in chunks:
            part += piece
            if len(part) >= self.part_size:
                gathered += 1
                # Sent as it is: minio, urllib3 and hashlib take any bytes-like body.
                yield cast(bytes, part)
                part = bytearray()
        if part or not gathered:
            yield cast(bytes, part)

    async def put_stream(self, name: str, chunks: AsyncIterator[bytes]) -> int:
        """Store the bytes of `chunks` under `name`; returns how many were stored.

        When `chunks` raises (or the store refuses a part), the parts on their way are awaited,
        the multipart upload is aborted and nothing is left under `name`.
        """
        if not self._bucket_ready:
            await asyncio.to_thread(self._ensure_bucket)
        parts = aiter(self._parts(chunks))
        ahead = [await anext(parts)]
        second = await anext(parts, None)
        if second is None:
            await asyncio.to_thread(
                self.client._put_object, self.bucket, name, ahead[0], dict(_CONTENT_TYPE)
            )
            return len(ahead[0])
        ahead.append(second)
        del second
        upload_id = await asyncio.to_thread(
            self.client._create_multipart_upload, self.bucket, name, dict(_CONTENT_TYPE)
        )
        travelling: dict[asyncio.Task[str], int] = {}
        etags: dict[int, str] = {}
        total = 0

        async def land(limit: int) -> None:
            while len(travelling) > limit:
                done, _ = await asyncio.wait(travelling, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    etags[travelling.pop(task)] = task.result()

        async def each_part() -> AsyncIterator[bytes]:
            while ahead:
                yield ahead.pop(0)
            async for part in parts:
                yield part

        try:
            number = 0
            async for part in each_part():
                await land(UPLOADS_IN_FLIGHT - 1)
                number += 1
                total += len(part)
                task = asyncio.ensure_future(
                    asyncio.to_thread(
                        self.client._upload_part, self.bucket, name, part, None, upload_id, number
                    )
                )
                travelling[task] = number
                del part
            await land(0)
            await asyncio.to_thread(
                self.client._complete_multipart_upload,
                self.bucket,
                name,
                upload_id,
                [Part(n, etags[n]) for n in sorted(etags)],
            )
        except BaseException:
            await asyncio.shield(self._abort(name, upload_id, list(travelling)))
            raise
        return total

    async def _abort(self, name: str, upload_id: str, travelling: list[asyncio.Task[str]]) -> None:
        """Let the parts on their way land, then abort the upload (its parts are discarded)."""
        await asyncio.gather(*travelling, return_exceptions=True)
        await asyncio.to_thread(self.client._abort_multipart_upload, self.bucket, name, upload_id)

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
