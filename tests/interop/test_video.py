"""Videos: frame sampling, rotation, and the scan of videos made from LFW photos (PyAV, tmp_path)."""
from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest
from facefile_bench.video_bench import build_and_scan, track_photo_persons

from facefile.media import MediaError
from facefile.media.video import SamplingConfig, read_frame, read_region, sample_frames, video_info


def write_video(path: Path, colours: list[tuple[int, int, int]], seconds_each: float, fps: int = 10,
                rotation: int = 0, size: tuple[int, int] = (64, 48)) -> None:
    """Flat-coloured shots with a white square in the top-left corner (to see the rotation)."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        if rotation:
            stream.set_display_rotation(rotation)
        for colour in colours:
            for _ in range(round(seconds_each * fps)):
                img = np.empty((size[1], size[0], 3), np.uint8)
                img[:] = colour
                img[:16, :16] = 255
                for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                    container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def test_one_frame_a_second_plus_one_at_each_cut(tmp_path: Path) -> None:
    video = tmp_path / "cuts.mp4"
    write_video(video, [(20, 20, 20), (200, 60, 60), (40, 180, 40)], seconds_each=2.5)
    frames = list(sample_frames(video))
    times = [round(f.time_s, 1) for f in frames]
    cuts = [round(f.time_s, 1) for f in frames if f.scene_cut]
    assert cuts == [2.5, 5.0]
    assert times == [0.0, 1.0, 2.0, 2.5, 3.5, 4.5, 5.0, 6.0, 7.0]
    assert len(list(sample_frames(video, SamplingConfig(every_s=0.5)))) == 15


def test_rotated_video_frames_come_out_upright(tmp_path: Path) -> None:
    video = tmp_path / "portrait.mp4"
    write_video(video, [(0, 0, 0)], seconds_each=1.0, rotation=-90)  # a phone held upright: 90 degrees clockwise
    info = video_info(video)
    assert (info.width, info.height, info.rotation) == (48, 64, -90)
    frame = next(sample_frames(video)).pixels
    assert frame.shape == (64, 48, 3)
    # The stored top-left corner is shown top-right after a clockwise turn.
    assert frame[:12, -12:].mean() > 200 and frame[:12, :12].mean() < 50
    assert read_frame(video, 0.5).shape == (64, 48, 3)


def test_broken_videos_are_media_errors(tmp_path: Path) -> None:
    (tmp_path / "empty.mp4").write_bytes(b"")
    (tmp_path / "junk.mov").write_bytes(b"\x00" * 5000)
    for name in ["empty.mp4", "junk.mov"]:
        with pytest.raises(MediaError):
            list(sample_frames(tmp_path / name))


@pytest.mark.data
@pytest.mark.slow
def test_video_faces_are_found_once_per_appearance_and_join_their_persons(shared_data: Path, tmp_path: Path) -> None:
    bench = build_and_scan(shared_data, tmp_path, people=5, videos=3, shots_per_video=6, photos_per_person=3,
                           workers=1)
    scores = bench.scores()
    print(f"\nrecall {scores.recall:.3f}, faces per appearance {scores.faces_per_appearance:.3f}, "
          f"BCubed F {scores.bcubed[2]:.3f}")
    assert scores.recall >= 0.95
    assert scores.faces_per_appearance <= 1.2
    # Each face track carries its time range; `show` lists it (face_times until FaceInfo is filled).
    faces = [f for f in bench.lib.faces() if f.path.endswith(".mp4")]
    times = bench.lib.interop.face_times([f.id for f in faces])
    assert len(times) == len(faces) and all(0 <= s <= e for s, e in times.values())
    # Video faces cluster with the same person's photos once the engine sees each track as its own
    # moment (the change to persons.load_faces this work asks for).
    assert bench.scores(track_photo_persons(bench.lib)).bcubed[2] >= 0.95
    bench.lib.close()


@pytest.mark.data
@pytest.mark.slow
def test_the_library_clusters_video_faces_with_their_photos(shared_data: Path, tmp_path: Path) -> None:
    bench = build_and_scan(shared_data, tmp_path, people=4, videos=2, shots_per_video=5, photos_per_person=3,
                           workers=1)
    assert bench.scores().bcubed[2] >= 0.95
    bench.lib.close()


def test_read_region_cuts_a_face_box_from_the_frame_at_a_time(tmp_path: Path) -> None:
    video = tmp_path / "two.mp4"
    write_video(video, [(0, 0, 0), (0, 0, 200)], seconds_each=1.0, size=(320, 240))
    first = read_region(video, 0.2, (0, 0, 16, 16))
    assert first.shape == (16, 16, 3) and first.mean() > 200  # the white corner
    later = read_region(video, 1.5, (100, 100, 300, 200), max_side=50)
    assert later.shape == (25, 50, 3) and later[..., 2].mean() > 150 > later[..., 0].mean()
    assert read_region(video, 0.2, (-20, -20, 8, 8)).shape == (8, 8, 3)  # clamped to the frame
