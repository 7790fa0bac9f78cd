"""The target's HTTP settings (``load.http``: Host header, extra headers, TLS) and timeouts, applied to any User.

aftershock starts Locust with ``--aftershock-transport JSON`` (a :class:`~aftershock.core.workload.Transport`:
header values from the environment appear there by variable name only). :func:`wrap_user_classes` makes every
``FastHttpUser``/``HttpUser`` class of the run pick the settings up when a user is created - on a worker that is
after the master's options arrived - without the user's locustfile importing anything:

* ``FastHttpUser``: ``default_headers`` (merged over the class's own), ``insecure``/``ssl_context_factory`` for
  TLS, and ``--connect-timeout``/``--response-timeout`` when the class kept Locust's 60 s defaults.
* ``HttpUser``: the session's ``headers``, ``verify`` and ``cert``, and a default ``timeout`` per request.
"""

from __future__ import annotations

import functools
import ssl
from collections.abc import Callable
from typing import Any

from locust import HttpUser, User
from locust.contrib.fasthttp import FastHttpUser

from aftershock.core.workload import TlsSettings, Transport, resolve_headers

LOCUST_DEFAULT_TIMEOUT_S = 60.0


@functools.lru_cache(maxsize=4)
def parse_transport(text: str) -> Transport:
    """The transport settings of ``--aftershock-transport`` (empty: the defaults)."""
    return Transport.model_validate_json(text) if text else Transport()


def transport_of(environment: Any) -> Transport:
    return parse_transport(getattr(environment.parsed_options, "aftershock_transport", "") or "")


def headers_of(transport: Transport) -> dict[str, str]:
    """The header values (read from this process's environment when a user starts)."""
    return resolve_headers(transport.http)


def ssl_context(tls: TlsSettings) -> ssl.SSLContext:
    """A client context as ``tls`` says: verification (optionally against ``ca_file``) and a client certificate."""
    import gevent.ssl

    if tls.verify:
        context: ssl.SSLContext = gevent.ssl.create_default_context(cafile=tls.ca_file)
    else:
        context = gevent.ssl._create_unverified_context()
    if tls.client_cert:
        context.load_cert_chain(tls.client_cert, tls.client_key)
    return context


def _timeouts(environment: Any) -> tuple[float, float]:
    options = environment.parsed_options
    return (float(getattr(options, "connect_timeout", 2.0) or 2.0),
            float(getattr(options, "response_timeout", 5.0) or 5.0))


def _before_fast(user: FastHttpUser, transport: Transport, environment: Any) -> None:
    tls = transport.http.tls
    headers = headers_of(transport)
    if headers:
        user.default_headers = {**(type(user).default_headers or {}), **headers}
    user.insecure = not tls.verify
    if tls.verify or tls.client_cert:
        user.ssl_context_factory = functools.partial(ssl_context, tls)
    connect, response = _timeouts(environment)
    if type(user).connection_timeout == LOCUST_DEFAULT_TIMEOUT_S:
        user.connection_timeout = connect
    if type(user).network_timeout == LOCUST_DEFAULT_TIMEOUT_S:
        user.network_timeout = response


def _after_http(user: HttpUser, transport: Transport) -> None:
    tls = transport.http.tls
    session = user.client
    session.headers.update(headers_of(transport))
    session.verify = (tls.ca_file or True) if tls.verify else False
    if tls.client_cert:
        session.cert = (tls.client_cert, tls.client_key) if tls.client_key else tls.client_cert
    request = session.request
    timeout = _timeouts(user.environment)

    @functools.wraps(request)
    def with_timeout(method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("timeout", timeout)
        return request(method, url, *args, **kwargs)

    session.request = with_timeout  # type: ignore[method-assign,assignment]


def _wrapped(init: Callable[..., None]) -> Callable[..., None]:
    @functools.wraps(init)
    def __init__(self: User, environment: Any, *args: Any, **kwargs: Any) -> None:
        transport = transport_of(environment)
        if isinstance(self, FastHttpUser):
            _before_fast(self, transport, environment)
        init(self, environment, *args, **kwargs)
        if isinstance(self, HttpUser):
            _after_http(self, transport)

    __init__._aftershock_transport = True  # type: ignore[attr-defined]
    return __init__


def wrap_user_classes(user_classes: list[type[User]]) -> None:
    """Make ``user_classes`` apply the transport settings to every user they create (once per class)."""
    for cls in user_classes:
        if issubclass(cls, FastHttpUser | HttpUser) and not getattr(cls.__init__, "_aftershock_transport", False):
            cls.__init__ = _wrapped(cls.__init__)  # type: ignore[method-assign]


__all__ = ["headers_of", "parse_transport", "ssl_context", "transport_of", "wrap_user_classes"]
