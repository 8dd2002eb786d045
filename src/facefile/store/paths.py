"""How file paths are stored: relative to the library root, non-UTF-8 bytes escaped."""
from __future__ import annotations

import re


def stored_path(path: str) -> str:
    """How a file path is written to SQLite. A file name that is not UTF-8 reaches Python with its
    undecodable bytes as lone surrogates (PEP 383), which SQLite cannot store: those bytes are
    written as ``\\xNN`` escapes instead, readable in `facefile errors` and exports."""
    try:
        path.encode("utf-8")
        return path
    except UnicodeEncodeError:
        try:
            return path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        except UnicodeEncodeError:  # a surrogate no file system produced: keep it visible
            return path.encode("utf-8", "backslashreplace").decode("utf-8")


_ESCAPED_BYTE = re.compile(r"\\x([89a-f][0-9a-f])")


def disk_path(stored: str) -> str:
    """The inverse of ``stored_path``: the name as ``os`` functions and discovery give it. (A UTF-8
    name that literally contains ``\\x80``..``\\xff`` is misread; no camera writes such names.)"""
    if "\\x" not in stored:
        return stored
    return _ESCAPED_BYTE.sub(lambda m: chr(0xDC00 + int(m[1], 16)), stored)
