"""The history of user actions and their undo (tables of ``0006_history.sql``).

    with store.transaction(), store.history.recording("merge", "Merged #5 into Anna (#3)"):
        store.decisions.merge_persons(3, [5])
    ...
    with store.transaction():
        store.history.undo(entry_id)

While an action is recorded, temporary triggers on this connection copy every row the action
inserts, updates or deletes in the tables of user work (``RECORDED``) as it was before, whatever
code path made the change (a cascade, ``drop_empty``, a merge). Undo writes those rows back,
newest change first, so the tables hold exactly what they held before the action. A re-cluster in
between changes ``auto`` assignments only; undo still restores the rows the action touched, and the
restored confirmations and rejections are what every later re-cluster honours.

Triggers exist only inside a recorded action (created and dropped in its transaction), so scans and
re-clusters, which write hundreds of thousands of rows, pay nothing for the history.
"""
from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from facefile.store.db import now
from facefile.store.library_error import LibraryError
from facefile.store.repository import Repository

# Table -> (key columns, operations recorded). Faces are only ever added by a user action (a
# hand-drawn face): undoing that deletes the face; a face's own columns are never edited by one.
RECORDED: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "persons": (("id",), ("insert", "update", "delete")),
    "assignments": (("face_id",), ("insert", "update", "delete")),
    "rejections": (("face_id", "person_id"), ("insert", "update", "delete")),
    "faces": (("id",), ("insert",)),
    "meta": (("key",), ("insert", "update", "delete")),
    "person_redirects": (("old_id",), ("insert", "update", "delete")),
}
# Of ``meta``, only the keys that hold user answers; the rest (dirty flag, run parameters, the
# photo root) is the library's own bookkeeping.
USER_META_KEYS = ("review_dismissed_merges",)
KEPT_ENTRIES = 1000  # older history is pruned: undo reaches back this many actions
# What an action about an erased person says afterwards: its summary named them.
ERASED_SUMMARY = "An action about a person since erased (it can no longer be undone)"
_TRIGGER_PREFIX = "facefile_history_"
_PERSON_MENTION = re.compile(r"#(\d+)")


@dataclass(frozen=True)
class HistoryEntry:
    id: int
    at: str
    action: str
    summary: str
    undone_at: str | None
    changes: int

    @property
    def undone(self) -> bool:
        return self.undone_at is not None


