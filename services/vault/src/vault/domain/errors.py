"""The vault's errors; entrypoints translate them to status codes."""


class VaultError(Exception):
    """Base of every vault error."""


class InvalidField(VaultError):
    """Bad input: the message names the field and the rule."""


class DocumentNotFound(VaultError):
    """Missing, or not visible to the caller: both answer the same."""


class DocumentShredded(VaultError):
    """The document's data key was destroyed; its content is gone for good."""


class IntegrityError(VaultError):
    """Stored bytes do not decrypt or do not match their recorded hash."""


class DecryptionFailed(IntegrityError):
    """Ciphertext, header or wrapped key does not authenticate for this document."""


class UnknownKey(VaultError):
    """A wrapped key names a key-encryption key the key ring does not hold."""


class PermissionDenied(VaultError):
    """The caller sees the document but may not do this to it."""
