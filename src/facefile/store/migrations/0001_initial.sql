-- facefile library, schema version 1.
-- SQLite is the single source of truth: every face, its embedding and every user decision live here.
-- Any vector index is a cache rebuilt from these tables.

-- Key/value facts about the library: its root folder, whether persons need a re-cluster, ...
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- One row per distinct image content (blake2b of the bytes). Faces belong to content, not to a path,
-- so a moved or renamed file keeps its faces and an exact duplicate is recognised as one photo.
CREATE TABLE images (
    id           INTEGER PRIMARY KEY,
    content_hash TEXT NOT NULL UNIQUE,
    width        INTEGER NOT NULL,      -- original pixels, after EXIF orientation
    height       INTEGER NOT NULL,
    taken_at     TEXT,                  -- ISO 8601 from EXIF, NULL when unknown
    model_id     TEXT NOT NULL,         -- the face model these faces were found with
    processed_at TEXT NOT NULL
);

-- One row per file path (relative to the library root when inside it). Several files may share an image.
CREATE TABLE files (
    id        INTEGER PRIMARY KEY,
    path      TEXT NOT NULL UNIQUE,
    image_id  INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    size      INTEGER NOT NULL,
    mtime_ns  INTEGER NOT NULL
);
CREATE INDEX files_image ON files(image_id);

CREATE TABLE faces (
    id         INTEGER PRIMARY KEY,
    image_id   INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    x1 REAL NOT NULL, y1 REAL NOT NULL, x2 REAL NOT NULL, y2 REAL NOT NULL,  -- original pixels
    landmarks  BLOB NOT NULL,          -- 5 x 2 float32, original pixels
    det_score  REAL NOT NULL,
    quality    REAL NOT NULL,          -- 0..1, see facefile.vision.quality
    model_id   TEXT NOT NULL,          -- embeddings of two models are never clustered together
    embedding  BLOB NOT NULL           -- float32, L2-normalised
);
CREATE INDEX faces_image ON faces(image_id);
CREATE INDEX faces_model ON faces(model_id);

CREATE TABLE persons (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: a person id is a stable handle
    name          TEXT,
    hidden        INTEGER NOT NULL DEFAULT 0,
    cover_face_id INTEGER REFERENCES faces(id) ON DELETE SET NULL,
    created_at    TEXT NOT NULL
);

-- Which person a face belongs to, and why: 'auto' (the clustering engine) or 'confirmed' (a user
-- action: move, merge, confirm). Confirmed rows are constraints the engine honours forever.
CREATE TABLE assignments (
    face_id    INTEGER PRIMARY KEY REFERENCES faces(id) ON DELETE CASCADE,
    person_id  INTEGER NOT NULL REFERENCES persons(id) ON DELETE CASCADE,
    provenance TEXT NOT NULL CHECK (provenance IN ('auto', 'confirmed')),
    updated_at TEXT NOT NULL
);
CREATE INDEX assignments_person ON assignments(person_id);

-- "This face is not that person": user rejections, also honoured forever.
CREATE TABLE rejections (
    face_id    INTEGER NOT NULL REFERENCES faces(id) ON DELETE CASCADE,
    person_id  INTEGER NOT NULL REFERENCES persons(id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    PRIMARY KEY (face_id, person_id)
);

-- Files that could not be read, with the reason; cleared when the file scans correctly later.
CREATE TABLE file_errors (
    path      TEXT PRIMARY KEY,
    size      INTEGER,
    mtime_ns  INTEGER,
    reason    TEXT NOT NULL,
    failed_at TEXT NOT NULL
);

CREATE TABLE scans (
    id          INTEGER PRIMARY KEY,
    folder      TEXT NOT NULL,
    model_id    TEXT NOT NULL,
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    status      TEXT NOT NULL CHECK (status IN ('running', 'done', 'interrupted', 'failed')),
    files_seen  INTEGER NOT NULL DEFAULT 0,
    files_new   INTEGER NOT NULL DEFAULT 0,
    files_gone  INTEGER NOT NULL DEFAULT 0,
    faces_added INTEGER NOT NULL DEFAULT 0,
    errors      INTEGER NOT NULL DEFAULT 0
);
