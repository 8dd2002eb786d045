"""The library: SQLite store of media, faces, persons and user decisions, and the ``Library`` API."""
from .db import LibraryError
from .library import LIBRARY_DIRNAME, Library
from .records import FaceInfo, FaceRecord, FileError, ImageResult, PersonSummary, ScanReport

__all__ = [
    "LIBRARY_DIRNAME", "FaceInfo", "FaceRecord", "FileError", "ImageResult", "Library", "LibraryError",
    "PersonSummary", "ScanReport",
]
