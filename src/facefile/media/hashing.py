"""Content hashes: the identity of a photo that survives renames and moves, and finds exact copies."""
from __future__ import annotations

import hashlib
import os

from facefile.media.errors import MediaError, reason_for_os_error

# 16 bytes (128 bits) makes an accidental collision vanishingly unlikely for any photo collection,
# and keeps the hex id short enough to store in every row and show in logs.
_DIGEST_SIZE = 16


def hash_file(path: str | os.PathLike[str]) -> str:
    """The blake2b-128 hex digest of a file's bytes, read in chunks (memory stays flat for videos).

    >>> hash_file("IMG_0001.jpg")  # doctest: +SKIP
    '3f2a...'  # 32 hex characters
    """
    try:
        with open(path, "rb") as f:
            digest = hashlib.file_digest(f, lambda: hashlib.blake2b(digest_size=_DIGEST_SIZE))
    except OSError as exc:
        raise MediaError(path, reason_for_os_error(exc)) from exc
    return digest.hexdigest()
