"""Quick updates of large libraries: new faces placed among existing persons, caches kept honest."""
from __future__ import annotations

import numpy as np
import pytest

from facefile.library import Library, cluster_runs, person_sum_cache, vector_cache
from facefile.library.vector_cache import load_vectors, save_vectors
from facefile.store import DB_FILENAME, Store
from tests.support.database import sql

from .conftest import MODEL, face_of, identity_centres, photo


@pytest.fixture
def small_threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    """Libraries of a few hundred faces count as large here (the real bar is 50,000 faces)."""
    monkeypatch.setattr(cluster_runs, "INCREMENTAL_MIN_FACES", 100)


@pytest.fixture
def store(lib: Library) -> Store:
    """A second store on the library's database, for calling the caches' functions directly."""
    opened = Store.open(lib.folder / DB_FILENAME)
    yield opened
    opened.close()


def _persons(lib: Library) -> dict[int, int]:
    return dict(sql(lib).execute("SELECT face_id, person_id FROM assignments").fetchall())


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
    ids = [r[0] for r in sql(lib).execute("SELECT id FROM faces WHERE id > 240 ORDER BY id")]
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


def test_cache_follows_the_database(lib: Library, store: Store, small_threshold: None) -> None:
    rng = np.random.default_rng(6)
    centres = identity_centres(10, seed=8)
    _build(lib, centres, 12, rng)
    cache = load_vectors(store, lib.folder, MODEL)
    assert cache is not None and len(cache) == 120
    lib.writer(MODEL).store([photo("n/0.jpg", [face_of(centres[0], rng)])])
    cache = load_vectors(store, lib.folder, MODEL)
    assert cache is not None and len(cache) == 121 and cache.tail_ids.tolist() == [121]  # the new face as tail
    stored = np.frombuffer(sql(lib).execute("SELECT embedding FROM faces WHERE id = 121").fetchone()[0], np.float32)
    assert np.array_equal(cache.get(np.array([121, 5]))[0], stored)
    sql(lib).execute("DELETE FROM faces WHERE id = 7")
    assert load_vectors(store, lib.folder, MODEL) is None  # a deleted face invalidates it
    lib.writer(MODEL).store([photo("n/1.jpg", [face_of(centres[1], rng)])])
    assert lib.update_persons(MODEL).mode == "full"  # and the update falls back to a full run


def test_forget_leaves_no_copy_in_the_cache(lib: Library, small_threshold: None) -> None:
    rng = np.random.default_rng(7)
    centres = identity_centres(10, seed=9)
    _build(lib, centres, 12, rng)
    person = _persons(lib)[1]
    erased = [bytes(r[0]) for r in sql(lib).execute(
        "SELECT f.embedding FROM faces f JOIN assignments a ON a.face_id = f.id WHERE a.person_id = ?", (person,))]
    cache_bytes = b"".join(p.read_bytes() for p in (lib.folder / "cache").iterdir())
    assert all(e in cache_bytes for e in erased)  # the control: the cache holds them before
    lib.rights.forget(person)
    cache = lib.folder / "cache"
    cache_bytes = b"".join(p.read_bytes() for p in cache.iterdir()) if cache.exists() else b""
    assert not any(e in cache_bytes for e in erased)


def _stored_sums(lib: Library) -> dict[int, tuple[int, np.ndarray]]:
    return {p: (n, np.frombuffer(v, np.float64)) for p, n, v in
            sql(lib).execute("SELECT person_id, faces, vector FROM person_sums WHERE model_id = ?", (MODEL,))}


def _recomputed(lib: Library, person: int) -> np.ndarray:
    rows = [np.frombuffer(r[0], np.float32) for r in sql(lib).execute(
        "SELECT f.embedding FROM faces f JOIN assignments a ON a.face_id = f.id WHERE a.person_id = ?", (person,))]
    X = np.array(rows, dtype=np.float64)
    return (X / np.linalg.norm(X, axis=1, keepdims=True)).sum(axis=0)


