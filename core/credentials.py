"""Credentials named by a target, kept secret: :class:`Conninfo` and the password sources.

The password lives in memory only. :class:`Conninfo` wraps a libpq conninfo so that its ``repr``/``str``
show the endpoint but never the password, and redacts the password out of any error text that passes by.

Example::

    secret = Conninfo(driver.writer_conninfo())   # "host=127.0.0.1 port=... password=..."
    secret.endpoint          # "127.0.0.1:6543"
    secret.redact(str(exc))  # the password replaced by "***"
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import quote

from psycopg import ProgrammingError
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from aftershock.core.errors import TargetError
from aftershock.core.target import Database, Target

__all__ = ["REDACTED", "Conninfo", "endpoint_conninfo", "password_from_env", "require_database"]

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


def password_from_env(target: Target, variable: str) -> str:
    """The password in environment variable ``variable``; a clear error naming it when unset (never the value)."""
    value = os.environ.get(variable)
    if not value:
        raise TargetError(f"environment variable {variable} (database.password_from of target {target.name!r}) "
                          f"is not set: export {variable} with the database password", target=target.name)
    return value


def require_database(target: Target) -> Database:
    """The database section of ``target``; an error naming the fix when it has none."""
    if target.database is None:
        raise TargetError(f"target {target.name!r} has no database section: add database.global_writer_endpoint, "
                          "database.user and database.password_from to the target file", target=target.name)
    return target.database


def endpoint_conninfo(target: Target, password: str, *, connect_timeout: int = 1) -> str:
    """The conninfo (with ``password``) of ``database.global_writer_endpoint`` (HOST:PORT) of ``target``."""
    db = require_database(target)
    if not db.global_writer_endpoint:
        raise TargetError(f"target {target.name!r} has no database.global_writer_endpoint: "
                          "set it to the HOST:PORT of the global writer endpoint", target=target.name)
    host, sep, port = db.global_writer_endpoint.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise TargetError(f"database.global_writer_endpoint {db.global_writer_endpoint!r} of target "
                          f"{target.name!r} is not HOST:PORT: fix the target file", target=target.name)
    return make_conninfo(host=host, port=port, dbname=db.database, user=db.user, password=password,
                         connect_timeout=connect_timeout)
