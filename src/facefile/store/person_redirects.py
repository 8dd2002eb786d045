"""Where merged persons went (``person_redirects``, schema 8): a merged person's id leads to the
person it joined. Rows are written by ``DecisionRepository.merge_persons``
(a merge into a person merged later updates the older rows, so a redirect is one step)."""
from __future__ import annotations

from facefile.store.repository import Repository

MAX_HOPS = 32  # redirects are kept one step long by the merge; the bound only guards a hand-edited table


class PersonRedirectRepository(Repository):
    def survivor(self, old_id: int) -> int | None:
        """The existing person a merged id now is (following older redirects too), or None when
        ``old_id`` was never merged or is a person again (its merge was undone)."""
        if self._exists(old_id):
            return None
        current, seen = int(old_id), {int(old_id)}
        for _ in range(MAX_HOPS):
            row = self._conn.execute("SELECT new_id FROM person_redirects WHERE old_id = ?", (current,)).fetchone()
            if row is None or int(row[0]) in seen:
                return None
            current = int(row[0])
            if self._exists(current):
                return current
            seen.add(current)
        return None

    def merged_into(self, person_id: int) -> list[int]:
        """The ids of the persons merged into ``person_id`` (they are that person too)."""
        return [r[0] for r in self._conn.execute(
            "SELECT old_id FROM person_redirects WHERE new_id = ? ORDER BY old_id", (person_id,))]

    def _exists(self, person_id: int) -> bool:
        return self._conn.execute("SELECT 1 FROM persons WHERE id = ?", (person_id,)).fetchone() is not None
