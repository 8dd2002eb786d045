-- facefile library, schema version 6: the history of user actions, so that each can be undone.
-- See store/history.py. While an action runs, temporary triggers copy every row it changes in the
-- tables of user work (persons, assignments, rejections, faces a user drew, the dismissed merge
-- suggestions) as it was before: undo writes those rows back, newest first. Re-clusters, scans and
-- rights operations are not user actions and are never recorded.
CREATE TABLE history (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    at        TEXT NOT NULL,
    action    TEXT NOT NULL,         -- 'name', 'merge', 'move', 'reject', 'hide', ... (library/history.py)
    summary   TEXT NOT NULL,         -- what the user was told, e.g. 'Merged #5 into Anna (#3)'
    undone_at TEXT                   -- set once undone; an undone action stays listed
);

CREATE TABLE history_changes (
    id         INTEGER PRIMARY KEY,  -- the order the changes were made in; undo goes backwards
    history_id INTEGER NOT NULL REFERENCES history(id) ON DELETE CASCADE,
    tbl        TEXT NOT NULL,
    op         TEXT NOT NULL CHECK (op IN ('insert', 'update', 'delete')),
    data       TEXT NOT NULL          -- JSON: the new row's key (insert) or the whole old row
);
CREATE INDEX history_changes_action ON history_changes(history_id);
