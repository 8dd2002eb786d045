"""Commands about who is where: birth dates, faces drawn by hand, photos of several people.
Registered on the main `facefile` group."""
from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import click
from rich.markup import escape
from rich.table import Table

from facefile.ui.cli.main import (
    console,
    fail_on_library_error,
    json_option,
    library_option,
    main,
    open_library,
    out,
)


@main.command()
@click.argument("person")
@click.argument("date", required=False)
@click.option("--clear", is_flag=True, help="Forget the birth date.")
@library_option
@fail_on_library_error
def birthday(person: str, date: str | None, clear: bool, library_path: Path | None) -> None:
    """Set PERSON's birth DATE (YYYY-MM-DD), which you know: facefile never guesses an age.

    No face from a photo taken before DATE is ever filed into PERSON again; their automatic faces
    from earlier photos leave them now (confirmed ones make it an error: you decide).

    Example: facefile birthday Anna 2015-06-02
    """
    if clear == (date is not None):
        raise click.UsageError("give a DATE (YYYY-MM-DD) or --clear")
    with open_library(library_path) as lib:
        change = lib.birthdays.set(person, None if clear else date)
        label = change.person.label
        if change.birth_date is None:
            out.print(f"{label}: birth date cleared", markup=False)
            return
        out.print(f"{label} (id {change.person.id}) was born on {change.birth_date}", markup=False)
        if change.released:
            console.print(f"{len(change.released)} faces from earlier photos left {escape(label)}; "
                          f"`facefile recluster` groups them again")


@main.command("add-face")
@click.argument("photo")
@click.argument("x1", type=float)
@click.argument("y1", type=float)
@click.argument("x2", type=float)
@click.argument("y2", type=float)
@click.argument("person")
@library_option
@fail_on_library_error
def add_face(photo: str, x1: float, y1: float, x2: float, y2: float, person: str, library_path: Path | None) -> None:
    """Add a face the detector missed: the box X1 Y1 X2 Y2 (pixels of the upright photo, top-left to
    bottom-right) of PHOTO (a scanned file or a photo id) is PERSON (id, name, or `new`).

    Example: facefile add-face holiday/IMG_0042.jpg 410 120 520 260 Anna
    """
    with open_library(library_path) as lib:
        drawn = lib.drawn_faces.add(photo, (x1, y1, x2, y2), None if person.lower() == "new" else person)
        label = lib.person(drawn.person_id).label
        how = ("found and aligned: it counts in grouping" if drawn.embedded
               else "no face could be aligned in the box: it is filed, but not used for grouping")
        out.print(f"face {drawn.face_id} in photo {drawn.image_id} is {label} (id {drawn.person_id}); {how}",
                  markup=False)


@main.command()
@click.option("--with", "persons", multiple=True, required=True, metavar="PERSON",
              help="A person (id or name) the photos show; repeat for several.")
@click.option("--only", is_flag=True,
              help="Only photos where nobody else is filed (faces of no person, or of hidden persons, do not count).")
@click.option("--limit", type=int, default=1000, show_default=True)
@library_option
@json_option
@fail_on_library_error
def photos(persons: tuple[str, ...], only: bool, limit: int, library_path: Path | None, as_json: bool) -> None:
    """Photos that show every person given with --with, oldest first.

    Example: facefile photos --with Anna --with Ben --only
    """
    with open_library(library_path) as lib:
        found, total = lib.review.photos_with(persons, only=only, limit=limit)
        if as_json:
            out.print_json(data={"total": total, "photos": [
                {**asdict(p), "faces": {str(k): v for k, v in p.faces.items()}, "file": str(lib.abs_path(p.path))}
                for p in found]})
            return
        table = Table("photo", "date", "path", "others", "unassigned", box=None)
        for p in found:
            table.add_row(str(p.id), (p.taken_at or "")[:10], escape(p.path), str(p.others), str(p.unassigned))
        out.print(table)
        console.print(f"{total} photos" + (f" ({len(found)} shown: --limit)" if total > len(found) else ""))
