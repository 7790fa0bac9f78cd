"""The workload a target is driven with: its ``load:`` section (locustfile, probe, HTTP and load settings).

A target file can bring its own Locust journeys and tell aftershock how to talk to the platform::

    load:
      locustfile: loadtests/bookstore.py      # relative to the target file; default: the shop journeys
      users: 50                                # experiment and command line override these three
      shape: step
      task_rate: 1                             # pacing of the built-in journeys: tasks/s per user
      connect_timeout_s: 2
      response_timeout_s: 5
      probe:                                   # the fresh-connection probe (a new TCP connection per request)
        rate: 10
        paths:
          - /health                            # expects 200
          - {path: /api/books, expect: [200, 304]}
      dns_cache: ttl                           # clients keep DNS answers: ttl (default), seconds, or forever
      http:
        host_header: shop.example.com
        tls: {verify: true, ca_file: ca.pem, client_cert: client.pem, client_key: client.key}
        headers:
          X-Team: chaos                        # a literal value
          X-Api-Key: {from_env: SHOP_API_KEY}  # read from the environment of the Locust processes only

A header ``{from_env: VAR}`` keeps only the variable's *name* in the model, so the target snapshot in
``run.json`` (and every log) holds no secret; :func:`resolve_headers` reads the values where the requests are
made. Locust is not imported here: the load side (``aftershock.loadtests``) applies these settings.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from aftershock.core.errors import UsageError


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FromEnv(_Model):
    """A header value read from the environment variable ``from_env`` (never stored)."""

    from_env: str = Field(min_length=1)


HeaderValue = str | FromEnv


class ProbePath(_Model):
    """One path of the fresh-connection probe and the statuses that count as a success."""

    path: str = Field(pattern=r"^/")
    expect: tuple[int, ...] = Field(default=(200,), min_length=1)
    name: str | None = None
    """Request name in the timeline (default ``fresh:GET <path>``)."""

    @property
    def request_name(self) -> str:
        return self.name or f"fresh:GET {self.path}"


class ProbeSettings(_Model):
    """The fresh-connection probe. No ``paths``: the shop's ``/health`` and product pages (the lab default)."""

    paths: tuple[ProbePath, ...] = ()
    rate: float = Field(default=20.0, gt=0)
    """Requests per second."""

    @field_validator("paths", mode="before")
    @classmethod
    def _bare_paths(cls, value: object) -> object:
        if isinstance(value, list | tuple):
            return tuple({"path": v} if isinstance(v, str) else v for v in value)
        return value


class TlsSettings(_Model):
    """TLS towards an ``https://`` front door: verification (with an optional CA file) and a client certificate."""

    verify: bool = True
    ca_file: str | None = None
    client_cert: str | None = None
    client_key: str | None = None
    """The client certificate's key (omit when ``client_cert`` holds both)."""


class HttpSettings(_Model):
    """How every request talks to the platform: ``Host`` header, TLS and extra headers."""

    host_header: str | None = None
    tls: TlsSettings = Field(default_factory=TlsSettings)
    headers: dict[str, HeaderValue] = Field(default_factory=dict)


class Workload(_Model):
    """A target's ``load:`` section (all optional; see the module docstring)."""

    locustfile: str | None = None
    users: int | None = Field(default=None, ge=1)
    spawn_rate: float | None = Field(default=None, gt=0)
    shape: Literal["steady", "step", "spike"] | None = None
    task_rate: float | None = Field(default=None, ge=0)
    connect_timeout_s: float | None = Field(default=None, gt=0)
    response_timeout_s: float | None = Field(default=None, gt=0)
    probe: ProbeSettings = Field(default_factory=ProbeSettings)
    http: HttpSettings = Field(default_factory=HttpSettings)
    resolver: str | None = None
    """``HOST:PORT`` of the DNS server the clients resolve names through (the lab's DNS); None: the system's."""
    dns_cache: Literal["ttl", "forever"] | float = "ttl"
    """How long clients keep an answer: its TTL, a fixed number of seconds, or forever (:mod:`~.resolver`)."""

    @field_validator("dns_cache")
    @classmethod
    def _cache_seconds(cls, value: object) -> object:
        if isinstance(value, float | int) and value < 0:
            raise ValueError("dns_cache must be ttl, forever or seconds >= 0")
        return value


class Transport(_Model):
    """What the Locust processes need of a workload (passed to them as JSON with ``--aftershock-transport``)."""

    probe: ProbeSettings = Field(default_factory=ProbeSettings)
    http: HttpSettings = Field(default_factory=HttpSettings)
    resolver: str | None = None
    dns_cache: Literal["ttl", "forever"] | float = "ttl"

    @classmethod
    def of(cls, workload: Workload) -> Transport:
        return cls(probe=workload.probe, http=workload.http, resolver=workload.resolver,
                   dns_cache=workload.dns_cache)


def missing_env(headers: Mapping[str, HeaderValue], environ: Mapping[str, str] | None = None) -> list[str]:
    """``header (VAR)`` for each ``{from_env: VAR}`` header whose variable is not set."""
    env = os.environ if environ is None else environ
    return [f"{name} ({value.from_env})" for name, value in headers.items()
            if isinstance(value, FromEnv) and value.from_env not in env]


def resolve_headers(http: HttpSettings, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The header values to send (``Host`` included when set); :class:`UsageError` naming an unset variable."""
    env = os.environ if environ is None else environ
    missing = missing_env(http.headers, env)
    if missing:
        raise UsageError(f"load.http.headers: environment variable for {', '.join(missing)} is not set: export it "
                         "before the run")
    headers = {name: env[value.from_env] if isinstance(value, FromEnv) else value
               for name, value in http.headers.items()}
    if http.host_header:
        headers["Host"] = http.host_header
    return headers


__all__ = ["FromEnv", "HttpSettings", "ProbePath", "ProbeSettings", "TlsSettings", "Transport", "Workload",
           "missing_env", "rebase", "resolve_headers"]


def rebase(workload: Workload, folder: os.PathLike[str] | str) -> Workload:
    """``workload`` with its relative file paths (locustfile, TLS files) made absolute against ``folder``
    (the target file's folder)."""

    def absolute(path: str | None) -> str | None:
        return None if path is None else os.path.normpath(os.path.join(os.fspath(folder), os.path.expanduser(path)))

    tls = workload.http.tls
    tls = tls.model_copy(update={"ca_file": absolute(tls.ca_file), "client_cert": absolute(tls.client_cert),
                                 "client_key": absolute(tls.client_key)})
    return workload.model_copy(update={"locustfile": absolute(workload.locustfile),
                                       "http": workload.http.model_copy(update={"tls": tls})})
