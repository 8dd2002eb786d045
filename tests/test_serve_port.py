"""`facefile serve` on a busy port (issue 15: `make run` printed "Open http://…" and then died with
a raw `Errno 98`): the port is checked before the URL is printed, and the message says what to do."""
from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from facefile.library import Library
from facefile.ui.cli import main

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port another process (here: this one) listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def test_a_busy_port_is_a_clear_error_before_any_url(tmp_path: Path, busy_port: int,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    Library.open(tmp_path / ".facefile").close()
    started: list[dict] = []
    monkeypatch.setattr("uvicorn.run", lambda app, **kwargs: started.append(kwargs))
    result = CliRunner().invoke(main, ["serve", "--library", str(tmp_path / ".facefile"), "--port", str(busy_port)])
    assert result.exit_code == 1 and not started
    assert "Open http" not in result.output and "Errno" not in result.output
    suggested = re.search(r"facefile serve --port (\d+)", result.output)
    assert suggested and f"127.0.0.1:{busy_port}" in result.output, result.output
    with socket.socket() as probe:  # the port suggested is one that is free
        probe.bind(("127.0.0.1", int(suggested[1])))
    free = CliRunner().invoke(main, ["serve", "--library", str(tmp_path / ".facefile"), "--port", suggested[1]])
    assert free.exit_code == 0 and started[-1]["port"] == int(suggested[1])


def test_make_run_passes_the_port_on() -> None:
    run = (ROOT / "Makefile").read_text().split("\nrun:", 1)[1].split("\n\n", 1)[0]
    assert '--port "$(PORT)"' in run and "serve" in run
