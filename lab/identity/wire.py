"""A minimal ``cognito-idp`` client (AWS JSON 1.1 over plain HTTP) for the lab's stand-in servers.

The lab and the shop pods use it where boto3 would cost start-up time; moto checks no signature, only the
credential scope that names the service and region. Against AWS use boto3.

Example::

    wire = CognitoWire("http://127.0.0.1:45123", "us-east-1")
    pool = wire.call("CreateUserPool", {"PoolName": "shop-users"})["UserPool"]["Id"]
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from aftershock.core.errors import LabError
from aftershock.lab.identity.headers import request_headers
from aftershock.lab.standins.wire import StandinClient


class CognitoError(LabError):
    """A ``cognito-idp`` call answered an error: ``code`` is its ``__type`` (``UserNotFoundException``, ...)."""

    def __init__(self, message: str, *, code: str, status: int) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


class CognitoWire(StandinClient):
    """``cognito-idp`` calls; an error answer raises :class:`CognitoError`."""

    def call(self, operation: str, body: dict[str, Any]) -> dict[str, Any]:
        try:
            response = self._http.post(self.endpoint + "/", content=json.dumps(body),
                                       headers=request_headers(self.region, operation))
        except httpx.HTTPError as exc:
            raise CognitoError(f"cognito-idp {operation} at {self.endpoint}: {exc}", code="ConnectionError",
                               status=0) from exc
        data: dict[str, Any] = response.json() if response.content else {}
        if response.status_code >= 300:
            code = str(data.get("__type", "Error")).rpartition("#")[2]
            raise CognitoError(f"cognito-idp {operation} at {self.endpoint} answered {response.status_code} "
                               f"{code}: {str(data.get('message', ''))[:200]}", code=code,
                               status=response.status_code)
        return data

    def pages(self, operation: str, body: dict[str, Any], items: str) -> list[dict[str, Any]]:
        """Every item of a paginated list call (``PaginationToken`` / ``NextToken``)."""
        found: list[dict[str, Any]] = []
        token_key = "PaginationToken" if operation == "ListUsers" else "NextToken"
        token: str | None = None
        while True:
            page = self.call(operation, {**body, **({token_key: token} if token else {})})
            found.extend(page.get(items) or [])
            token = page.get(token_key)
            if not token:
                return found
