"""Checking a user's locustfile before anything starts, and the ``-f`` list Locust is started with.

A user's locustfile holds only its own ``User`` classes; aftershock adds its plugin file next to it
(``-f theirs.py,aftershock_plugin.py``: Locust accepts comma-separated locustfiles), which attaches the 100 ms
timeline, the fresh-connection probe, the load shape and the target's HTTP settings. The user imports nothing.

:func:`check_locustfile` parses the file (syntax errors with their line) and lists its User classes with
``locust -f FILE --list`` in a subprocess (Locust is never imported here). Errors are one line naming the file,
where it came from (``--locustfile``, ``aftershock_locustfile``, ``load.locustfile``) and the fix.

Example::

    path = check_locustfile("journeys/bookstore.py", source="--locustfile")
    locustfiles(path)  # ".../bookstore.py,.../loadtests/aftershock_plugin.py"
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from aftershock.core.errors import UsageError

LOADTESTS = Path(__file__).resolve().parent.parent / "loadtests"
BUILTIN_LOCUSTFILE = LOADTESTS / "locustfile.py"
PLUGIN_FILE = LOADTESTS / "aftershock_plugin.py"
LIST_TIMEOUT_S = 60.0


def locustfiles(user_file: Path | None) -> str:
    """Locust's ``-f`` value: the built-in shop locustfile, or the user's file plus aftershock's plugin file."""
    if user_file is None:
        return str(BUILTIN_LOCUSTFILE)
    return f"{user_file},{PLUGIN_FILE}"


def _user_classes(path: Path, python: str) -> tuple[list[str], str]:
    """The User classes ``locust --list`` finds in ``path``, and the last line of its error output."""
    done = subprocess.run([python, "-m", "locust", "-f", str(path), "--list"], capture_output=True, text=True,
                          timeout=LIST_TIMEOUT_S, cwd=path.parent, stdin=subprocess.DEVNULL, check=False)
    lines = done.stdout.splitlines()
    names = [line.strip() for line in lines[lines.index("Available Users:") + 1:]] \
        if "Available Users:" in lines else []
    errors = [line.strip() for line in done.stderr.splitlines() if line.strip()]
    problem = "" if done.returncode == 0 else (errors[-1] if errors else f"exit code {done.returncode}")
    return [n for n in names if n], problem


def check_locustfile(path: str | Path, *, source: str, python: str = sys.executable) -> Path:
    """The absolute path of a usable locustfile; :class:`UsageError` when it is missing, does not parse,
    cannot be loaded or defines no User class."""
    file = Path(path).expanduser().absolute()
    where = f"locustfile {file} (from {source})"
    if not file.is_file():
        raise UsageError(f"{where} does not exist: pass an existing Python file with Locust User classes",
                         path=str(file))
    try:
        compile(file.read_bytes(), str(file), "exec")
    except SyntaxError as exc:
        raise UsageError(f"{where} has a syntax error on line {exc.lineno} ({exc.msg}): fix the file",
                         path=str(file)) from None
    try:
        names, problem = _user_classes(file, python)
    except subprocess.TimeoutExpired:
        raise UsageError(f"{where} took more than {LIST_TIMEOUT_S:.0f} s to load: remove slow work done at import",
                         path=str(file)) from None
    if problem:
        raise UsageError(f"{where} cannot be loaded ({problem}): fix the file", path=str(file))
    if not names:
        raise UsageError(f"{where} defines no Locust User class: add one, e.g. class Shop(FastHttpUser) with @task "
                         "methods", path=str(file))
    return file


__all__ = ["BUILTIN_LOCUSTFILE", "PLUGIN_FILE", "check_locustfile", "locustfiles"]
