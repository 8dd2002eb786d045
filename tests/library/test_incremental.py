"""Quick updates of large libraries: new faces placed among existing persons, caches kept honest."""
from __future__ import annotations

import numpy as np
import pytest

from facefile.library import Library, incremental
from facefile.library.vector_cache import load_vectors, save_vectors

from .conftest import MODEL, face_of, identity_centres, photo


@pytest.fixture
def small_threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    """Libraries of a few hundred faces count as large here (the real bar is 50,000 faces)."""
    monkeypatch.setattr(incremental, "INCREMENTAL_MIN_FACES", 100)


def _persons(lib: Library) -> dict[int, int]:
    return dict(lib.conn.execute("SELECT face_id, person_id FROM assignments"))


def _build(lib: Library, centres: np.ndarray, per_identity: int, rng: np.random.Generator) -> None:
    photos = [photo(f"id{k}/p{j}.jpg", [face_of(centres[k], rng)]) for k in range(len(centres)) for j in range(per_identity)]
    lib.writer(MODEL).store(photos)
    assert lib.update_persons(MODEL).mode == "full"


def test_new_faces_join_their_persons_and_a_new_person_forms(lib: Library, small_threshold: None) -> None:
    rng = np.random.default_rng(3)
    centres = identity_centres(21, seed=5)
    _build(lib, centres[:20], 12, rng)  # 240 faces
    before = _persons(lib)
    person_of_identity = {k: before[1 + 12 * k] for k in range(20)}
    # 6 new faces: identities 0..3 (one photo holds two of them), and 2 faces of identity 20.
    new = [
        photo("new/a.jpg", [face_of(centres[0], rng)]),
        photo("new/b.jpg", [face_of(centres[1], rng), face_of(centres[2], rng)]),
        photo("new/c.jpg", [face_of(centres[3], rng)]),
        photo("new/d.jpg", [face_of(centres[20], rng)]),
        photo("new/e.jpg", [face_of(centres[20], rng)]),
    ]
    lib.writer(MODEL).store(new)
    report = lib.update_persons(MODEL)
    assert (report.mode, report.new_faces, report.joined, report.new_persons) == ("incremental", 6, 4, 1)
    after = _persons(lib)
    assert {f: p for f, p in after.items() if f in before} == before  # nothing existing moved
    ids = [r[0] for r in lib.conn.execute("SELECT id FROM faces WHERE id > 240 ORDER BY id")]
    assert [after[f] for f in ids[:4]] == [person_of_identity[k] for k in range(4)]
    assert after[ids[4]] == after[ids[5]] and after[ids[4]] not in before.values()
    assert not lib.needs_recluster()


def test_placed_share_triggers_a_full_run(lib: Library, small_threshold: None) -> None:
    rng = np.random.default_rng(4)
    centres = identity_centres(10, seed=6)
    _build(lib, centres, 12, rng)  # 120 faces: 5% is 6
    lib.writer(MODEL).store([photo(f"n/{j}.jpg", [face_of(centres[j], rng)]) for j in range(4)])
    assert lib.update_persons(MODEL).mode == "incremental"
    lib.writer(MODEL).store([photo(f"m/{j}.jpg", [face_of(centres[j], rng)]) for j in range(4)])
    assert lib.update_persons(MODEL).mode == "full"  # 4 + 4 placed > 6


def test_small_library_always_reclusters_fully(lib: Library) -> None:
    rng = np.random.default_rng(5)
    centres = identity_centres(5, seed=7)
    _build(lib, centres, 6, rng)
    lib.writer(MODEL).store([photo("n/0.jpg", [face_of(centres[0], rng)])])
    assert lib.update_persons(MODEL).mode == "full"


def test_cache_follows_the_database(lib: Library, small_threshold: None) -> None:
    rng = np.random.default_rng(6)
    centres = identity_centres(10, seed=8)
    _build(lib, centres, 12, rng)
    cache = load_vectors(lib.conn, lib.folder, MODEL)
    assert cache is not None and len(cache) == 120
    lib.writer(MODEL).store([photo("n/0.jpg", [face_of(centres[0], rng)])])
    cache = load_vectors(lib.conn, lib.folder, MODEL)
    assert cache is not None and len(cache) == 121 and len(cache.blocks) == 2  # the new face as tail
    stored = np.frombuffer(lib.conn.execute("SELECT embedding FROM faces WHERE id = 121").fetchone()[0], np.float32)
    assert np.array_equal(cache.get(np.array([121, 5]))[0], stored)
    with lib.conn:
        lib.conn.execute("DELETE FROM faces WHERE id = 7")
    assert load_vectors(lib.conn, lib.folder, MODEL) is None  # a deleted face invalidates it
    lib.writer(MODEL).store([photo("n/1.jpg", [face_of(centres[1], rng)])])
    assert lib.update_persons(MODEL).mode == "full"  # and the update falls back to a full run


def test_forget_leaves_no_copy_in_the_cache(lib: Library, small_threshold: None) -> None:
    rng = np.random.default_rng(7)
    centres = identity_centres(10, seed=9)
    _build(lib, centres, 12, rng)
    person = _persons(lib)[1]
    erased = [bytes(r[0]) for r in lib.conn.execute(
        "SELECT f.embedding FROM faces f JOIN assignments a ON a.face_id = f.id WHERE a.person_id = ?", (person,))]
    cache_bytes = b"".join(p.read_bytes() for p in (lib.folder / "cache").iterdir())
    assert all(e in cache_bytes for e in erased)  # the control: the cache holds them before
    lib.forget(person)
    cache = lib.folder / "cache"
    cache_bytes = b"".join(p.read_bytes() for p in cache.iterdir()) if cache.exists() else b""
    assert not any(e in cache_bytes for e in erased)


def test_nearest_is_exact_across_blocks(tmp_path) -> None:  # noqa: ANN001
    rng = np.random.default_rng(8)
    X = rng.normal(size=(500, 16)).astype(np.float32)
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    ids = np.arange(1, 501, dtype=np.int64) * 3
    save_vectors(tmp_path, MODEL, ids[:400], X[:400])
    from facefile.library.vector_cache import CachedVectors

    base = np.load(tmp_path / "cache" / f"{MODEL}.vectors.npy", mmap_mode="r")
    cache = CachedVectors(((ids[:400], base), (ids[400:], X[400:])))
    q = X[[3, 450, 10]]
    sims, found = cache.nearest(q, 7, block_rows=64)
    truth = q @ X.T
    for row in range(3):
        best = np.argsort(-truth[row], kind="stable")[:7]
        assert found[row].tolist() == ids[best].tolist()
        assert np.allclose(sims[row], truth[row, best], atol=1e-6)
