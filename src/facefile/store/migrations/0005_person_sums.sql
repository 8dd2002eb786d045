-- facefile library, schema version 5: each person's sum of face embeddings, for placing new faces
-- without reading the person's faces (incremental updates on large libraries, library/person_sums.py).
-- A cache of `assignments` and `faces`: any change to a person's faces deletes its row (the triggers
-- below), and the next reader recomputes it. Deleting rather than marking keeps an erased face out
-- of every sum the moment it is erased.
CREATE TABLE person_sums (
    person_id    INTEGER NOT NULL REFERENCES persons(id) ON DELETE CASCADE,
    model_id     TEXT NOT NULL,
    faces        INTEGER NOT NULL,     -- faces of this model in the person
    best_quality REAL NOT NULL,        -- of those faces (1 where a face's quality is unknown)
    vector       BLOB NOT NULL,        -- float64 sum of their L2-normalised embeddings
    PRIMARY KEY (person_id, model_id)
);

CREATE TRIGGER person_sums_on_insert AFTER INSERT ON assignments
BEGIN
    DELETE FROM person_sums WHERE person_id = NEW.person_id;
END;

CREATE TRIGGER person_sums_on_delete AFTER DELETE ON assignments
BEGIN
    DELETE FROM person_sums WHERE person_id = OLD.person_id;
END;

CREATE TRIGGER person_sums_on_update AFTER UPDATE OF person_id ON assignments
BEGIN
    DELETE FROM person_sums WHERE person_id IN (OLD.person_id, NEW.person_id);
END;
