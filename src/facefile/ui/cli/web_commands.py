"""`facefile serve`: the local People UI. Registered on the main `facefile` group."""
from __future__ import annotations

import ipaddress
from pathlib import Path

import click

from facefile.ui.cli.main import console, fail_on_library_error, library_option, main, open_library, out

DEFAULT_PORT = 8765


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def serve_url(host: str, port: int, token: str) -> str:
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else (f"[{host}]" if ":" in host else host)
    return f"http://{shown}:{port}/?token={token}"


@main.command()
@library_option
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on. Anything but loopback also needs --allow-remote.")
@click.option("--port", type=click.IntRange(1, 65535), default=DEFAULT_PORT, show_default=True)
@click.option("--allow-remote", is_flag=True,
              help="Let other machines connect (the library is biometric data: only on a network you trust).")
@fail_on_library_error
def serve(library_path: Path | None, host: str, port: int, allow_remote: bool) -> None:
    """Review, name, merge and fix persons in your browser (a local web app)."""
    import uvicorn

    from facefile.ui.web.app import create_app
    from facefile.ui.web.security import library_token

    remote = not is_loopback(host)
    if remote and not allow_remote:
        raise click.ClickException(
            f"--host {host} would let other machines see every face in the library; "
            "add --allow-remote if that is what you want"
        )
    with open_library(library_path) as lib:  # fails cleanly when there is no library yet
        folder = lib.folder
    token = library_token(folder)
    app = create_app(folder, host=host, port=port, allow_any_host=remote, token=token)
    if remote:
        console.print(
            f"[bold yellow]Warning:[/] listening on {host}: anyone who can reach this machine and has the "
            "link below can see and change every person in the library. The connection is not encrypted."
        )
    out.print(f"facefile serves {folder}")
    out.print(f"Open {serve_url(host, port, token)}", soft_wrap=True)
    console.print("Ctrl-C to stop.")
    uvicorn.run(app, host=host, port=port, log_level="warning", server_header=False)