def test_person_sums_stay_equal_to_the_persons_faces(lib: Library, store: Store, small_threshold: None) -> None:
    rng = np.random.default_rng(8)
    centres = identity_centres(10, seed=10)
    _build(lib, centres, 12, rng)
    sizes = dict(sql(lib).execute("SELECT person_id, COUNT(*) FROM assignments GROUP BY person_id").fetchall())
    assert set(_stored_sums(lib)) == set(sizes)  # the full run stored every person's
    lib.writer(MODEL).store([photo(f"n/{j}.jpg", [face_of(centres[j], rng)]) for j in range(3)])
    report = lib.update_persons(MODEL)
    assert report.mode == "incremental" and report.joined == 3
    stored = _stored_sums(lib)
    sizes = dict(sql(lib).execute("SELECT person_id, COUNT(*) FROM assignments GROUP BY person_id").fetchall())
    assert set(stored) == set(sizes)  # those the new faces joined were updated, not dropped
    for person, (faces, vector) in stored.items():
        assert faces == sizes[person]
        np.testing.assert_allclose(vector, _recomputed(lib, person), atol=1e-5)
    # Any change to a person's faces drops its stored sum, whoever makes it.
    person = next(iter(stored))
    face = sql(lib).execute("SELECT face_id FROM assignments WHERE person_id = ? LIMIT 1", (person,)).fetchone()[0]
    sql(lib).execute("DELETE FROM assignments WHERE face_id = ?", (face,))
    assert person not in _stored_sums(lib)
    other = next(p for p in stored if p != person)
    sql(lib).execute("INSERT INTO assignments(face_id, person_id, provenance, updated_at) "
                     "VALUES (?, ?, 'confirmed', 'now')", (face, other))
    assert other not in _stored_sums(lib)
    # load() recomputes what is missing, from the cache, and stores it.
    cache = load_vectors(store, lib.folder, MODEL)
    assert cache is not None
    with store.transaction():
        loaded = person_sum_cache.load(store, cache, MODEL, [person, other])
    np.testing.assert_allclose(loaded.sums[1], _recomputed(lib, other), atol=1e-5)
    assert loaded.sizes.tolist() == [sizes[person] - 1, sizes[other] + 1]
    assert {person, other} <= set(_stored_sums(lib))


def test_erasing_a_person_erases_its_sum(lib: Library, small_threshold: None) -> None:
    rng = np.random.default_rng(9)
    centres = identity_centres(10, seed=11)
    _build(lib, centres, 12, rng)
    lib.writer(MODEL).store([photo("n/0.jpg", [face_of(centres[0], rng)])])
    lib.update_persons(MODEL)
    person = next(iter(_stored_sums(lib)))
    lib.rights.forget(person)
    assert person not in _stored_sums(lib)


def _unit_rows(n: int, d: int, seed: int) -> np.ndarray:
    X = np.random.default_rng(seed).normal(size=(n, d)).astype(np.float32)
    return X / np.linalg.norm(X, axis=1, keepdims=True)


def _exact(q: np.ndarray, X: np.ndarray, ids: np.ndarray, k: int) -> list[list[int]]:
    truth = q @ X.T
    return [ids[np.argsort(-row, kind="stable")[:k]].tolist() for row in truth]


def _cache(lib: Library, store: Store, ids: np.ndarray, X: np.ndarray, stored: int) -> object:
    """A cache of the first ``stored`` rows, the rest stored in SQLite as the tail."""
    conn = sql(lib)
    conn.execute("BEGIN")
    for i, v in zip(ids.tolist(), X, strict=True):
        conn.execute("INSERT OR IGNORE INTO images(id, content_hash, width, height, model_id, processed_at) "
                     "VALUES (1, 'h', 1, 1, ?, 'now')", (MODEL,))
        conn.execute("INSERT INTO faces(id, image_id, x1, y1, x2, y2, landmarks, det_score, quality, model_id, "
                     "embedding) VALUES (?, 1, 0, 0, 1, 1, x'', 1, 1, ?, ?)", (i, MODEL, v.tobytes()))
    conn.execute("COMMIT")
    save_vectors(lib.folder, MODEL, ids[:stored], X[:stored])
    return load_vectors(store, lib.folder, MODEL)


def test_nearest_is_exact_with_one_cell(lib: Library, store: Store) -> None:
    X = _unit_rows(500, 16, 8)
    ids = np.arange(1, 501, dtype=np.int64) * 3
    cache = _cache(lib, store, ids, X, 400)
    q = X[[3, 450, 10]]
    sims, found = cache.nearest(q, 7)
    assert found.tolist() == _exact(q, X, ids, 7)
    assert np.allclose(sims, np.sort(q @ X.T, axis=1)[:, ::-1][:, :7], atol=1e-6)
    assert np.array_equal(cache.get(ids[[450, 3]]), X[[450, 3]])


def test_nearest_over_cells_finds_near_faces(lib: Library, store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vector_cache, "CELL_MIN_FACES", 100)
    monkeypatch.setattr(vector_cache, "FACES_PER_CELL", 40)  # 25 cells, 12 searched
    centres = _unit_rows(50, 16, 9)
    rng = np.random.default_rng(10)
    X = centres[np.arange(1000) % 50] + rng.normal(scale=0.05, size=(1000, 16)).astype(np.float32)
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    ids = np.arange(1, 1001, dtype=np.int64)
    cache = _cache(lib, store, ids, X, 1000)
    assert len(cache.offsets) - 1 == 25
    q = X[::37]
    _, found = cache.nearest(q, 10)
    exact = _exact(q, X, ids, 10)
    hits = sum(len(set(f) & set(e)) for f, e in zip(found.tolist(), exact, strict=True))
    assert found[:, 0].tolist() == ids[::37].tolist()  # each query finds itself first
    assert hits >= 0.95 * 10 * len(q)
    assert np.array_equal(cache.get(ids[[999, 0, 500]]), X[[999, 0, 500]])
