"""The driver of ``facefile bench quality``: embed each requested set, score it, yield its report."""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from facefile.pipeline.scan_config import default_workers
from facefile.vision import model_id_of
from facefile_bench.embed_cache import EmbeddingCache
from facefile_bench.quality_sets import ALL_SETS, build_set, report_set
from facefile_bench.replay import corrections, replay


def run(
    data: Path, sets: Sequence[str] | None = None, *, backend: str = "opencv", workers: int | None = None,
    progress: Any = None,
) -> Iterator[str]:
    """One markdown block per set, each ending with its key=value line."""
    model_id = model_id_of(backend)
    cache = EmbeddingCache(model_id)
    workers = workers or default_workers()
    for name in sets or ALL_SETS:
        if name not in ALL_SETS:
            raise ValueError(f"unknown set {name!r}; choose from {', '.join(ALL_SETS)}")
        if progress is not None:
            progress.stage(f"Embedding {name}")
        faces = build_set(name, data, cache, backend, workers, progress.advance if progress is not None else None)
        faces.name = name
        if name == "replay":
            table, fields = replay(faces, model_id)
            yield (f"### replay: {len(faces.X)} LFW faces in 10 batches, dealt onto photos of 1-4 people; "
                   f"calibrated = learned from same-photo pairs (no simulated confirmations)\n\n{table}\n\n{' '.join(fields)}\n")
        elif name == "corrections":
            text, fields = corrections(faces, model_id)
            yield f"### corrections: {len(faces.X)} LFW faces\n\n{text}\n\n{' '.join(fields)}\n"
        else:
            yield report_set(faces, model_id)
