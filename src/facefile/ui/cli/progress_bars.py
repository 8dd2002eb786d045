"""Rich progress bars with an ETA for long operations (a ``facefile.pipeline.ScanProgress``)."""
from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text


class CountColumn(ProgressColumn):
    """``done/total``, or ``done`` while the total is unknown; nothing for a stage that counts
    nothing (loading models in-process): a ``0/0`` or ``0/?`` would say it never moved."""

    def render(self, task: Task) -> Text:
        if not task.fields.get("counted"):
            return Text("")
        done = int(task.completed)
        return Text(f"{done}" if task.total is None else f"{done}/{int(task.total)}", style="progress.download")


class RichProgress:
    """One bar per stage; a stage without a known total shows a spinner and the count so far."""

    def __init__(self, console: Console, enabled: bool = True) -> None:
        self.progress = Progress(
            SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), CountColumn(),
            TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
            console=console, disable=not enabled, transient=False,
            # stdout stays stdout (a report piped to a script), whatever terminal shows the bars
            redirect_stdout=False,
        )
        self.task: TaskID | None = None

    def __enter__(self) -> RichProgress:
        self.progress.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._finish()
        self.progress.stop()

    def stage(self, name: str, total: int | None = None) -> None:
        self._finish()
        self.task = self.progress.add_task(name, total=total, counted=total is not None)

    def advance(self, n: int = 1) -> None:
        if self.task is not None:
            self.progress.update(self.task, advance=n, counted=True)

    def _finish(self) -> None:
        """The stage is over: its bar full, at the count it reached (a stage that counted nothing
        shows a full bar and no count)."""
        if self.task is not None:
            task = self.progress.tasks[-1]
            if task.fields.get("counted"):
                self.progress.update(self.task, total=task.completed)
            else:
                self.progress.update(self.task, total=1, completed=1)
