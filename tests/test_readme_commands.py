"""Every `facefile ...` command line in the README's code blocks parses: its command exists and takes
the options and arguments shown (issue 15: the README named an `export --format digikam` that
never existed). Parsed by click itself, as the shell would hand it over; nothing runs."""
from __future__ import annotations

import re
import shlex
from pathlib import Path

import click
import pytest

from facefile.ui.cli import main

README = Path(__file__).resolve().parent.parent / "README.md"


def readme_command_lines() -> list[str]:
    """The `facefile ...` lines of README.md's fenced code blocks, comments and prompts removed,
    continuation lines joined."""
    lines: list[str] = []
    for block in re.findall(r"^```[a-z]*\n(.*?)^```", README.read_text(encoding="utf-8"), flags=re.S | re.M):
        for line in block.replace("\\\n", " ").splitlines():
            words = shlex.split(line.lstrip("$ "), comments=True)
            if words and words[0] == "facefile":
                lines.append(shlex.join(words))
    return lines


def readme_inline_commands() -> list[str]:
    """`facefile ...` in the README's running text, but for usage sketches (``[--set NAME …]``,
    ``bench ...``): these may leave out arguments (`facefile move`), not name what does not exist."""
    text = re.sub(r"^```.*?^```", "", README.read_text(encoding="utf-8"), flags=re.S | re.M)
    spans = set(re.findall(r"`(facefile [^`]+)`", text))
    return sorted(s for s in spans if not any(mark in s for mark in ("[", "…", "...")))


def parse(args: list[str], where: Path) -> None:
    """Build click's context for ``facefile ARGS`` down to the last subcommand, as a run would
    before calling it. A folder the README names that does not exist here (``~/Pictures``) is
    swapped for ``where``: the README cannot know the reader's folders."""
    for _ in range(len(args) + 1):
        try:
            _contexts(args)
            return
        except click.BadParameter as exc:
            missing = [i for i, a in enumerate(args) if f"'{a}'" in exc.format_message()]
            if not (isinstance(exc.param, click.Parameter) and isinstance(exc.param.type, click.Path) and missing):
                raise
            args = [str(where) if i in missing else a for i, a in enumerate(args)]
    raise AssertionError(f"could not parse {args}")


def _contexts(args: list[str]) -> None:
    command: click.Command = main
    ctx = command.make_context("facefile", list(args))
    while isinstance(command, click.Group):
        rest = [*ctx._protected_args, *ctx.args]  # noqa: SLF001 - what the group left to its subcommand
        if not rest:
            break
        name, sub, rest = command.resolve_command(ctx, rest)
        assert sub is not None and name is not None
        command, ctx = sub, sub.make_context(name, rest, parent=ctx)


def test_the_readme_shows_commands() -> None:
    assert len(readme_command_lines()) >= 20


@pytest.mark.parametrize("line", readme_command_lines())
def test_every_readme_command_line_parses(line: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    args = [str(Path(a).expanduser()) if a.startswith("~") else a for a in shlex.split(line)[1:]]
    try:
        parse(args, tmp_path)
    except click.UsageError as exc:
        pytest.fail(f"README: `{line}` does not parse: {exc.format_message()}")


@pytest.mark.parametrize("span", readme_inline_commands())
def test_every_command_named_in_the_readme_text_exists(span: str, tmp_path: Path) -> None:
    try:
        parse(shlex.split(span)[1:], tmp_path)
    except click.MissingParameter:
        pass  # `facefile move` in a sentence: the command, not a whole line
    except click.UsageError as exc:
        pytest.fail(f"README: `{span}` names what does not exist: {exc.format_message()}")


def test_a_wrong_line_is_caught(tmp_path: Path) -> None:
    """The check itself: the README's old digiKam line fails it."""
    with pytest.raises(click.BadParameter, match="digikam"):
        parse(["export", "--format", "digikam"], tmp_path)
