-- facefile library, schema version 9: files that are one shot with another (media/shots.py). A
-- camera's RAW beside its JPEG, or a Live Photo's clip beside its still, is a *companion*: a files
-- row pointing at the same image as the file the photo is read from, never read for faces and
-- never the file a photo is shown, cut or written from. images.live_id is Apple's Live Photo
-- identifier (media/live_photo.py) of a still or a clip, so a clip renamed apart from its still
-- still joins it.
ALTER TABLE files ADD COLUMN companion INTEGER NOT NULL DEFAULT 0;
ALTER TABLE images ADD COLUMN live_id TEXT;
ALTER TABLE images ADD COLUMN live_role TEXT CHECK (live_role IN ('still', 'clip'));
CREATE INDEX images_live_id ON images(live_id) WHERE live_id IS NOT NULL;
