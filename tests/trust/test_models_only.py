"""No demographic inference anywhere: a scan loads exactly the registered face detector and embedder
(by sha256), and no unknown model file sits in the installed package or the model folder."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from facefile_bench.lfw import identities, link_sample

import facefile
from facefile.vision.models import MODELS, model_dir, sha256_of

pytestmark = pytest.mark.data

# Weight files of the usual frameworks (XML and .bin are left out: XMP templates and other data use them).
MODEL_SUFFIXES = {".onnx", ".dat", ".pb", ".tflite", ".pt", ".pth", ".caffemodel", ".h5", ".keras",
                  ".safetensors", ".mlmodel", ".weights"}
ATTRIBUTES = ("age", "gender", "sex", "ethnic", "race", "emotion", "expression", "beauty", "attractiv")

# Runs in a fresh process: records every path handed to OpenCV's model loaders during a scan.
RECORD_LOADS = """
import json, sys
from pathlib import Path
import cv2

loads = []

class Recording:
    def __init__(self, real):
        self.real = real
    def create(self, path, *args, **kwargs):
        loads.append(str(path))
        return self.real.create(path, *args, **kwargs)

def recording(real):
    def load(path, *args, **kwargs):
        loads.append(str(path))
        return real(path, *args, **kwargs)
    return load

cv2.FaceDetectorYN = Recording(cv2.FaceDetectorYN)
cv2.FaceRecognizerSF = Recording(cv2.FaceRecognizerSF)
for name in [n for n in dir(cv2.dnn) if n.startswith("readNet")]:
    setattr(cv2.dnn, name, recording(getattr(cv2.dnn, name)))
if hasattr(cv2, "CascadeClassifier"):
    cv2.CascadeClassifier = recording(cv2.CascadeClassifier)

from facefile import Library
from facefile.vision.models import loaded_models

with Library.open(sys.argv[2]) as lib:
    report = lib.scan(sys.argv[1], workers=1)
print(json.dumps({"loads": loads, "registry": [m.name for m in loaded_models()], "faces": report.faces_added}))
"""


def test_a_scan_loads_exactly_the_registered_detector_and_embedder(shared_data: Path, tmp_path: Path) -> None:
    ids = identities(shared_data / "lfw_dev")
    link_sample([(p, name) for name in list(ids)[:3] for p in ids[name][:1]], tmp_path / "photos")
    done = subprocess.run([sys.executable, "-c", RECORD_LOADS, str(tmp_path / "photos"), str(tmp_path / "lib")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["faces"] >= 3
    by_hash = {m.sha256: m.name for m in MODELS.values()}
    loaded = sorted(by_hash.get(sha256_of(Path(p)), f"UNKNOWN {p}") for p in seen["loads"])
    assert loaded == ["sface", "yunet"]
    assert sorted(seen["registry"]) == ["sface", "yunet"]


def test_every_registered_model_finds_faces_or_identities_and_nothing_else() -> None:
    for model in MODELS.values():
        task = model.task.lower()
        assert "face" in task and not any(word in task for word in ATTRIBUTES), model


def test_no_unknown_model_file_is_installed() -> None:
    known = {m.sha256 for m in MODELS.values()}
    folders = [Path(facefile.__file__).resolve().parent, model_dir()]
    unknown = [
        path for folder in folders if folder.is_dir() for path in folder.rglob("*")
        if path.is_file() and path.suffix.lower() in MODEL_SUFFIXES and sha256_of(path) not in known
    ]
    assert unknown == []
    assert {p.name for p in model_dir().iterdir() if p.suffix == ".onnx"} <= {m.filename for m in MODELS.values()}
