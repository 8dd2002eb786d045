"""The store: every line of SQL, the migrations and the records that cross it (see ``store.py``)."""
from facefile.store.db import DB_FILENAME
from facefile.store.face_rows import FaceArrays
from facefile.store.library_error import LibraryError, PersonNotFound
from facefile.store.records import (
    NO_EMBEDDING_MODEL,
    FaceInfo,
    FaceRecord,
    FileError,
    ImageResult,
    ImportedName,
    PersonSummary,
    ScanReport,
)
from facefile.store.scans import ScanRow
from facefile.store.store import Store

__all__ = [
    "DB_FILENAME", "NO_EMBEDDING_MODEL", "FaceArrays", "FaceInfo", "FaceRecord", "FileError", "ImageResult",
    "ImportedName", "LibraryError", "PersonNotFound", "PersonSummary", "ScanReport", "ScanRow", "Store",
]
