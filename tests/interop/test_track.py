"""Face tracks on synthetic faces: one appearance is one track, cuts and people apart."""
from __future__ import annotations

import numpy as np
import pytest

from facefile.vision.track import FrameFace, TrackParams, track_faces


def unit(seed: int, near: np.ndarray | None = None, noise: float = 0.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    v = rng.normal(size=128) if near is None else near + rng.normal(scale=noise, size=128)
    return (v / np.linalg.norm(v)).astype(np.float32)


ANNA, BOB = unit(1), unit(2)


def face(t: float, box: tuple[float, float, float, float], who: np.ndarray, seed: int, quality: float = 0.5) -> FrameFace:
    return FrameFace(t, box, np.zeros((5, 2), np.float32), 0.9, quality, unit(seed, who, 0.05))


def test_a_moving_face_is_one_track_with_its_best_frame_and_time_range() -> None:
    frames = [(float(t), [face(t, (10 + 15 * t, 20, 70 + 15 * t, 90), ANNA, t, quality=0.5 + 0.1 * (t == 3))], False)
              for t in range(6)]
    [track] = track_faces(frames)
    assert (track.start_s, track.end_s, track.best.time_s) == (0.0, 5.0, 3.0)


def test_a_cut_ends_every_track_and_a_new_person_in_the_same_place_is_a_new_track() -> None:
    box = (100, 50, 160, 120)
    frames = [(0.0, [face(0, box, ANNA, 0)], False), (1.0, [face(1, box, ANNA, 1)], False),
              (1.5, [face(1.5, box, BOB, 2)], True), (2.5, [face(2.5, box, BOB, 3)], False),
              (3.5, [face(3.5, box, ANNA, 4)], True)]
    tracks = track_faces(frames)
    assert [(t.start_s, t.end_s) for t in tracks] == [(0.0, 1.0), (1.5, 2.5), (3.5, 3.5)]


def test_without_a_cut_a_different_person_in_the_same_place_is_still_a_new_track() -> None:
    box = (100, 50, 160, 120)
    tracks = track_faces([(0.0, [face(0, box, ANNA, 0)], False), (1.0, [face(1, box, BOB, 1)], False)])
    assert len(tracks) == 2


def test_two_people_crossing_keep_their_tracks() -> None:
    frames = []
    for t in range(5):
        a = (20 + 40 * t, 50, 80 + 40 * t, 120)
        b = (180 - 40 * t, 50, 240 - 40 * t, 120)
        frames.append((float(t), [face(t, a, ANNA, 10 + t), face(t, b, BOB, 20 + t)], False))
    tracks = track_faces(frames)
    assert len(tracks) == 2
    for track in tracks:
        who = [float(f.embedding @ ANNA) > float(f.embedding @ BOB) for f in track.faces]
        assert len(set(who)) == 1 and len(who) == 5


def test_a_short_miss_is_bridged_and_a_long_absence_is_not() -> None:
    box = (100, 50, 160, 120)
    bridged = track_faces([(0.0, [face(0, box, ANNA, 0)], False), (1.0, [], False), (2.0, [], False),
                           (3.0, [face(3, box, ANNA, 1)], False)])
    assert len(bridged) == 1
    apart = track_faces([(0.0, [face(0, box, ANNA, 0)], False), (5.0, [face(5, box, ANNA, 1)], False)])
    assert len(apart) == 2


def test_parameters_are_checked() -> None:
    with pytest.raises(ValueError):
        TrackParams(min_similarity=0.9, jump_similarity=0.5)
