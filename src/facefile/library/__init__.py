"""The library: SQLite store of media, faces, persons and user decisions, and the ``Library`` API."""
from facefile.library.facade import LIBRARY_DIRNAME, Library
from facefile.library.writer_lock import WriterBusy
from facefile.store.library_error import LibraryError, PersonNotFound
from facefile.store.records import FaceInfo, FaceRecord, FileError, ImageResult, PersonSummary, ScanReport

__all__ = [
    "LIBRARY_DIRNAME", "FaceInfo", "FaceRecord", "FileError", "ImageResult", "Library", "LibraryError",
    "PersonNotFound", "PersonSummary", "ScanReport", "WriterBusy",
]
