"""Signed audit checkpoints anchored in their own S3 bucket, under Object Lock where supported.

The bucket is created with Object Lock (which turns versioning on) and each checkpoint is put
with a COMPLIANCE retention: until it expires nobody, the vault's own credentials included, can
delete or overwrite that version. A delete only adds a delete marker and a put only adds a
version, so the verifier reads every version of every checkpoint. SeaweedFS 4.48 supports this
(tests/integration/test_vault_audit_anchor.py proves it on the local stack); on a store without
Object Lock the bucket is plain, and the anchor only guards against losing the database.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import logging
import threading
from datetime import UTC, datetime, timedelta

from minio import Minio
from minio.commonconfig import COMPLIANCE
from minio.error import S3Error
from minio.retention import Retention

from vault.domain.audit import Checkpoint

log = logging.getLogger(__name__)

PREFIX = "checkpoints/"


def _name(seq: int) -> str:
    # Zero-padded, so name order is seq order.
    return f"{PREFIX}{seq:020d}.json"


def _encode(checkpoint: Checkpoint) -> bytes:
    return json.dumps(
        {
            "seq": checkpoint.seq,
            "entry_hash": checkpoint.entry_hash.hex(),
            "signature": base64.b64encode(checkpoint.signature).decode("ascii"),
        },
        sort_keys=True,
    ).encode("utf-8")


def _decode(raw: bytes) -> Checkpoint:
    content = json.loads(raw)
    return Checkpoint(
        int(content["seq"]),
        bytes.fromhex(content["entry_hash"]),
        base64.b64decode(content["signature"]),
    )


class S3AuditAnchor:
    """`AuditAnchor` on one bucket of an S3-compatible store."""

    def __init__(self, client: Minio, bucket: str, retention: timedelta) -> None:
        self.client = client
        self.bucket = bucket
        self.retention = retention
        self.locked: bool | None = None
        self._highest: int | None = None
        self._lock = threading.Lock()

    def _ensure_bucket(self) -> bool:
        with self._lock:
            if self.locked is not None:
                return self.locked
            if not self.client.bucket_exists(self.bucket):
                try:
                    self.client.make_bucket(self.bucket, object_lock=True)
                except S3Error as exc:
                    if exc.code in {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}:
                        pass
                    else:
                        log.warning(
                            "the store refused Object Lock on %s (%s): anchoring without it",
                            self.bucket,
                            exc.code,
                        )
                        self.client.make_bucket(self.bucket)
            try:
                self.client.get_object_lock_config(self.bucket)
                self.locked = True
            except S3Error:
                self.locked = False
            return self.locked

    def _put(self, checkpoint: Checkpoint) -> None:
        locked = self._ensure_bucket()
        body = _encode(checkpoint)
        retention = Retention(COMPLIANCE, datetime.now(UTC) + self.retention) if locked else None
        self.client.put_object(
            self.bucket,
            _name(checkpoint.seq),
            io.BytesIO(body),
            len(body),
            content_type="application/json",
            retention=retention,
        )

    async def anchor(self, checkpoint: Checkpoint) -> None:
        """Put the checkpoint, locked for the retention period where the bucket allows it."""
        await asyncio.to_thread(self._put, checkpoint)
        self._highest = max(self._highest or 0, checkpoint.seq)

    def _scan_highest(self) -> int:
        self._ensure_bucket()
        names = [
            str(o.object_name)
            for o in self.client.list_objects(self.bucket, prefix=PREFIX, recursive=True)
        ]
        return max((int(n.removeprefix(PREFIX).split(".")[0]) for n in names), default=0)

    async def highest_seq(self) -> int:
        """The latest anchored seq (listed once, then remembered)."""
        if self._highest is None:
            self._highest = await asyncio.to_thread(self._scan_highest)
        return self._highest

    def _read_all(self) -> list[Checkpoint]:
        if not self.client.bucket_exists(self.bucket):
            return []
        found: list[Checkpoint] = []
        for listed in self.client.list_objects(
            self.bucket, prefix=PREFIX, recursive=True, include_version=True
        ):
            if listed.is_delete_marker:
                continue
            response = self.client.get_object(
                self.bucket, str(listed.object_name), version_id=listed.version_id
            )
            try:
                found.append(_decode(response.read()))
            except (ValueError, KeyError, TypeError):
                log.error("anchored object %s is not a checkpoint", listed.object_name)
            finally:
                response.close()
                response.release_conn()
        return found

    async def anchored(self) -> list[Checkpoint]:
        """Every version of every anchored checkpoint, delete markers looked through."""
        return await asyncio.to_thread(self._read_all)
