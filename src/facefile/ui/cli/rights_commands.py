"""Subject-rights commands: forget, export-person, opt-out, audit. Registered on the main `facefile` group."""
from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import click
from rich.table import Table

from facefile.library.subject_rights import ErasureReport
from facefile.ui.cli.main import (
    console,
    fail_on_library_error,
    json_option,
    library_option,
    main,
    open_library,
    out,
)


def _confirm(yes: bool, question: str) -> None:
    if not yes and not click.confirm(question, default=False, err=True):
        raise click.Abort()


def _report_scrub(report: ErasureReport) -> None:
    if not report.scrubbed:
        console.print("[yellow]Another program kept the library open, so its write-ahead log could not be "
                      "emptied yet: close it (e.g. `facefile serve`) and run the command again.")


@main.command()
@click.argument("person", required=False)
@library_option
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--clear-markers", is_flag=True,
              help="Instead: let faces erased before be filed again if their photos are processed anew.")
@fail_on_library_error
def forget(person: str | None, library_path: Path | None, yes: bool, clear_markers: bool) -> None:
    """Erase PERSON: faces, embeddings, boxes, crops, name and corrections, beyond recovery.

    Later scans do not file these faces again from the same photos."""
    with open_library(library_path) as lib:
        if clear_markers:
            _confirm(yes, "Faces erased before may come back when their photos are processed again. Go on?")
            out.print(f"{lib.rights.clear_forgotten_markers()} markers cleared")
            return
        if person is None:
            raise click.UsageError("give a PERSON (id or name) to forget, or --clear-markers")
        summary = lib.person(person)
        _confirm(yes, f"Erase {summary.label} (id {summary.id}) and {summary.faces} faces for good?")
        report = lib.rights.forget(summary.id)
        out.print(f"person {report.person_id} erased: {report.faces} faces, {report.files_removed} cached images")
        _report_scrub(report)


@main.command("export-person")
@click.argument("person")
@click.argument("output", type=click.Path(dir_okay=False, path_type=Path))
@library_option
@fail_on_library_error
def export_person(person: str, output: Path, library_path: Path | None) -> None:
    """Everything the library holds about PERSON, as OUTPUT (a zip of person.json and face crops)."""
    with open_library(library_path) as lib:
        record = lib.rights.export_person(person, output)
        crops = sum(1 for f in record["faces"] if f["crop"])
        out.print(f"wrote {output}: {len(record['faces'])} faces, {crops} crops")


@main.command("opt-out")
@click.argument("person", required=False)
@library_option
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--remove", "remove_id", type=int, default=None, metavar="TEMPLATE-ID",
              help="Delete this opt-out template: the person may be filed again.")
@click.option("--list", "list_all", is_flag=True, help="List the opt-out templates.")
@json_option
@fail_on_library_error
def opt_out(person: str | None, library_path: Path | None, yes: bool, remove_id: int | None, list_all: bool,
            as_json: bool) -> None:
    """PERSON is never filed again: erased now, and their faces are not stored by later scans.

    One template is kept for this: the mean of their embeddings, nothing else (see README)."""
    with open_library(library_path) as lib:
        if list_all:
            templates = lib.rights.opt_outs()
            if as_json:
                out.print_json(data=[asdict(t) for t in templates])
                return
            for t in templates:
                out.print(f"{t.id}  {t.model_id}  threshold {t.threshold:.3f}  since {t.created_at}")
            console.print(f"{len(templates)} opt-out templates")
            return
        if remove_id is not None:
            _report_scrub(lib.rights.remove_opt_out(remove_id))
            out.print(f"opt-out template {remove_id} removed")
            return
        if person is None:
            raise click.UsageError("give a PERSON (id or name), or --remove TEMPLATE-ID, or --list")
        summary = lib.person(person)
        _confirm(yes, f"Erase {summary.label} (id {summary.id}) and keep them from being filed again?")
        report = lib.rights.opt_out(summary.id)
        out.print(f"person {report.person_id} opted out (template {report.template_id}): "
                  f"{report.faces} faces erased, {report.files_removed} cached images")
        _report_scrub(report)


@main.command()
@library_option
@json_option
@fail_on_library_error
def audit(library_path: Path | None, as_json: bool) -> None:
    """The append-only log of forget, export-person and opt-out: what, when, which person, how many faces."""
    with open_library(library_path) as lib:
        entries = lib.rights.audit_log()
        if as_json:
            out.print_json(data=[asdict(e) for e in entries])
            return
        table = Table("id", "when", "what", "person", "template", "faces", "detail", box=None)
        for e in entries:
            table.add_row(str(e.id), e.at, e.action, str(e.person_id or ""), str(e.template_id or ""),
                          str(e.faces), e.detail or "")
        out.print(table)
