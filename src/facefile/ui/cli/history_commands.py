"""Undo and history: `facefile history`, `facefile undo`. Registered on the main `facefile` group."""
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
@library_option
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True, help="How many actions.")
@json_option
@fail_on_library_error
def history(library_path: Path | None, limit: int, as_json: bool) -> None:
    """Your recent actions (names, merges, moves, rejections, ...), newest first, and which are undone.

    Example: facefile history --limit 5
    """
    with open_library(library_path) as lib:
        entries = lib.history.recent(limit)
        if as_json:
            out.print_json(data=[{**asdict(e), "undone": e.undone} for e in entries])
            return
        if not entries:
            console.print("No actions yet.")
            return
        table = Table("id", "when", "action", "what", "undone", box=None)
        for e in entries:
            table.add_row(str(e.id), e.at[:16].replace("T", " "), e.action, escape(e.summary),
                          (e.undone_at or "")[:16].replace("T", " "))
        out.print(table)
        console.print("Undo the newest with `facefile undo`, an older one with `facefile undo ID`.")


@main.command()
@click.argument("entry", type=int, required=False)
@library_option
@click.option("--yes", is_flag=True, help="Do not ask when later actions are undone with it.")
@fail_on_library_error
def undo(entry: int | None, library_path: Path | None, yes: bool) -> None:
    """Undo your newest action, or action ENTRY (an id from `facefile history`) and every action
    after it. Exactly what the action changed is put back, so later re-groupings see your earlier
    decisions again.

    Example: facefile undo        # the newest action
    """
    with open_library(library_path) as lib:
        target = lib.history.entry(entry) if entry is not None else lib.history.latest_undoable()
        if target is None:
            raise click.ClickException("nothing to undo")
        later = [] if target.undone else lib.history.later_than(target.id)
        if later and not yes:
            console.print(f"Undoing {target.id} ({target.summary}) also undoes the {len(later)} later action"
                          f"{'s' if len(later) != 1 else ''}:", markup=False)
            for e in later:
                console.print(f"  {e.id}: {e.summary}", markup=False)
            if not click.confirm("Undo them all?", default=False, err=True):
                raise click.Abort()
        out.print(lib.history.undo(target.id).message, markup=False)
