"""Interoperability commands: write-xmp, import-xmp. Registered on the main `facefile` group."""
from __future__ import annotations

import sys
from collections import Counter
from dataclasses import asdict
from pathlib import Path

import click

from facefile.ui.cli.main import (
    console,
    fail_on_library_error,
    json_option,
    library_option,
    main,
    open_library,
    out,
)
from facefile.ui.cli.progress_bars import RichProgress


@main.command("write-xmp")
@library_option
@click.option("--sidecar", "mode", flag_value="sidecar", default=True,
              help="Write PHOTO.jpg.xmp sidecars, merged with an existing one; photos are never modified (default).")
@click.option("--embed", "mode", flag_value="embed",
              help="Write into the photo's own XMP (JPEG, PNG, WebP, TIFF, HEIC; atomically, pixels and other "
                   "metadata untouched); RAW files and other formats get a sidecar, and the reason is printed.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@json_option
@fail_on_library_error
def write_xmp(library_path: Path | None, mode: str, quiet: bool, as_json: bool) -> None:
    """Write the names of named persons as MWG face regions (digiKam, Lightroom, Picasa read them)."""
    with open_library(library_path) as lib:
        with RichProgress(console, enabled=not quiet and not as_json) as progress:
            report = lib.interop.write_xmp(embed=mode == "embed", progress=progress)
        if as_json:
            out.print_json(data=asdict(report))
        else:
            console.print(
                f"{report.files} photos: {report.regions} named face regions; {report.sidecars} sidecars, "
                f"{report.embedded} written in place ({report.seconds:.1f} s)"
            )
            reasons = Counter(reason for _, reason in report.not_in_place)
            for reason, count in reasons.most_common():
                console.print(f"{count} photos written to sidecars instead: {reason}")
            for path, reason in report.errors:
                console.print(f"[yellow]{path}: {reason}")
        if report.errors:
            sys.exit(1)


@main.command("import-xmp")
@library_option
@json_option
@fail_on_library_error
def import_xmp(library_path: Path | None, as_json: bool) -> None:
    """Read face names other tools wrote (XMP regions in photos and sidecars) for photos already
    scanned, e.g. after naming faces in digiKam. Names you corrected in facefile are kept."""
    with open_library(library_path) as lib:
        report = lib.interop.import_xmp()
        if as_json:
            out.print_json(data=asdict(report))
            return
        console.print(
            f"{report.files_with_regions} photos with named regions: {report.names_queued} new names, "
            f"{report.confirmed} confirmed, {report.conflicts} kept as you decided, "
            f"{report.manual_faces} faces added by hand (no face detected there)"
        )
