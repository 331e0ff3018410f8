"""The chunked AES-256-GCM format: round trips, and every kind of tampering fails to decrypt."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vault.domain.crypto import (
    HEADER_SIZE,
    TAG_SIZE,
    ChunkDecryptor,
    ChunkEncryptor,
    DocumentIdentity,
    KeyRing,
    new_data_key,
)
from vault.domain.errors import DecryptionFailed, UnknownKey

CHUNK = 32
IDENTITY = DocumentIdentity("creditor-1", "case-1", "doc-1", 1)
plaintexts = st.binary(min_size=0, max_size=CHUNK * 6)
multi_chunk = st.binary(min_size=CHUNK * 2 + 1, max_size=CHUNK * 6)


def seal(key: bytes, identity: DocumentIdentity, plaintext: bytes, chunk_size: int) -> bytes:
    """A whole object, sealed by the vault's streaming encryptor in one piece."""
    encryptor = ChunkEncryptor(key, identity, chunk_size)
    return encryptor.header + b"".join(encryptor.update(plaintext)) + encryptor.finalize()


def unseal(key: bytes, identity: DocumentIdentity, sealed: bytes) -> bytes:
    """A whole plaintext, opened by the vault's streaming decryptor in one piece."""
    decryptor = ChunkDecryptor(key, identity)
    return b"".join(decryptor.update(sealed)) + decryptor.finalize()


def chunks_of(sealed: bytes) -> tuple[bytes, list[bytes]]:
    body = sealed[HEADER_SIZE:]
    block = CHUNK + TAG_SIZE
    return sealed[:HEADER_SIZE], [body[i : i + block] for i in range(0, len(body), block)]


@given(
    plaintext=plaintexts,
    fed=st.integers(min_value=1, max_value=50),
    split=st.integers(min_value=1, max_value=50),
)
def test_round_trip_whatever_the_piece_sizes(plaintext: bytes, fed: int, split: int) -> None:
    key = new_data_key()
    encryptor = ChunkEncryptor(key, IDENTITY, CHUNK)
    sealed = encryptor.header + b"".join(
        b"".join(encryptor.update(plaintext[i : i + fed])) for i in range(0, len(plaintext), fed)
    )
    sealed += encryptor.finalize()
    # The chunks are the same whatever the feeding: only their nonce prefix differs.
    assert len(sealed) == len(seal(key, IDENTITY, plaintext, CHUNK))
    decryptor = ChunkDecryptor(key, IDENTITY)
    out = b"".join(
        b"".join(decryptor.update(sealed[i : i + split])) for i in range(0, len(sealed), split)
    )
    assert out + decryptor.finalize() == plaintext
    # Longer than a chance match could be: the plaintext never shows in the object.
    assert len(plaintext) < 16 or plaintext not in sealed


@settings(max_examples=60)
@given(plaintext=plaintexts, data=st.data())
def test_flipping_any_byte_fails(plaintext: bytes, data: st.DataObject) -> None:
    key = new_data_key()
    sealed = bytearray(seal(key, IDENTITY, plaintext, CHUNK))
    position = data.draw(st.integers(min_value=0, max_value=len(sealed) - 1))
    bit = data.draw(st.integers(min_value=0, max_value=7))
    sealed[position] ^= 1 << bit
    with pytest.raises(DecryptionFailed):
        unseal(key, IDENTITY, bytes(sealed))


@settings(max_examples=60)
@given(plaintext=plaintexts, data=st.data())
def test_any_truncation_fails(plaintext: bytes, data: st.DataObject) -> None:
    key = new_data_key()
    sealed = seal(key, IDENTITY, plaintext, CHUNK)
    cut = data.draw(st.integers(min_value=0, max_value=len(sealed) - 1))
    with pytest.raises(DecryptionFailed):
        unseal(key, IDENTITY, sealed[:cut])


@given(plaintext=multi_chunk)
def test_dropping_whole_final_chunks_fails(plaintext: bytes) -> None:
    key = new_data_key()
    header, chunks = chunks_of(seal(key, IDENTITY, plaintext, CHUNK))
    for keep in range(1, len(chunks)):
        with pytest.raises(DecryptionFailed):
            unseal(key, IDENTITY, header + b"".join(chunks[:keep]))


@given(plaintext=multi_chunk, data=st.data())
def test_dropping_any_chunk_from_the_middle_fails(plaintext: bytes, data: st.DataObject) -> None:
    key = new_data_key()
    header, chunks = chunks_of(seal(key, IDENTITY, plaintext, CHUNK))
    dropped = data.draw(st.integers(min_value=0, max_value=len(chunks) - 2))
    with pytest.raises(DecryptionFailed):
        unseal(key, IDENTITY, header + b"".join(c for i, c in enumerate(chunks) if i != dropped))


