"""Faces in videos: are appearances found, stored once, and filed with the same person's photos?

Test videos are made here with PyAV (H.264, 320 x 240, 10 fps) from LFW development photos, in a
temporary folder, never kept: shots of one or two people, still, panning or zooming, joined by
hard cuts, some people coming back in a later shot. Every (shot, person) is one ground-truth
appearance. Each photo is cropped around its labelled face first, so LFW's bystanders do not appear.

Scores (the last line of ``run``):

- ``video_recall``: appearances with a stored video face of that shot whose box lies on that
  person (its centre inside the person's picture at the stored frame's time);
- ``faces_per_appearance``: stored video faces / appearances (1.0 is one face per appearance);
- ``video_bcubed_f``: BCubed F of the library's persons over the video faces and the photos of
  the same people (each photo's centre face), after the scan's own re-cluster.
"""
from __future__ import annotations

import tempfile
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from facefile.library import Library
from facefile_bench.lfw import centre_faces, identities, link_sample
from facefile_bench.metrics import bcubed_prf, noise_as_singletons

FRAME_SIZE = (320, 240)
FPS = 10
Rect = tuple[float, float, float, float]


@dataclass(frozen=True)
class Shot:
    people: tuple[tuple[str, Path], ...]  # (identity, photo) for each person in the shot, left to right
    seconds: float
    motion: str  # "still", "pan" or "zoom"


@dataclass(frozen=True)
class Appearance:
    video: str
    identity: str
    start_s: float
    end_s: float
    shot: int
    slot: int  # the person's place in the shot (left to right)


def picture_rect(shot: Shot, slot: int, progress: float) -> Rect:
    """Where the ``slot``-th person's picture is drawn, ``progress`` (0..1) through the shot."""
    w, h = FRAME_SIZE
    if len(shot.people) == 2:
        side = 140.0
        drift = 10 * progress if shot.motion != "still" else 0.0
        x = 12 + drift + slot * 156
        return (x, 50.0, x + side, 50.0 + side)
    if shot.motion == "zoom":
        side = 110 + 110 * progress
    else:
        side = 160.0
    x = (w - side) / 2 + (-80 + 160 * progress if shot.motion == "pan" else 0.0)
    y = (h - side) / 2
    return (x, y, x + side, y + side)


def face_crop(photo: Path, box: np.ndarray) -> Image.Image:
    """The photo cropped to a square around its labelled face (box expanded by 60 %)."""
    img = Image.open(photo).convert("RGB")
    x1, y1, x2, y2 = (float(v) for v in box)
    cx, cy, side = (x1 + x2) / 2, (y1 + y2) / 2, max(x2 - x1, y2 - y1) * 1.6
    return img.crop((round(cx - side / 2), round(cy - side / 2), round(cx + side / 2), round(cy + side / 2)))


def make_video(path: Path, shots: list[Shot], boxes: dict[Path, np.ndarray]) -> list[Appearance]:
    """Render ``shots`` to an H.264 file at ``path``; returns the ground-truth appearances."""
    import av

    crops = {photo: face_crop(photo, boxes[photo]) for shot in shots for _, photo in shot.people}
    appearances, t0 = [], 0.0
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=FPS)
        stream.width, stream.height = FRAME_SIZE
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": "23", "preset": "veryfast"}
        for index, shot in enumerate(shots):
            frames = round(shot.seconds * FPS)
            background = 90 + 40 * (index % 3)
            for k in range(frames):
                canvas = Image.new("RGB", FRAME_SIZE, (background, background - 10, background + 10))
                for slot, (_, photo) in enumerate(shot.people):
                    x1, y1, x2, y2 = picture_rect(shot, slot, k / max(frames - 1, 1))
                    side = max(1, round(x2 - x1))
                    canvas.paste(crops[photo].resize((side, side), Image.Resampling.BILINEAR), (round(x1), round(y1)))
                frame = av.VideoFrame.from_image(canvas)
                for packet in stream.encode(frame):
                    container.mux(packet)
            for slot, (identity, _) in enumerate(shot.people):
                appearances.append(Appearance(path.name, identity, t0, t0 + frames / FPS, index, slot))
            t0 += frames / FPS
        for packet in stream.encode():
            container.mux(packet)
    return appearances


