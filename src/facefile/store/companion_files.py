"""Companion files (a RAW beside its JPEG, a Live Photo's clip beside its still): files rows that
point at the image of the file the photo is read from, marked ``companion`` (0009_companion_files.sql).

A companion is never read for faces, shown, cut or written from; it leaves with its file, and a
photo stays while any of its files, companions included, is on disk.
"""
from __future__ import annotations

from collections.abc import Iterable

from facefile.store.meta import mark_dirty
from facefile.store.paths import disk_path, stored_path
from facefile.store.records import ImageResult
from facefile.store.repository import Repository


class CompanionFiles(Repository):
    """Reads and writes of companion files; the scan's writer holds one."""

    def companions(self) -> dict[str, str]:
        """companion path -> the path of the file its photo is read from (disk form)."""
        # The file a photo is read from is its first non-companion file; every query that picks "the"
        # file of an image says "AND companion = 0", so a RAW sorting before its JPEG
        # ("IMG_1.CR2" < "IMG_1.JPG") is never decoded with the JPEG's face boxes.
        rows = self._conn.execute(
            "SELECT c.path, (SELECT MIN(p.path) FROM files p WHERE p.image_id = c.image_id AND p.companion = 0) "
            "FROM files c WHERE c.companion = 1")
        return {disk_path(c): disk_path(p) for c, p in rows if p is not None}

    def link(self, results: Iterable[ImageResult]) -> list[ImageResult]:
        """File each companion with its primary's photo (in the caller's transaction); returns those
        whose primary is not a stored photo (it failed to decode, or vanished): they are photos of
        their own, and the scan processes them as such."""
        orphans = []
        for r in results:
            primary = self._conn.execute(
                "SELECT image_id FROM files WHERE path = ? AND companion = 0",
                (stored_path(r.companion_of or ""),)).fetchone()
            if primary is None:
                orphans.append(r)
                continue
            path = stored_path(r.path)
            self._conn.execute("DELETE FROM file_errors WHERE path = ?", (path,))
            self._conn.execute(
                "INSERT INTO files(path, image_id, size, mtime_ns, companion) VALUES (?, ?, ?, ?, 1) "
                "ON CONFLICT(path) DO UPDATE SET image_id = excluded.image_id, size = excluded.size, "
                "mtime_ns = excluded.mtime_ns, companion = 1",
                (path, primary[0], r.size, r.mtime_ns),
            )
            if r.live_id is not None:
                self._conn.execute("UPDATE images SET live_id = COALESCE(live_id, ?), live_role = "
                                   "COALESCE(live_role, 'still') WHERE id = ?", (r.live_id, primary[0]))
        return orphans

    def join_motion_clips(self) -> int:
        """Clips that carry the Live Photo identifier of a still the library holds become that
        still's companions (a clip renamed apart from its still, or scanned before it); their own
        faces leave with their image. Returns how many clip files were joined."""
        pairs = self._conn.execute(
            "SELECT clip.id, MIN(still.id) FROM images clip JOIN images still "
            "ON still.live_id = clip.live_id AND still.live_role = 'still' "
            "WHERE clip.live_role = 'clip' GROUP BY clip.id").fetchall()
        joined = 0
        for clip, still in pairs:
            joined += self._conn.execute(
                "UPDATE files SET image_id = ?, companion = 1 WHERE image_id = ?", (still, clip)).rowcount
            self._conn.execute("DELETE FROM images WHERE id = ?", (clip,))
        if pairs:
            mark_dirty(self._conn)
        return joined
