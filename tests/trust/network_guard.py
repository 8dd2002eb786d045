"""Refuse every network use except loopback, and log each attempt: for the offline tests.

``install(log)`` patches ``socket`` (connect, connect_ex, sendto, bind, getaddrinfo, gethostbyname,
create_connection) so that only loopback addresses and Unix sockets work; anything else raises
``OSError(ENETUNREACH)`` and appends a line to ``log``. Commands that fetch things (pip, curl, wget,
git) are refused the same way. ``sitecustomize_for(folder, log)`` writes a ``sitecustomize.py``
that installs the guard in every Python process started with ``PYTHONPATH=folder`` (a scan's
worker processes included) and notes each such process in ``log + ".active"``.
"""
from __future__ import annotations

import errno
import ipaddress
import os
import socket
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

FETCHERS = ("pip", "curl", "wget", "git")


def is_loopback(host: object) -> bool:
    if isinstance(host, bytes):
        host = host.decode()
    if host in (None, "localhost"):
        return True
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return False  # a name other than localhost would need a resolver, i.e. the network


def install(log: str, setattr_: Callable[[Any, str, Any], None] = setattr) -> None:
    """Guard this process. ``setattr_`` may be pytest's ``monkeypatch.setattr`` (undone after a test)."""

    def refuse(what: str, target: object) -> None:
        with open(log, "a") as f:
            f.write(f"{os.getpid()} {what} {target!r}\n")
        raise OSError(errno.ENETUNREACH, f"network disabled by the offline test: {what} {target!r}")

    def inet(sock: socket.socket) -> bool:
        return sock.family in (socket.AF_INET, socket.AF_INET6)

    def wrap_address_call(name: str, position: int) -> None:
        real = getattr(socket.socket, name)

        def guarded(self: socket.socket, *args: Any) -> Any:
            address = args[position] if len(args) > position else None
            if inet(self) and isinstance(address, tuple) and not is_loopback(address[0]):
                refuse(name, address)
            return real(self, *args)

        setattr_(socket.socket, name, guarded)

    wrap_address_call("connect", 0)
    wrap_address_call("connect_ex", 0)
    wrap_address_call("bind", 0)  # "" or 0.0.0.0 means every interface: refused too
    real_sendto = socket.socket.sendto

    def sendto(self: socket.socket, *args: Any) -> Any:
        address = args[-1]
        if inet(self) and isinstance(address, tuple) and not is_loopback(address[0]):
            refuse("sendto", address)
        return real_sendto(self, *args)

    setattr_(socket.socket, "sendto", sendto)
    for name in ("getaddrinfo", "gethostbyname", "gethostbyname_ex", "create_connection"):
        real = getattr(socket, name)

        def resolver(host: Any, *args: Any, _real: Any = real, _name: str = name, **kwargs: Any) -> Any:
            target = host[0] if isinstance(host, tuple) else host
            if not is_loopback(target):
                refuse(_name, host)
            return _real(host, *args, **kwargs)

        setattr_(socket, name, resolver)
    real_popen_init = subprocess.Popen.__init__

    def popen_init(self: subprocess.Popen[Any], args: Any, *rest: Any, **kwargs: Any) -> None:
        words = str(args).split() if isinstance(args, (str, bytes)) else [str(a) for a in args]
        if any(Path(word).name in FETCHERS for word in words[:3]):  # pip, python -m pip, ...
            refuse("exec", args)
        real_popen_init(self, args, *rest, **kwargs)

    setattr_(subprocess.Popen, "__init__", popen_init)


def sitecustomize_for(folder: Path, log: Path) -> dict[str, str]:
    """Write the sitecustomize; return an environment that makes Python processes load it."""
    folder.mkdir(parents=True, exist_ok=True)
    here = Path(__file__).resolve().parent
    (folder / "sitecustomize.py").write_text(
        "import os, sys\n"
        f"sys.path.insert(0, {str(here)!r})\n"
        "import network_guard\n"
        f"sys.path.remove({str(here)!r})\n"
        f"network_guard.install({str(log)!r})\n"
        f"with open({str(log) + '.active'!r}, 'a') as f:\n"
        "    f.write(f'{os.getpid()}\\n')\n"
    )
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(folder), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.pop("http_proxy", None)
    env.pop("https_proxy", None)
    return env