def video_plan(data: Path, *, people: int, videos: int, shots_per_video: int, photos_per_person: int,
               seed: int = 0) -> tuple[list[list[Shot]], dict[str, list[Path]], dict[Path, np.ndarray]]:
    """Shots for ``videos`` videos, the photos of the same people for the photo library, and the
    labelled face box of every photo used (from ``embeddings/sface_dev.npz``)."""
    boxes = _centre_boxes(data)
    rng = np.random.default_rng(seed)
    everyone = identities(data / "lfw_dev")
    enough = sorted(n for n, p in everyone.items() if sum(q in boxes for q in p) >= photos_per_person + 4)
    chosen = [enough[i] for i in sorted(rng.choice(len(enough), size=people, replace=False))]
    usable = {n: [p for p in everyone[n] if p in boxes] for n in chosen}
    library_photos = {n: usable[n][:photos_per_person] for n in chosen}
    video_photos = {n: usable[n][photos_per_person:] for n in chosen}
    plans = []
    for _ in range(videos):
        cast = [chosen[i] for i in rng.choice(len(chosen), size=min(3, len(chosen)), replace=False)]
        shots = []
        for s in range(shots_per_video):
            motion = ("still", "pan", "zoom")[int(rng.integers(3))]
            if s % 3 == 2 and len(cast) >= 2:
                pair = [cast[i] for i in rng.choice(len(cast), size=2, replace=False)]
                people_in = tuple((n, video_photos[n][int(rng.integers(len(video_photos[n])))]) for n in pair)
            else:
                n = cast[s % len(cast)]  # people come back in later shots
                people_in = ((n, video_photos[n][int(rng.integers(len(video_photos[n])))]),)
            shots.append(Shot(people_in, float(rng.choice([2.0, 3.0, 4.0])), motion))
        plans.append(shots)
    return plans, library_photos, boxes


def _centre_boxes(data: Path) -> dict[Path, np.ndarray]:
    npz = np.load(data / "embeddings" / "sface_dev.npz", allow_pickle=True)
    return {
        (data / str(p)): box
        for p, box, found, ds in zip(npz["path"], npz["box"], npz["detected"], npz["dataset"], strict=True)
        if found and ds == "lfw_dev"
    }


# ---------------------------------------------------------------------- scoring


@dataclass(frozen=True)
class VideoScores:
    appearances: int
    found: int
    video_faces: int
    bcubed: tuple[float, float, float]

    @property
    def recall(self) -> float:
        return self.found / self.appearances if self.appearances else 1.0

    @property
    def faces_per_appearance(self) -> float:
        return self.video_faces / self.appearances if self.appearances else 0.0


def track_photo_persons(lib: Library) -> dict[int, int]:
    """face id -> cluster label from the engine run on the faces as ``store.faces.load_model`` reads them
    (every video face track a photo of its own: a video's tracks are different moments, not one
    photo whose faces must be different people), with the model's prior thresholds. -1 for
    unassigned faces."""
    from facefile.cluster import ClusterParams, cluster_faces
    from facefile.store import DB_FILENAME, Store

    model = lib.model_id()
    with closing(Store.open(lib.folder / DB_FILENAME, readonly=True)) as store:
        stored = store.faces.load_model(model or "")
    ids, photos, quality, embeddings = stored.ids, stored.photos, stored.quality, stored.vectors
    if not len(ids):
        return {}
    labels = cluster_faces(embeddings, photos, quality=quality, params=ClusterParams.for_model(model or "")).labels
    return {int(f): int(label) for f, label in zip(ids, labels, strict=True)}