# Written by the vault as it was at 7ae2200 (before the streaming rework): 36 bytes in chunks
# of 16 under the data key bytes(range(32)). Objects already stored must stay readable.
OLD_OBJECT = bytes.fromhex(
    "52564c540100000010a83019c537754cbf4a5ab6e059b46573c64773237d85e81eb47698e71ac56bde7cfe03"
    "96419bc358eae9bea1b17eaa70b9d0f403c98c3d486bebfa35b307103a8c18268def38ae9d5aa226a63bb45f"
    "a477798c8a45e46649501aca"
)
OLD_IDENTITY = DocumentIdentity("creditor-1", "case-1", "0b7c1f2a-0000-4000-8000-000000000001", 1)


@given(piece=st.integers(min_value=1, max_value=len(OLD_OBJECT)))
def test_an_object_stored_before_the_streaming_rework_still_reads(piece: int) -> None:
    decryptor = ChunkDecryptor(bytes(range(32)), OLD_IDENTITY)
    opened = [
        plain
        for start in range(0, len(OLD_OBJECT), piece)
        for plain in decryptor.update(OLD_OBJECT[start : start + piece])
    ]
    assert b"".join(opened) + decryptor.finalize() == b"Facture 2026-0042: 1 234,56 EUR due."


def test_chunks_fed_whole_are_sealed_without_waiting_for_more_than_the_next() -> None:
    """A chunk-sized piece is sealed as soon as the next piece shows it is not the last."""
    key = new_data_key()
    encryptor = ChunkEncryptor(key, IDENTITY, CHUNK)
    pieces = [bytes([n]) * CHUNK for n in range(3)]
    sealed = [encryptor.update(piece) for piece in pieces]
    assert [len(s) for s in sealed] == [0, 1, 1]
    body = b"".join(c for s in sealed for c in s) + encryptor.finalize()
    assert unseal(key, IDENTITY, encryptor.header + body) == b"".join(pieces)


@given(plaintext=multi_chunk, data=st.data())
def test_reordering_chunks_fails(plaintext: bytes, data: st.DataObject) -> None:
    key = new_data_key()
    header, chunks = chunks_of(seal(key, IDENTITY, plaintext, CHUNK))
    order = data.draw(st.permutations(range(len(chunks))))
    if list(order) == sorted(order):
        order = [1, 0, *range(2, len(chunks))]
    with pytest.raises(DecryptionFailed):
        unseal(key, IDENTITY, header + b"".join(chunks[i] for i in order))


identities = st.builds(
    DocumentIdentity,
    st.sampled_from(["creditor-1", "creditor-2"]),
    st.sampled_from(["case-1", "case-2"]),
    st.sampled_from(["doc-1", "doc-2"]),
    st.sampled_from([1, 2]),
)


@given(plaintext=plaintexts, other=identities)
def test_an_object_under_another_identity_fails(plaintext: bytes, other: DocumentIdentity) -> None:
    key = new_data_key()
    sealed = seal(key, IDENTITY, plaintext, CHUNK)
    if other == IDENTITY:
        assert unseal(key, other, sealed) == plaintext
        return
    with pytest.raises(DecryptionFailed):
        unseal(key, other, sealed)


@given(first=multi_chunk, second=multi_chunk, index=st.integers(min_value=0, max_value=1))
def test_splicing_a_chunk_from_another_document_fails(
    first: bytes, second: bytes, index: int
) -> None:
    # Even under the same data key and at the same position, the identity and prefix differ.
    key = new_data_key()
    other = DocumentIdentity("creditor-1", "case-1", "doc-2", 1)
    header, chunks = chunks_of(seal(key, IDENTITY, first, CHUNK))
    _, foreign = chunks_of(seal(key, other, second, CHUNK))
    chunks[index] = foreign[index]
    with pytest.raises(DecryptionFailed):
        unseal(key, IDENTITY, header + b"".join(chunks))


def ring() -> KeyRing:
    return KeyRing({"kek-1": new_data_key()}, "kek-1")


@given(other=identities)
def test_a_wrapped_key_swapped_to_another_document_fails(other: DocumentIdentity) -> None:
    keys = ring()
    data_key = new_data_key()
    wrapped = keys.wrap(data_key, IDENTITY)
    if other == IDENTITY:
        assert keys.unwrap(wrapped, other) == data_key
        return
    with pytest.raises(DecryptionFailed):
        keys.unwrap(wrapped, other)


def test_rotation_rewraps_without_touching_the_object() -> None:
    old = new_data_key()
    keys = KeyRing({"kek-1": old}, "kek-1")
    data_key = new_data_key()
    sealed = seal(data_key, IDENTITY, b"%PDF-1.7 evidence", CHUNK)
    wrapped = keys.wrap(data_key, IDENTITY)
    rotated = KeyRing({"kek-1": old, "kek-2": new_data_key()}, "kek-2")
    rewrapped = rotated.rewrap(wrapped, IDENTITY)
    assert rewrapped.key_id == "kek-2"
    retired = KeyRing({"kek-2": rotated._keys["kek-2"]}, "kek-2")
    assert unseal(retired.unwrap(rewrapped, IDENTITY), IDENTITY, sealed) == (b"%PDF-1.7 evidence")
    with pytest.raises(UnknownKey):
        retired.unwrap(wrapped, IDENTITY)


def test_a_data_key_is_256_bits_and_fresh() -> None:
    assert len(new_data_key()) == 32
    assert new_data_key() != new_data_key()
