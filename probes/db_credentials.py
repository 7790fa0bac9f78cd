"""Database credentials for the probes: the writer endpoint's conninfo, resolved from the target, kept secret.

The password lives in memory only. :class:`Conninfo` wraps a libpq conninfo so that its ``repr``/``str``
show the endpoint but never the password, and redacts the password out of any error text that passes by.

Example::

    conninfo = resolve_writer_conninfo({"aftershock_target": "lab"})   # "host=127.0.0.1 port=... password=..."
    secret = Conninfo(conninfo)
    secret.endpoint          # "127.0.0.1:6543"
    secret.redact(str(exc))  # the password replaced by "***"

Where the password comes from (``database.password_from`` of the target): ``lab`` means the lab's own
``<lab home>/secrets.json`` key ``db_password``; ``env:VAR`` means ``os.environ["VAR"]``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

from psycopg import ProgrammingError
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from aftershock import paths
from aftershock.activity_context import target_ref
from aftershock.credentials import password_from_env
from aftershock.errors import TargetError
from aftershock.target import Target, load_target

__all__ = ["REDACTED", "Conninfo", "resolve_writer_conninfo"]

REDACTED = "***"


class Conninfo:
    """A libpq conninfo holding a password: ``reveal()`` gives it to psycopg, nothing else shows it.

    Raises :class:`ValueError` (without echoing the text, which may hold the password) when ``conninfo`` is not
    a valid libpq conninfo.
    """

    __slots__ = ("_params", "_text")

    def __init__(self, conninfo: str) -> None:
        try:
            params = conninfo_to_dict(conninfo)
        except ProgrammingError:
            # psycopg's message quotes the offending part, which may be the password
            raise ValueError("the conninfo is not a valid libpq connection string "
                             "(details withheld: they may contain the password)") from None
        self._text = conninfo
        self._params: dict[str, Any] = params

    def reveal(self) -> str:
        """The conninfo with its password, for psycopg only."""
        return self._text

    @property
    def endpoint(self) -> str:
        """``host:port`` (libpq defaults shown as ``?``), safe to log."""
        return f"{self._params.get('host') or '?'}:{self._params.get('port') or '?'}"

    def redact(self, text: str) -> str:
        """``text`` with every spelling of the password (raw, URL-quoted) replaced by ``***``."""
        password = self._params.get("password")
        if not password:
            return text
        for spelling in {str(password), quote(str(password), safe=""), quote(str(password))}:
            text = text.replace(spelling, REDACTED)
        return text

    def __repr__(self) -> str:
        return f"Conninfo(endpoint={self.endpoint!r}, password={REDACTED!r})"

    __str__ = __repr__

    def __reduce__(self) -> Any:
        # pickling would carry the password to wherever the pickle goes
        raise TypeError("Conninfo holds a password and cannot be pickled")


def resolve_writer_conninfo(configuration: Mapping[str, Any] | None, *, connect_timeout: int = 1) -> str:
    """The conninfo (with password) of the target's global writer endpoint.

    The target is ``configuration["aftershock_target"]``, else ``$AFTERSHOCK_TARGET``, else ``"lab"`` (the running
    lab's ``target.yaml``, under ``$AFTERSHOCK_HOME``); raises :class:`~aftershock.errors.TargetError` naming what
    is missing and the fix.
    """
    target = load_target(target_ref(configuration))
    if target.kind == "aws":  # Secrets Manager or env, TLS required: the AWS driver knows how
        from faults.aws.credentials import resolve_aws_writer_conninfo

        return resolve_aws_writer_conninfo(target, connect_timeout=connect_timeout)
    db = target.database
    if db is None:
        raise TargetError(f"target {target.name!r} has no database section: add database.global_writer_endpoint, "
                          "database.user and database.password_from to the target file")
    if not db.global_writer_endpoint:
        raise TargetError(f"target {target.name!r} has no database.global_writer_endpoint: "
                          "set it to the HOST:PORT of the global writer endpoint")
    host, sep, port = db.global_writer_endpoint.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise TargetError(f"database.global_writer_endpoint {db.global_writer_endpoint!r} of target "
                          f"{target.name!r} is not HOST:PORT: fix the target file")
    return make_conninfo(host=host, port=port, dbname=db.database, user=db.user,
                         password=_password(target, db.password_from), connect_timeout=connect_timeout)


def _password(target: Target, source: str) -> str:
    scheme, _, name = source.partition(":")
    if source == "lab":
        return _lab_password(target)
    if scheme == "env" and name:
        return password_from_env(target, name)
    raise TargetError(f"database.password_from {source!r} of target {target.name!r} is not supported by the "
                      "probes: use 'lab' or 'env:VAR'")


def _lab_password(target: Target) -> str:
    lab_home = Path(target.lab.home) if target.lab is not None else paths.lab_dir()
    path = lab_home / "secrets.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TargetError(f"the lab's secrets file {path} is missing: start the lab with "
                          "`aftershock lab up --detach`") from None
    except (OSError, ValueError) as exc:
        raise TargetError(f"the lab's secrets file {path} is unreadable ({exc.__class__.__name__}): "
                          "restart the lab with `aftershock lab down` and `aftershock lab up --detach`") from None
    password = data.get("db_password") if isinstance(data, dict) else None
    if not isinstance(password, str) or not password:
        raise TargetError(f"the lab's secrets file {path} has no db_password: restart the lab with "
                          "`aftershock lab down` and `aftershock lab up --detach`")
    return password
