"""Envelope encryption of documents: a chunked AES-256-GCM stream and wrapped data keys.

The object format (version 1) is a 16-byte header followed by chunks:

    header  = b"RVLT" | format version (1 byte) | chunk size (4 bytes) | nonce prefix (7 bytes)
    chunk_i = AES-256-GCM(data key, nonce_i, plaintext_i, ad_i)      (ciphertext + 16-byte tag)
    nonce_i = nonce prefix | i (4 bytes, big-endian) | final flag (1 byte)
    ad_i    = header | document identity | i | final flag

Every chunk but the last holds exactly `chunk size` plaintext bytes; the last holds 0 to
`chunk size`. This is the STREAM construction (Hoang et al., 2015): the counter authenticates
the order, the final flag authenticates the end (so truncation at a chunk boundary fails), and the
identity in the associated data ties every chunk to one tenant, case, document and version (so
chunks spliced from another document, or a whole object copied under another id, fail).

The wrapped data key is not in the header on purpose: the documents table holds the only copy,
so rotating the key-encryption key re-wraps it without touching the object, and destroying it
(crypto-shredding) leaves no second copy behind in the store.
"""

from __future__ import annotations

import os
import struct
from collections import deque
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from vault.domain.errors import DecryptionFailed, UnknownKey

FORMAT_VERSION = 1
MAGIC = b"RVLT"
_HEADER = struct.Struct(">4sBI7s")
HEADER_SIZE = _HEADER.size
TAG_SIZE = 16
NONCE_PREFIX_SIZE = 7
DEFAULT_CHUNK_SIZE = 1024 * 1024
MAX_CHUNK_SIZE = 16 * 1024 * 1024
_MAX_CHUNKS = 2**32
_KEY_BYTES = 32
_WRAP_NONCE_SIZE = 12
_WRAP_LABEL = b"recouvra-vault-data-key\x00"


@dataclass(frozen=True)
class DocumentIdentity:
    """What a ciphertext and its wrapped key are bound to."""

    tenant_id: str
    case_id: str
    document_id: str
    version: int

    def encode(self) -> bytes:
        """Unambiguous bytes: each field length-prefixed, so no two identities collide."""
        parts = [self.tenant_id, self.case_id, self.document_id]
        encoded = b"".join(
            struct.pack(">I", len(raw)) + raw for raw in (p.encode("utf-8") for p in parts)
        )
        return encoded + struct.pack(">I", self.version)


def new_data_key() -> bytes:
    """A fresh random 256-bit data key."""
    return AESGCM.generate_key(bit_length=256)


def _nonce(prefix: bytes, index: int, final: bool) -> bytes:
    return prefix + struct.pack(">IB", index, int(final))


def _associated_data(header: bytes, identity: bytes, index: int, final: bool) -> bytes:
    return header + identity + struct.pack(">IB", index, int(final))


Bytes = bytes | memoryview


class _Pending:
    """Bytes fed in pieces and taken out in runs of a given size.

    A run that lies inside one piece is a view of it, not a copy: with pieces the size of a
    chunk (what the vault's clients send and its store reads), nothing is copied before the
    cipher. A run across pieces is joined once.
    """

    def __init__(self) -> None:
        self._pieces: deque[memoryview] = deque()
        self.size = 0

    def add(self, data: Bytes) -> None:
        if data:
            self._pieces.append(memoryview(data).cast("B"))
            self.size += len(data)

    def take(self, n: int) -> Bytes:
        """The next `n` bytes (the caller checked that `size` holds them)."""
        if n == 0:
            return b""
        self.size -= n
        first = self._pieces[0]
        if len(first) >= n:
            if len(first) == n:
                self._pieces.popleft()
            else:
                self._pieces[0] = first[n:]
            return first[:n]
        runs: list[memoryview] = []
        while n:
            piece = self._pieces.popleft()
            if len(piece) > n:
                self._pieces.appendleft(piece[n:])
                piece = piece[:n]
            runs.append(piece)
            n -= len(piece)
        return b"".join(runs)


class ChunkEncryptor:
    """Encrypts a byte stream fed in pieces of any size into the chunked format."""

    def __init__(
        self, data_key: bytes, identity: DocumentIdentity, chunk_size: int = DEFAULT_CHUNK_SIZE
    ) -> None:
        if not 1 <= chunk_size <= MAX_CHUNK_SIZE:
            raise ValueError(f"chunk_size: must be between 1 and {MAX_CHUNK_SIZE} bytes")
        self._aead = AESGCM(data_key)
        self._identity = identity.encode()
        self._chunk_size = chunk_size
        self._prefix = os.urandom(NONCE_PREFIX_SIZE)
        self.header = _HEADER.pack(MAGIC, FORMAT_VERSION, chunk_size, self._prefix)
        self._pending = _Pending()
        self._index = 0
        self._finished = False

    def _seal(self, plaintext: Bytes, final: bool) -> bytes:
        if self._index >= _MAX_CHUNKS:
            raise ValueError("document too large for the chunk counter")
        nonce = _nonce(self._prefix, self._index, final)
        ad = _associated_data(self.header, self._identity, self._index, final)
        self._index += 1
        return self._aead.encrypt(nonce, plaintext, ad)

    def update(self, data: Bytes) -> list[bytes]:
        """Sealed chunks now complete; a full chunk waits until more data proves it is not last."""
        if self._finished:
            raise ValueError("encryptor already finalized")
        self._pending.add(data)
        sealed = []
        while self._pending.size > self._chunk_size:
            sealed.append(self._seal(self._pending.take(self._chunk_size), final=False))
        return sealed

    def finalize(self) -> bytes:
        """The last chunk, marked final (it may hold no plaintext at all)."""
        if self._finished:
            raise ValueError("encryptor already finalized")
        self._finished = True
        return self._seal(self._pending.take(self._pending.size), final=True)


