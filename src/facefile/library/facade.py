"""The ``Library``: the one object the CLI, the web UI and scripts use.

    lib = Library.open("photos/.facefile")
    lib.scan("photos")
    for person in lib.people():
        print(person.label, person.faces)
    lib.persons.merge("Anna", 31)

It holds the store and small services, each one concern: ``persons`` (name, merge, move, reject),
``review`` (pages and suggestions of the People UI), ``rights`` (forget, export, opt-out),
``interop`` (names to and from other photo tools) and ``history`` (recent actions, undo). The
facade itself opens and scans, re-groups, and answers the plain questions (people, faces, stats).
"""
from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from facefile.library.action_history import ActionHistory
from facefile.library.birthdays import Birthdays
from facefile.library.clustering import recluster
from facefile.library.drawn_faces import DrawnFaces
from facefile.library.incremental import UpdateReport, update_persons
from facefile.library.name_exchange import NameExchange, XmpImportReport
from facefile.library.person_actions import PersonActions
from facefile.library.review import ReviewService
from facefile.library.scan_status import ScanProgressRecorder
from facefile.library.subject_rights import SubjectRights
from facefile.library.writer_lock import WriterLock
from facefile.pipeline import ScanProgress, run_scan, watch_folder
from facefile.store import DB_FILENAME, FaceInfo, FileError, LibraryError, PersonSummary, ScanReport, Store
from facefile.store.photos import IngestWriter

LIBRARY_DIRNAME = ".facefile"


