"""The vault's refusals: the platform's own, turned into status codes once, at the edge."""

from __future__ import annotations

from recouvra_shared.errors import DataLoss, Gone, InvalidField, NotFound, PermissionDenied

__all__ = [
    "DecryptionFailed",
    "DocumentNotFound",
    "DocumentShredded",
    "IntegrityError",
    "InvalidField",
    "PermissionDenied",
    "UnknownKey",
]


class DocumentNotFound(NotFound):
    """Missing, or not visible to the caller: both answer the same."""


class DocumentShredded(Gone):
    """The document's data key was destroyed; its content is gone for good."""


class IntegrityError(DataLoss):
    """Stored bytes do not decrypt or do not match their recorded hash."""


class DecryptionFailed(IntegrityError):
    """Ciphertext, header or wrapped key does not authenticate for this document."""


class UnknownKey(DataLoss):
    """A wrapped key names a key-encryption key the key ring does not hold."""
