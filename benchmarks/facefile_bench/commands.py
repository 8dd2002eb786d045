"""``facefile bench ...``: the benchmark commands, registered on the ``facefile`` command through the
``facefile.commands`` entry point when the benchmarks are installed (``make install-dev``).

``--data`` is the folder of research data (``lfw_dev/``, ``masked_dev/``, ``embeddings/``), read in
place: pass it, or set ``$FACEFILE_BENCH_DATA`` (``make bench`` passes ``../shared/data``).
"""
from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console

from facefile.ui.cli.progress_bars import RichProgress

console = Console(stderr=True)


@click.group()
def bench() -> None:
    """Benchmarks: re-runnable numbers against the tools facefile competes with."""


@bench.command("scan")
@click.option("--data", type=click.Path(exists=True, file_okay=False, path_type=Path), envvar="FACEFILE_BENCH_DATA", required=True, help="Folder with lfw_dev/ inside (read in place, never copied).")
@click.option("--photos", type=int, default=1000, show_default=True, help="Photos in the speed scan.")
@click.option("--backend", type=click.Choice(["opencv", "dlib"]), default=None)
@click.option("--workers", type=int, default=None)
def bench_scan(data: Path, photos: int, backend: str | None, workers: int | None) -> None:
    """Scan speed (photos/s) on LFW photos, and persons' BCubed F against the ported baselines."""
    from facefile_bench.scan_bench import run

    click.echo(run(data, photos=photos, backend=backend, workers=workers))


@bench.command("speed")
@click.option("--data", type=click.Path(exists=True, file_okay=False, path_type=Path), envvar="FACEFILE_BENCH_DATA", required=True, help="Folder with lfw_dev/ inside (read in place).")
@click.option("--photos", type=int, default=40, show_default=True, help="12 MP photos to generate.")
@click.option("--workers", type=int, default=2, show_default=True)
@click.option("--no-face-recognition", is_flag=True, help="Skip the face_recognition library's pipeline.")
@click.option("--ray", is_flag=True,
              help="Also scan through Ray (local instance, 1 then 2 workers): ray_scaling and same faces (needs facefile[ray]).")
def bench_speed(data: Path, photos: int, workers: int, no_face_recognition: bool, ray: bool) -> None:
    """Scan speed on 12 MP photos against the face_recognition library (same inputs, one run)."""
    from facefile_bench.speed import run

    click.echo(run(data, photos=photos, workers=workers, include_face_recognition=not no_face_recognition, ray=ray))


@bench.command("scale")
@click.option("--data", type=click.Path(exists=True, file_okay=False, path_type=Path), envvar="FACEFILE_BENCH_DATA", required=True, help="Folder with embeddings/sface_dev.npz inside (the fit's source).")
@click.option("--faces", type=int, default=1_000_000, show_default=True)
@click.option("--identities", type=int, default=None, help="Default: faces / 10.")
@click.option("--parts", type=int, default=32, show_default=True, help="Parts of the partitioned clustering.")
@click.option("--tmp", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where to build the library (needs ~1 GB per million faces).")
def bench_scale(data: Path, faces: int, identities: int | None, parts: int, tmp: Path | None) -> None:
    """A million-face library: re-cluster time and memory, adding 100 faces, opening, partitioning."""
    from facefile_bench.scale import run

    with RichProgress(Console(stderr=True)) as progress:
        text = run(data, faces=faces, identities=identities, parts=parts, folder=tmp, progress=progress)
    click.echo(text)


@bench.command("ui")
@click.option("--persons", type=int, default=5000, show_default=True)
@click.option("--faces", type=int, default=100_000, show_default=True)
@click.option("--largest", type=int, default=2000, show_default=True, help="Faces of the largest person.")
def bench_ui(persons: int, faces: int, largest: int) -> None:
    """Server time of the People page, a large person's page, the next review question and undo, on
    a synthetic library."""
    from facefile_bench.ui_bench import run

    click.echo(run(persons=persons, faces=faces, largest=largest))


@bench.command("xmp")
@click.option("--photos", type=int, default=10_000, show_default=True)
def bench_xmp(photos: int) -> None:
    """Time to write XMP face regions for PHOTOS photos (sidecars and embedded)."""
    from facefile_bench.xmp_bench import run

    click.echo(run(photos=photos))


@bench.command("quality")
@click.option("--data", type=click.Path(exists=True, file_okay=False, path_type=Path), envvar="FACEFILE_BENCH_DATA", required=True, help="Folder with lfw_dev/ and masked_dev/ inside (read in place).")
@click.option("--set", "sets", multiple=True, help="lfw, lfw-all, masked, lowres24, lowres32, eyes, jpeg15, "
              "groups, replay, corrections (repeatable; default: all).")
@click.option("--backend", type=click.Choice(["opencv", "dlib"]), default="opencv", show_default=True)
@click.option("--workers", type=int, default=None, help="Embedding processes (default: all cores).")
@click.option("--video", is_flag=True, help="Instead: faces in generated videos (recall, faces per appearance, BCubed F).")
def bench_quality(data: Path, sets: tuple[str, ...], backend: str, workers: int | None, video: bool) -> None:
    """Person quality of facefile and every baseline on the same embeddings: tables and key=value lines."""
    from facefile_bench.quality_run import run

    if video:
        from facefile_bench import video_bench

        click.echo(video_bench.run(data, workers=workers or 2))
        return

    with RichProgress(console) as progress:
        for block in run(data, sets or None, backend=backend, workers=workers, progress=progress):
            if sys.stdout.isatty():  # the same terminal as the bars: shown above them
                progress.progress.console.print(block, markup=False, highlight=False, soft_wrap=True)
            else:  # a pipe or a file: the report goes to stdout for scripts, the bars stay on stderr
                click.echo(block)




@bench.command("crash")
@click.option("--data", type=click.Path(exists=True, file_okay=False, path_type=Path), envvar="FACEFILE_BENCH_DATA", required=True, help="Folder with lfw_dev/ inside (read in place, never copied).")
@click.option("--photos", type=int, default=400, show_default=True)
@click.option("--kills", type=int, default=50, show_default=True)
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--workers", type=int, default=2, show_default=True)
def bench_crash(data: Path, photos: int, kills: int, seed: int, workers: int) -> None:
    """SIGKILL a scan at random moments, resume each time; compare with an uninterrupted scan."""
    from facefile_bench.crash_bench import run

    click.echo(run(data, photos=photos, kills=kills, seed=seed, workers=workers))