class Library:
    """A face library: one SQLite database (plus rebuildable caches) in a folder."""

    def __init__(self, folder: Path, store: Store) -> None:
        self.folder = folder
        self._store = store
        # Scans, watches and re-clusters: one at a time per library, across processes.
        self._writer = WriterLock(folder)
        self.persons = PersonActions(store)
        self.history = ActionHistory(store)
        self.review = ReviewService(store, self.persons, folder)
        self.rights = SubjectRights(store, self.persons, folder)
        self.interop = NameExchange(store, recluster=self.recluster)
        self.birthdays = Birthdays(store, self.persons.resolve)
        self.drawn_faces = DrawnFaces(store, self.persons)

    # ------------------------------------------------------------------ opening

    @classmethod
    def open(cls, folder: str | os.PathLike[str]) -> Library:
        """Open the library in ``folder`` (usually ``PHOTOS/.facefile``), creating it if needed."""
        folder = Path(folder).expanduser().resolve()
        if folder.exists() and not folder.is_dir():
            raise LibraryError(f"{folder} is not a folder")
        return cls(folder, Store.open(folder / DB_FILENAME))

    @staticmethod
    def default_folder(photos: str | os.PathLike[str] | None = None) -> Path:
        """``$FACEFILE_LIBRARY``, else the ``.facefile/`` of ``photos`` (or of the current folder)."""
        env = os.environ.get("FACEFILE_LIBRARY")
        if env:
            return Path(env).expanduser()
        return Path(photos or ".").expanduser() / LIBRARY_DIRNAME

    @staticmethod
    def exists(folder: str | os.PathLike[str]) -> bool:
        """Whether ``folder`` holds a library (without creating one)."""
        return (Path(folder) / DB_FILENAME).exists()

    def close(self) -> None:
        self._store.close()

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ paths

    @property
    def root(self) -> Path | None:
        """The photo folder paths are stored relative to: the first folder scanned."""
        return self._store.paths.root

    def set_root_if_unset(self, folder: Path) -> Path:
        with self._store.transaction():
            return self._store.paths.set_root_if_unset(folder)

    def rel_path(self, path: Path) -> str:
        """How a file path is stored: relative to the root when inside it, else absolute."""
        return self._store.paths.stored(path)

    def abs_path(self, stored: str) -> Path:
        return self._store.paths.on_disk(stored)

    # ------------------------------------------------------------------ scanning

    def scan(
        self,
        folder: str | os.PathLike[str],
        *,
        backend: str | None = None,
        workers: int | None = None,
        progress: ScanProgress | None = None,
        ray: str | None = None,
    ) -> ScanReport:
        """Bring the library up to date with ``folder``: new faces in, gone files out, persons
        re-clustered. Resumable: an interrupted scan keeps what it stored and the next one goes on.
        Raises ``WriterBusy`` while another scan, watch or re-cluster writes this library."""
        with self._writer.hold(f"scan of {Path(folder).expanduser().absolute()}"):
            return run_scan(
                self._store, self.folder, Path(folder), after_files=self._after_files, backend=backend,
                workers=workers, progress=ScanProgressRecorder(self.folder, progress), ray=ray,
            )

    def _after_files(self, model_id: str, progress: ScanProgress) -> bool:
        # Names read from XMP regions were queued with their faces; confirm them (also any left
        # queued by an earlier scan that was killed before this step). Then group the faces.
        self.interop.apply_imported_names()
        if not self.needs_recluster():
            return False
        progress.stage("Grouping faces into persons")
        self.update_persons(model_id, progress=progress)
        return True

    def watch(
        self, folder: Path, *, backend: str | None = None, debounce: float = 3.0,
        on_scan: Callable[[ScanReport], None] | None = None, stop: threading.Event | None = None,
        poll: float = 0.2, on_names: Callable[[XmpImportReport], None] | None = None,
    ) -> None:
        """Scan ``folder`` now and again after every change, until ``stop`` is set (or Ctrl-C). Holds
        the writer lock throughout: no other scan or re-cluster runs while a watch does. A changed,
        added or deleted ``.xmp`` sidecar re-imports its photo's names (``on_names`` gets the report)."""
        def sidecars_changed(paths: set[Path]) -> None:
            report = self.interop.import_xmp(sidecars=paths)
            if on_names:
                on_names(report)

        with self._writer.hold(f"watch of {Path(folder).expanduser().absolute()}"):
            watch_folder(lambda: self.scan(folder, backend=backend), folder, ignore=self.folder,
                         debounce=debounce, on_scan=on_scan, stop=stop, poll=poll, on_sidecars=sidecars_changed)

    def writer(self, model_id: str) -> IngestWriter:
        """The single writer of scan results (the pipeline's; tests and benchmarks store with it)."""
        return self._store.photos.writer(model_id)

    def model_id(self) -> str | None:
        """The model persons are clustered from: that of the most recent scan, else the model with
        the most faces."""
        return self._store.scans.latest_model() or self._store.faces.most_common_model()

    def needs_recluster(self) -> bool:
        return self._store.meta.is_dirty()

    def recluster(self, model_id: str | None = None) -> int:
        """Re-cluster all faces of the library's model; user decisions are kept. Returns #persons."""
        with self._writer.hold("re-cluster"):
            model_id = model_id or self.model_id()
            if model_id is None:
                return 0
            return recluster(self._store, model_id, folder=self.folder)

    def update_persons(self, model_id: str | None = None, *, progress: ScanProgress | None = None) -> UpdateReport:
        """Persons brought up to date after faces came or went: a full re-cluster, or on a large
        library with few new faces, those placed among the existing persons (``incremental.py``)."""
        with self._writer.hold("re-cluster"):
            model_id = model_id or self.model_id()
            if model_id is None:
                return UpdateReport("none")
            return update_persons(self._store, self.folder, model_id, progress=progress)

    # ------------------------------------------------------------------ reading

    def people(self, *, include_hidden: bool = False) -> list[PersonSummary]:
        """Every person with at least one face, most faces first."""
        return self._store.persons.summaries(include_hidden=include_hidden)

    def person(self, ref: str | int) -> PersonSummary:
        return self.persons.summary(ref)

    def faces(self, person: str | int | None = None, *, unassigned: bool = False) -> list[FaceInfo]:
        """Faces of one person, or the unassigned faces, or all faces; one row per face (first path)."""
        pid = None if person is None else self.persons.resolve(person)
        return self._store.faces.infos(pid, unassigned=unassigned and pid is None)

    def embeddings(self, face_ids: list[int]) -> np.ndarray:
        """The stored (L2-normalised) embeddings of these faces, in the order given, one row per face
        that has one: a face without embedding (a named XMP region no face was detected in, model
        ``NO_EMBEDDING_MODEL``) is skipped, so rows line up with ``face_ids`` only when every face
        has one. ``(0, 0)`` when none has. An unknown id raises ``KeyError``."""
        return self._store.faces.embeddings(face_ids)

    def errors(self) -> list[FileError]:
        return self._store.photos.errors()

    def stats(self) -> dict[str, Any]:
        counts = self._store.photos.counts()
        return {
            "library": str(self.folder),
            "root": str(self.root) if self.root else None,
            **{k: counts[k] for k in ("files", "photos", "photos_with_faces", "faces", "faces_assigned",
                                       "faces_confirmed", "persons", "named_persons", "errors")},
            "models": self._store.photos.embedding_models(),
            "faces_without_embedding": counts["faces_without_embedding"],
            "scans": counts["scans"],
            "database_bytes": (self.folder / DB_FILENAME).stat().st_size,
        }
