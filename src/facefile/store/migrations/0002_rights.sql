-- facefile library, schema version 2: the rights of the people in the photos.
-- See facefile/library/rights.py (forget, export-person, opt-out, audit) and rights_filter.py (what a
-- scan withholds).

-- Faces the user erased with `facefile forget`, remembered so that no later scan files them again.
-- One keyed hash per face: blake2b(content hash of the photo + the face box on a 16 px grid) under a
-- random per-library key (meta 'rights_marker_key'). Neither the embedding, nor the box, nor the
-- person is kept: the marker only answers "was a face at about this place in this exact photo
-- erased?" for a scan that finds that face again.
CREATE TABLE forgotten_faces (
    marker BLOB PRIMARY KEY
) WITHOUT ROWID;

-- `facefile opt-out`: one template per person who asked never to be filed. The template is the
-- minimum a scan needs to recognise them: the normalised mean of their embeddings (one vector of
-- the model that made it), without name, photo, box or link to any other row. New faces with a
-- cosine similarity of at least `threshold` are not stored. Removable: `facefile opt-out --remove ID`.
CREATE TABLE opt_out_templates (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: the id the audit log names
    model_id   TEXT NOT NULL,
    embedding  BLOB NOT NULL,                      -- float32, L2-normalised
    threshold  REAL NOT NULL,
    created_at TEXT NOT NULL
);

-- Append-only log of the rights operations: what, when, which person or template, how many faces.
-- Never the erased data itself (no name, path, box or embedding). UPDATE and DELETE are refused by
-- the triggers of 0004_audit_triggers.sql (a library at version 2 or 3 has them already if it
-- logged anything: library/rights.py created them with the first entry).
CREATE TABLE rights_audit (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at          TEXT NOT NULL,
    action      TEXT NOT NULL CHECK (action IN
                  ('forget', 'export-person', 'opt-out', 'opt-out-remove', 'forget-markers-cleared')),
    person_id   INTEGER,                           -- no foreign key: the person may be gone
    template_id INTEGER,
    faces       INTEGER NOT NULL DEFAULT 0,
    detail      TEXT                               -- counts and outcomes only, e.g. 'wal truncated'
);
