"""Scans: when each ran, over which folder and model, and how it ended."""
from __future__ import annotations

from dataclasses import dataclass

from facefile.store.db import now
from facefile.store.repository import Repository


@dataclass(frozen=True)
class ScanRow:
    id: int
    folder: str
    started_at: str
    finished_at: str | None
    status: str  # running, done, interrupted, failed
    files_seen: int | None
    files_new: int | None
    files_gone: int | None
    faces_added: int | None
    errors: int | None


class ScanRepository(Repository):
    def start(self, folder: str, model_id: str) -> int:
        """A new scan row, 'running' (in the caller's transaction)."""
        scan_id = self._conn.execute(
            "INSERT INTO scans(folder, model_id, started_at, status) VALUES (?, ?, ?, 'running')",
            (folder, model_id, now()),
        ).lastrowid
        assert scan_id is not None
        return scan_id

    def finish(self, scan_id: int, status: str, *, files_seen: int, files_new: int, files_gone: int,
               faces_added: int, errors: int) -> None:
        self._conn.execute(
            "UPDATE scans SET finished_at=?, status=?, files_seen=?, files_new=?, files_gone=?, "
            "faces_added=?, errors=? WHERE id=?",
            (now(), status, files_seen, files_new, files_gone, faces_added, errors, scan_id),
        )

    def close_stale(self) -> int:
        """A scan killed hard (SIGKILL, power cut) leaves its row 'running': such rows become
        'interrupted' (finished_at stays unknown). Returns how many."""
        return self._conn.execute("UPDATE scans SET status = 'interrupted' WHERE status = 'running'").rowcount

    def latest_model(self) -> str | None:
        """The model of the most recent scan."""
        row = self._conn.execute("SELECT model_id FROM scans ORDER BY id DESC LIMIT 1").fetchone()
        return None if row is None else row[0]

    def recent(self, limit: int = 10) -> list[ScanRow]:
        """The last scans, newest first."""
        return [
            ScanRow(*r)
            for r in self._conn.execute(
                "SELECT id, folder, started_at, finished_at, status, files_seen, files_new, files_gone, "
                "faces_added, errors FROM scans ORDER BY id DESC LIMIT ?",
                (int(limit),),
            )
        ]
