-- facefile library, schema version 7: birth dates, entered by the user (never inferred: facefile
-- estimates no age, or anything else, from a face). See store/birth_dates.py.
--
-- A face in a photo taken before a person's birth date (images.taken_at < persons.birth_date, both
-- ISO 8601, so the text comparison is the date comparison) can never be filed into that person:
-- every re-cluster, incremental update and suggestion treats the pair as a rejection, and a
-- confirmation of such a face is refused. A photo's taken_at is its EXIF date, else its file's
-- modification time, which is never earlier than the moment the photo was taken: a photo whose
-- file time is before the birth date was taken before it, so the fallback never bars a face wrongly.
ALTER TABLE persons ADD COLUMN birth_date TEXT;  -- 'YYYY-MM-DD', NULL when unknown
-- The barred faces are looked up on every review question: from the few persons with a birth date
-- to the photos dated before it, never a scan of persons x photos (19 s on 100,000 faces).
CREATE INDEX persons_birth_date ON persons(birth_date) WHERE birth_date IS NOT NULL;
CREATE INDEX images_taken_at ON images(taken_at) WHERE taken_at IS NOT NULL;

-- faces.source (0003_interop.sql) keeps its three values; 'manual' now means a face placed by a
-- person rather than found by the detector in a scan: a named XMP region no face was found in, or a
-- box drawn by hand on the Photo page or with `facefile add-face` (library/drawn_faces.py). A drawn
-- face has an embedding (and the library's model) when a face could be found and aligned in its box,
-- otherwise none ('none' model, never clustered), like such an XMP region.
