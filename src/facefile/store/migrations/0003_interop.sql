-- facefile library, schema version 3: faces from videos and from other photo tools' XMP regions.

-- Where a face came from: 'detected' (the detector, in a photo or a video), 'xmp' (a named XMP
-- region the detector missed at first, found again in the region's crop: it has an embedding) or
-- 'manual' (a named XMP region with no face the detector could find: no embedding; its model_id
-- is 'none', so the clustering engine, which only takes faces of the library's model, never sees it).
ALTER TABLE faces ADD COLUMN source TEXT NOT NULL DEFAULT 'detected'
    CHECK (source IN ('detected', 'manual', 'xmp'));

-- A face in a video is one face track: the time range the person is on screen (seconds from the
-- start), and the time of the frame whose face is stored (the best-quality one). NULL for photos.
ALTER TABLE faces ADD COLUMN video_start_s REAL;
ALTER TABLE faces ADD COLUMN video_end_s REAL;
ALTER TABLE faces ADD COLUMN video_frame_s REAL;

-- Names imported from XMP face regions, one row per face and name. The name itself became a
-- confirmed assignment (a user decision); this row remembers that it was imported, so importing
-- the same XMP again never undoes a later correction made in facefile.
CREATE TABLE xmp_names (
    face_id     INTEGER NOT NULL REFERENCES faces(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('mwg', 'mp')),
    origin      TEXT NOT NULL CHECK (origin IN ('embedded', 'sidecar')),
    status      TEXT NOT NULL CHECK (status IN ('pending', 'confirmed', 'agreed', 'conflict')),  -- interop.py
    imported_at TEXT NOT NULL,
    PRIMARY KEY (face_id, name)
);
