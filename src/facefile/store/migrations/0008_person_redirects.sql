-- facefile library, schema version 8: where a merged person went, so that its old id (a bookmark,
-- a URL, a script) leads to the person it joined. Written by a merge (store/decisions.py), followed
-- by store/person_redirects.py; recorded by the history, so undoing the merge removes the redirect.
-- A merge into a person that was itself merged later updates the older rows to the newest survivor,
-- so a redirect is one step; the survivor's deletion (erased, or emptied by a re-cluster) drops
-- the rows that lead to it.
CREATE TABLE person_redirects (
    old_id    INTEGER PRIMARY KEY,   -- the merged person's id (ids are never reused)
    new_id    INTEGER NOT NULL REFERENCES persons(id) ON DELETE CASCADE,
    merged_at TEXT NOT NULL
);
CREATE INDEX person_redirects_new ON person_redirects(new_id);