class HistoryRepository(Repository):
    def __init__(self, conn: sqlite3.Connection) -> None:
        super().__init__(conn)
        self._columns: dict[str, list[str]] = {}
        self._active: int | None = None

    # ------------------------------------------------------------------ recording

    @contextmanager
    def recording(self, action: str, summary: str = "") -> Iterator[int]:
        """Record what the block changes as one action (in the caller's transaction); yields its id.
        An action that changed nothing leaves no entry. Nested recordings join the outer one."""
        if self._active is not None:
            yield self._active
            return
        if not self._conn.in_transaction:
            raise RuntimeError("history.recording() runs inside store.transaction()")
        entry = self._conn.execute(
            "INSERT INTO history(at, action, summary) VALUES (?, ?, ?)", (now(), action, summary)
        ).lastrowid
        assert entry is not None
        self._create_triggers(entry)
        self._active = entry
        try:
            yield entry
        finally:
            self._active = None
            self._drop_triggers()
        if self._conn.execute("SELECT 1 FROM history_changes WHERE history_id = ? LIMIT 1", (entry,)).fetchone():
            self._prune()
        else:
            self._conn.execute("DELETE FROM history WHERE id = ?", (entry,))

    def set_summary(self, entry: int, summary: str) -> None:
        """What the action did, when that is only known after it ran (the id of a new person)."""
        self._conn.execute("UPDATE history SET summary = ? WHERE id = ?", (summary, entry))

    # ------------------------------------------------------------------ reading

    def recent(self, limit: int = 50, *, include_undone: bool = True) -> list[HistoryEntry]:
        """The newest actions first."""
        rows = self._conn.execute(
            f"SELECT h.id, h.at, h.action, h.summary, h.undone_at, "
            f"(SELECT COUNT(*) FROM history_changes c WHERE c.history_id = h.id) AS changes "
            f"FROM history h {'' if include_undone else 'WHERE h.undone_at IS NULL'} ORDER BY h.id DESC LIMIT ?",
            (limit,),
        ).fetchall()
        return [HistoryEntry(*tuple(r)) for r in rows]

    def entry(self, entry: int) -> HistoryEntry | None:
        row = self._conn.execute(
            "SELECT h.id, h.at, h.action, h.summary, h.undone_at, "
            "(SELECT COUNT(*) FROM history_changes c WHERE c.history_id = h.id) FROM history h WHERE h.id = ?",
            (entry,),
        ).fetchone()
        return None if row is None else HistoryEntry(*tuple(row))

    def latest_undoable(self) -> int | None:
        row = self._conn.execute("SELECT MAX(id) FROM history WHERE undone_at IS NULL").fetchone()
        return None if row[0] is None else int(row[0])

    def last_id(self) -> int:
        """The newest entry's id, undone or not (0 for none): what a caller compares before and
        after running code, to learn which actions it recorded."""
        row = self._conn.execute("SELECT MAX(id) FROM history").fetchone()
        return int(row[0] or 0)

    def first_undoable_after(self, entry: int) -> int | None:
        """The oldest action newer than ``entry`` that is not undone (undoing it undoes the rest)."""
        row = self._conn.execute(
            "SELECT MIN(id) FROM history WHERE id > ? AND undone_at IS NULL", (entry,)
        ).fetchone()
        return None if row[0] is None else int(row[0])

    # ------------------------------------------------------------------ undo

    def undo(self, entry: int) -> list[int]:
        """Undo action ``entry`` and every later action not undone yet, newest first (later actions
        may have built on it: undo is a stack). Returns the ids undone. Caller's transaction."""
        found = self.entry(entry)
        if found is None:
            raise LibraryError(f"no action {entry} in the history")
        if found.undone:
            raise LibraryError(f"action {entry} was undone already ({found.undone_at})")
        ids = [r[0] for r in self._conn.execute(
            "SELECT id FROM history WHERE id >= ? AND undone_at IS NULL ORDER BY id DESC", (entry,))]
        stamp = now()
        for hid in ids:
            changes = self._conn.execute(
                "SELECT tbl, op, data FROM history_changes WHERE history_id = ? ORDER BY id DESC", (hid,)
            ).fetchall()
            for tbl, op, data in changes:
                self._revert(tbl, op, json.loads(data))
            self._conn.execute("UPDATE history SET undone_at = ? WHERE id = ?", (stamp, hid))
        return ids

    def _revert(self, tbl: str, op: str, row: dict[str, object]) -> None:
        keys = RECORDED[tbl][0]
        where = " AND ".join(f"{k} = ?" for k in keys)
        if op == "insert":
            self._conn.execute(f"DELETE FROM {tbl} WHERE {where}", [row[k] for k in keys])
            return
        if not self._restorable(tbl, row):
            return
        cols = [c for c in self._table_columns(tbl) if c in row]
        updates = ", ".join(f"{c} = excluded.{c}" for c in cols if c not in keys)
        self._conn.execute(
            f"INSERT INTO {tbl}({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))}) "
            f"ON CONFLICT({', '.join(keys)}) DO " + (f"UPDATE SET {updates}" if updates else "NOTHING"),
            [row[c] for c in cols],
        )

    def _restorable(self, tbl: str, row: dict[str, object]) -> bool:
        """Whether an old row can be written back: its face still exists (a face can leave since:
        its file deleted, or erased), and its person does (re-created if a re-cluster dropped it)."""
        if "face_id" in row and tbl != "persons":
            if self._conn.execute("SELECT 1 FROM faces WHERE id = ?", (row["face_id"],)).fetchone() is None:
                return False
        if tbl == "person_redirects":  # it leads to a person no longer there (re-clustered away)
            return self._conn.execute("SELECT 1 FROM persons WHERE id = ?", (row["new_id"],)).fetchone() is not None
        if tbl in ("assignments", "rejections"):
            self._conn.execute("INSERT OR IGNORE INTO persons(id, created_at) VALUES (?, ?)", (row["person_id"], now()))
        if tbl == "persons" and row.get("cover_face_id") is not None:
            if self._conn.execute("SELECT 1 FROM faces WHERE id = ?", (row["cover_face_id"],)).fetchone() is None:
                row["cover_face_id"] = None
        return True

    # ------------------------------------------------------------------ rights

    def forget(self, face_ids: Iterable[int] = (), person_ids: Iterable[int] = ()) -> None:
        """Erase what the history remembers of these faces and persons (``facefile forget``): an
        erased face must leave no trace, the history included. Every change naming them goes; the
        actions that made such changes lose their summary (it may hold the person's name) and can no
        longer be undone (what is left of them would restore half an action)."""
        faces, persons = sorted({int(v) for v in face_ids}), sorted({int(v) for v in person_ids})
        touched: set[int] = set()
        wanted = (
            (faces, "SELECT id, history_id FROM history_changes WHERE json_extract(data, '$.face_id') IN ({m}) "
                    "OR (tbl = 'faces' AND json_extract(data, '$.id') IN ({m})) "
                    "OR (tbl = 'persons' AND json_extract(data, '$.cover_face_id') IN ({m}))"),
            (persons, "SELECT id, history_id FROM history_changes WHERE json_extract(data, '$.person_id') IN ({m}) "
                      "OR (tbl = 'persons' AND json_extract(data, '$.id') IN ({m})) "
                      "OR (tbl = 'person_redirects' AND (json_extract(data, '$.old_id') IN ({m}) "
                      "OR json_extract(data, '$.new_id') IN ({m})))"),
        )
        for ids, query in wanted:
            for start in range(0, len(ids), 300):
                chunk = ids[start:start + 300]
                marks = ",".join("?" * len(chunk))
                found = self._conn.execute(query.format(m=marks), chunk * query.count("{m}")).fetchall()
                self._delete_changes([r[0] for r in found])
                touched.update(r[1] for r in found)
        touched.update(self._forget_in_meta(set(persons)))
        touched.update(self._naming(set(persons)))
        stamp = now()
        self._conn.executemany(
            "UPDATE history SET summary = ?, undone_at = COALESCE(undone_at, ?) WHERE id = ?",
            [(ERASED_SUMMARY, stamp, hid) for hid in sorted(touched)],
        )

    def _forget_in_meta(self, persons: set[int]) -> set[int]:
        """Changes of the dismissed merge pairs that name an erased person: deleted; their actions."""
        if not persons:
            return set()
        doomed, touched = [], set()
        for change, hid, value in self._conn.execute(
            "SELECT id, history_id, json_extract(data, '$.value') FROM history_changes WHERE tbl = 'meta'"
        ):
            try:
                named = {int(p) for pair in json.loads(value or "[]") for p in pair}
            except (ValueError, TypeError):
                named = set()
            if named & persons:
                doomed.append(change)
                touched.add(int(hid))
        self._delete_changes(doomed)
        return touched

    def _naming(self, persons: set[int]) -> set[int]:
        """Actions whose summary names one of ``persons`` (summaries name every person as ``#id``)."""
        if not persons:
            return set()
        return {
            int(hid) for hid, summary in self._conn.execute("SELECT id, summary FROM history")
            if persons & {int(m) for m in _PERSON_MENTION.findall(summary)}
        }

    def _delete_changes(self, change_ids: list[int]) -> None:
        self._conn.executemany("DELETE FROM history_changes WHERE id = ?", [(c,) for c in change_ids])

    # ------------------------------------------------------------------ internals

    def _table_columns(self, tbl: str) -> list[str]:
        if tbl not in self._columns:
            self._columns[tbl] = [r[1] for r in self._conn.execute(f"PRAGMA main.table_info({tbl})")]
        return self._columns[tbl]

    def _create_triggers(self, entry: int) -> None:
        self._columns.clear()  # a migration may have added columns since the last action
        meta_keys = ", ".join(f"'{k}'" for k in USER_META_KEYS)
        for tbl, (keys, ops) in RECORDED.items():
            for op in ops:
                image = "NEW" if op == "insert" else "OLD"
                cols = keys if op == "insert" else self._table_columns(tbl)
                data = ", ".join(f"'{c}', {image}.{c}" for c in cols)
                when = f" WHEN {image}.key IN ({meta_keys})" if tbl == "meta" else ""
                self._conn.execute(
                    f"CREATE TEMP TRIGGER {_TRIGGER_PREFIX}{tbl}_{op} AFTER {op.upper()} ON main.{tbl}{when} "
                    f"BEGIN INSERT INTO history_changes(history_id, tbl, op, data) "
                    f"VALUES ({int(entry)}, '{tbl}', '{op}', json_object({data})); END"
                )

    def _drop_triggers(self) -> None:
        for tbl, (_keys, ops) in RECORDED.items():
            for op in ops:
                self._conn.execute(f"DROP TRIGGER IF EXISTS temp.{_TRIGGER_PREFIX}{tbl}_{op}")

    def _prune(self) -> None:
        self._conn.execute(
            "DELETE FROM history WHERE id <= (SELECT MAX(id) FROM history) - ?", (KEPT_ENTRIES,)
        )
