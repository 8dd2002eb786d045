"""The two ways writing XMP into a photo's own bytes can fail.

``ContainerError``: the file's structure is broken (a truncated chunk, a box running past the end);
the photo gets one per-file error. ``NotInPlace``: the file is sound but its container cannot be
edited without risk (BigTIFF, a HEIF with a movie track, an MPO index); its names go to a sidecar
and the report says why.
"""
from __future__ import annotations


class ContainerError(ValueError):
    """A photo whose container (JPEG segments, PNG chunks, RIFF, TIFF IFDs, ISO-BMFF boxes) is broken."""


class NotInPlace(Exception):  # noqa: N818 - a decision, not a failure: the caller writes a sidecar
    """This file can be read but not safely rewritten in place; ``reason`` is short, for people."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
