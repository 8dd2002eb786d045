"""`facefile serve`: the local People UI. Registered on the main `facefile` group."""
from __future__ import annotations

import ipaddress
import socket
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


def listening_socket(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` (``OSError`` when the port is taken): ``serve`` binds one and
    lets it go before uvicorn binds its own, so a busy port is told before the URL is printed."""
    family, kind, proto, _, address = socket.getaddrinfo(
        host.strip("[]"), port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    sock = socket.socket(family, kind, proto)
    try:
        # As uvicorn does: a port left in TIME_WAIT by a stopped server is reusable at once; one
        # another process listens on still fails to bind.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError:
        sock.close()
        raise
    return sock


def free_port(host: str, after: int) -> int | None:
    """The first port after ``after`` that ``host`` can listen on (of the next 100), else None."""
    for candidate in range(after + 1, min(after + 101, 65536)):
        try:
            listening_socket(host, candidate).close()
        except OSError:
            continue
        return candidate
    return None


def port_in_use_message(host: str, port: int, error: OSError) -> str:
    suggestion = free_port(host, port)
    hint = (f"try `facefile serve --port {suggestion}` (or `make run PHOTOS=... PORT={suggestion}`)"
            if suggestion else "choose another with --port N")
    return f"cannot listen on {host}:{port}: {error.strerror or error} (another facefile serve?); {hint}"


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
    try:
        listening_socket(host, port).close()
    except OSError as exc:
        raise click.ClickException(port_in_use_message(host, port, exc)) from exc
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