class ChunkDecryptor:
    """Decrypts the chunked format fed in pieces of any size; tampering raises DecryptionFailed."""

    def __init__(self, data_key: bytes, identity: DocumentIdentity) -> None:
        self._aead = AESGCM(data_key)
        self._identity = identity.encode()
        self._pending = _Pending()
        self._header: bytes | None = None
        self._prefix = b""
        self._block = 0
        self._index = 0
        self._finished = False

    def _read_header(self) -> None:
        header = bytes(self._pending.take(HEADER_SIZE))
        magic, version, chunk_size, prefix = _HEADER.unpack(header)
        if magic != MAGIC or version != FORMAT_VERSION or not 1 <= chunk_size <= MAX_CHUNK_SIZE:
            raise DecryptionFailed("not a vault object of a known format version")
        self._header, self._prefix, self._block = header, prefix, chunk_size + TAG_SIZE

    def _open(self, sealed: Bytes, final: bool) -> bytes:
        assert self._header is not None
        nonce = _nonce(self._prefix, self._index, final)
        ad = _associated_data(self._header, self._identity, self._index, final)
        try:
            plaintext = self._aead.decrypt(nonce, sealed, ad)
        except InvalidTag as exc:
            raise DecryptionFailed(f"chunk {self._index} does not authenticate") from exc
        self._index += 1
        return plaintext

    def update(self, data: Bytes) -> list[bytes]:
        """Plaintext of the chunks now complete; the last block waits for `finalize`."""
        if self._finished:
            raise ValueError("decryptor already finalized")
        self._pending.add(data)
        if self._header is None:
            if self._pending.size < HEADER_SIZE:
                return []
            self._read_header()
        opened = []
        while self._pending.size > self._block:
            opened.append(self._open(self._pending.take(self._block), final=False))
        return opened

    def finalize(self) -> bytes:
        """Plaintext of the final chunk; DecryptionFailed when the stream was cut short."""
        if self._finished:
            raise ValueError("decryptor already finalized")
        self._finished = True
        if self._header is None or self._pending.size < TAG_SIZE:
            raise DecryptionFailed("object is truncated")
        return self._open(self._pending.take(self._pending.size), final=True)


@dataclass(frozen=True)
class WrappedKey:
    """A data key encrypted under the key-encryption key `key_id`."""

    key_id: str
    blob: bytes


def _wrap_ad(key_id: str, identity: DocumentIdentity) -> bytes:
    return _WRAP_LABEL + key_id.encode("utf-8") + b"\x00" + identity.encode()


class KeyRing:
    """Key-encryption keys by id, one of them active for new wraps (local key source)."""

    def __init__(self, keys: dict[str, bytes], active_key_id: str) -> None:
        if active_key_id not in keys:
            raise ValueError(f"active_key_id: {active_key_id!r} is not in the key ring")
        for key_id, key in keys.items():
            if len(key) != _KEY_BYTES:
                raise ValueError(f"key {key_id!r}: a key-encryption key must be 32 bytes")
        self._keys = dict(keys)
        self.active_key_id = active_key_id

    def raw_keys(self) -> dict[str, bytes]:
        """The key bytes by id (for the key source's own checks, never to leave it)."""
        return dict(self._keys)

    @property
    def key_ids(self) -> tuple[str, ...]:
        """Every key id the ring can unwrap with."""
        return tuple(self._keys)

    def wrap(self, data_key: bytes, identity: DocumentIdentity) -> WrappedKey:
        """Wrap with the active key (AES-256-GCM, the document identity as associated data)."""
        key_id = self.active_key_id
        nonce = os.urandom(_WRAP_NONCE_SIZE)
        sealed = AESGCM(self._keys[key_id]).encrypt(nonce, data_key, _wrap_ad(key_id, identity))
        return WrappedKey(key_id=key_id, blob=nonce + sealed)

    def unwrap(self, wrapped: WrappedKey, identity: DocumentIdentity) -> bytes:
        """The data key; DecryptionFailed when the wrap belongs to another document."""
        kek = self._keys.get(wrapped.key_id)
        if kek is None:
            raise UnknownKey(f"key id {wrapped.key_id!r} is not in the key ring")
        nonce, sealed = wrapped.blob[:_WRAP_NONCE_SIZE], wrapped.blob[_WRAP_NONCE_SIZE:]
        try:
            return AESGCM(kek).decrypt(nonce, sealed, _wrap_ad(wrapped.key_id, identity))
        except InvalidTag as exc:
            raise DecryptionFailed("wrapped data key does not belong to this document") from exc

    def rewrap(self, wrapped: WrappedKey, identity: DocumentIdentity) -> WrappedKey:
        """The same data key wrapped under the active key (key rotation)."""
        return self.wrap(self.unwrap(wrapped, identity), identity)
