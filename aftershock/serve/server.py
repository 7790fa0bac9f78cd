"""``aftershock serve``: bind, print the address (and the token of a non-local bind, once), serve until Ctrl-C.

Example::

    settings = ServeSettings.parse(runs=Path("runs"), bind="127.0.0.1:0")
    serve(settings, print)      # prints "aftershock console: http://127.0.0.1:41234/"
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from aftershock.core.errors import UsageError
from aftershock.serve.app import Console, build_app
from aftershock.serve.safety import Redactor, new_token


def is_local(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True, kw_only=True)
class ServeSettings:
    runs: Path
    host: str
    port: int
    plans: Path | None = None
    history_db: Path | None = None
    interval_s: float = 0.4

    @classmethod
    def parse(cls, *, runs: Path, bind: str, plans: Path | None = None, history_db: Path | None = None,
              interval_s: float = 0.4) -> ServeSettings:
        """Checked settings; :class:`UsageError` naming the culprit otherwise."""
        host, sep, port_text = bind.rpartition(":")
        if not sep or not host or not port_text.isdigit() or int(port_text) > 65535:
            raise UsageError(f"--bind {bind!r} is not HOST:PORT: pass e.g. 127.0.0.1:8470 (port 0: a free port)")
        if not runs.is_dir():
            raise UsageError(f"--runs {runs} is not a folder: pass the folder your runs go to (default runs/)")
        if plans is not None and not plans.is_dir():
            raise UsageError(f"--plans {plans} is not a folder: pass a folder holding game-day PLAN.yaml files")
        if not 0.05 <= interval_s <= 0.5:
            raise UsageError(f"--interval {interval_s} is outside 0.05..0.5 s: the live view updates at least "
                             "every 0.5 s")
        return cls(runs=runs, host=host, port=int(port_text), plans=plans, history_db=history_db,
                   interval_s=interval_s)


def serve(settings: ServeSettings, say: Callable[[str], None]) -> None:
    """Serve the console until interrupted (a game day still running is aborted and rolled back first)."""
    local = is_local(settings.host)
    token = None if local else new_token()
    family = socket.AF_INET6 if ":" in settings.host.strip("[]") else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((settings.host.strip("[]"), settings.port))
    except OSError as exc:
        sock.close()
        raise UsageError(f"cannot bind {settings.host}:{settings.port} ({exc.strerror}): pick another --bind "
                         "(port 0 takes a free one)") from None
    # listening before the address is printed: a client that connects at once waits in the backlog until uvicorn
    # accepts it, instead of being refused
    sock.listen(2048)
    port = sock.getsockname()[1]
    console = Console(runs=settings.runs, plans=settings.plans, history_db=settings.history_db, token=token,
                      interval_s=settings.interval_s, redact=Redactor.from_environment(extra=(token or "",)))
    host = f"[{settings.host.strip('[]')}]" if family == socket.AF_INET6 else settings.host
    say(f"aftershock console: http://{host}:{port}/  (runs: {console.runs})")
    if token is not None:
        say(f"token (shown once; every request needs it): {token}")
        say(f"open: http://{host}:{port}/?token={token}")
    config = uvicorn.Config(build_app(console, bind_host=settings.host), log_level="warning", lifespan="on",
                            timeout_graceful_shutdown=5)
    uvicorn.Server(config).run(sockets=[sock])


__all__ = ["ServeSettings", "is_local", "serve"]