def score_videos(lib: Library, truth: list[Appearance], shots: dict[str, list[Shot]],
                 photo_truth: dict[str, str], persons: dict[int, int] | None = None) -> VideoScores:
    """Scores of a scanned library against the appearances (see the module docstring). ``persons``
    (face id -> person) replaces the library's own assignments, e.g. ``track_photo_persons(lib)``."""
    def person_of(face) -> int:  # noqa: ANN001 - a FaceInfo
        if persons is not None:
            return persons.get(face.id, -1)
        return -1 if face.person_id is None else face.person_id

    video_faces = [f for f in lib.faces() if Path(f.path).name in shots]
    times = lib.interop.face_times([f.id for f in video_faces])
    label_of: dict[int, str] = {}
    found = set()
    for face in video_faces:
        start, end = times[face.id]
        frame_t = face.video_frame_s
        for i, a in enumerate(truth):
            if a.video != Path(face.path).name or not (a.start_s <= frame_t < a.end_s):
                continue
            shot = shots[a.video][a.shot]
            rect = picture_rect(shot, a.slot, _progress(shot, a, frame_t))
            cx, cy = (face.box[0] + face.box[2]) / 2, (face.box[1] + face.box[3]) / 2
            if rect[0] <= cx <= rect[2] and rect[1] <= cy <= rect[3]:
                found.add(i)
                label_of[face.id] = a.identity
    labels: list[str] = []
    predicted: list[int] = []
    for face in video_faces:
        labels.append(label_of.get(face.id, f"unmatched-{face.id}"))
        predicted.append(person_of(face))
    for path, face in centre_faces(lib).items():
        if path in photo_truth:
            labels.append(photo_truth[path])
            predicted.append(person_of(face))
    bcubed = bcubed_prf(labels, noise_as_singletons(predicted))
    return VideoScores(len(truth), len(found), len(video_faces), bcubed)


def _progress(shot: Shot, a: Appearance, t: float) -> float:
    frames = round(shot.seconds * FPS)
    k = round((t - a.start_s) * FPS)
    return min(max(k / max(frames - 1, 1), 0.0), 1.0)


@dataclass
class VideoBench:
    lib: Library
    truth: list[Appearance]
    shots: dict[str, list[Shot]]
    photo_truth: dict[str, str]

    def scores(self, persons: dict[int, int] | None = None) -> VideoScores:
        return score_videos(self.lib, self.truth, self.shots, self.photo_truth, persons)


def build_and_scan(data: Path, folder: Path, *, people: int, videos: int, shots_per_video: int,
                   photos_per_person: int, workers: int | None = None, seed: int = 0) -> VideoBench:
    """Make the videos and photo links in ``folder`` and scan it."""
    plans, library_photos, boxes = video_plan(data, people=people, videos=videos, shots_per_video=shots_per_video,
                                              photos_per_person=photos_per_person, seed=seed)
    photo_truth = link_sample([(p, n) for n, ps in library_photos.items() for p in ps], folder / "photos")
    (folder / "videos").mkdir(parents=True, exist_ok=True)
    truth: list[Appearance] = []
    shots: dict[str, list[Shot]] = {}
    for i, plan in enumerate(plans):
        name = f"video{i:02d}.mp4"
        truth += make_video(folder / "videos" / name, plan, boxes)
        shots[name] = plan
    lib = Library.open(folder / ".facefile")
    lib.scan(folder, workers=workers)
    return VideoBench(lib, truth, shots, {f"photos/{k}": v for k, v in photo_truth.items()})


def run(data: Path, *, people: int = 10, videos: int = 6, shots_per_video: int = 7, photos_per_person: int = 4,
        workers: int | None = None) -> str:
    """The video benchmark; the last line is ``video_recall=… faces_per_appearance=… video_bcubed_f=…``."""
    with tempfile.TemporaryDirectory(prefix="facefile-video-bench-") as tmp:
        bench = build_and_scan(data, Path(tmp), people=people, videos=videos, shots_per_video=shots_per_video,
                               photos_per_person=photos_per_person, workers=workers)
        s = bench.scores()
        tracks_apart = bench.scores(track_photo_persons(bench.lib))
        bench.lib.close()
    p, r, f = s.bcubed
    return (
        f"videos: {videos} ({people} people, {s.appearances} appearances), photos: {people * photos_per_person}\n"
        f"appearances found {s.found}/{s.appearances}; video faces stored {s.video_faces}; "
        f"BCubed P {p:.4f} R {r:.4f} (library persons)\n"
        f"BCubed F {tracks_apart.bcubed[2]:.4f} with each face track its own photo for the engine "
        f"(P {tracks_apart.bcubed[0]:.4f} R {tracks_apart.bcubed[1]:.4f})\n"
        f"video_recall={s.recall:.4f} faces_per_appearance={s.faces_per_appearance:.3f} video_bcubed_f={f:.4f}"
    )
