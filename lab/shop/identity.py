"""The shop's sign-up and sign-in against its region's Cognito user pool (the lab's stand-in or Cognito itself).

    POST /api/identity/signup  {"username", "password"}  -> 201 (confirmed at once, as a pre-sign-up trigger would)
    POST /api/identity/login   {"username", "password"}  -> {"token", "issuer", "region"}; 401 when refused
    GET  /api/identity/me      Authorization: Bearer <access token> -> {"username", "region"}; 401 for a token of
                               another region's pool (its issuer is not ours) or one the pool does not know

The pool of each region is read from ``SHOP_IDENTITY_FILE`` on the first identity request (the lab writes it once
the pools exist: 503 before), so a pod's start-up pays nothing for it; httpx is imported then too.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from aftershock.lab.identity.headers import request_headers

_FORCED_RELOGIN = "token issued by another region's user pool: sign in again"


class _Pool:
    """The region's pool and one HTTP client to its endpoint (created on first use)."""

    def __init__(self, config: dict[str, Any], region: str) -> None:
        import httpx

        self.region = region
        self.endpoint = str(config["endpoint"]).rstrip("/")
        self.pool_id, self.client_id, self.issuer = config["pool_id"], config["client_id"], config["issuer"]
        self.http = httpx.AsyncClient(timeout=3.0)

    async def call(self, operation: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        import httpx

        try:
            response = await self.http.post(self.endpoint + "/", content=json.dumps(body),
                                            headers=request_headers(self.region, operation))
        except httpx.HTTPError:
            return 503, {"__type": "ServiceUnavailable"}
        return response.status_code, (response.json() if response.content else {})


def _reply(body: dict[str, Any], status: int = 200) -> Response:
    return Response(orjson.dumps(body), status, media_type="application/json")


def _pool(request: Request) -> _Pool | None:
    pool: _Pool | None = getattr(request.app.state, "identity_pool", None)
    if pool is None:
        path = os.environ.get("SHOP_IDENTITY_FILE", "")
        region = request.app.state.settings.region
        try:
            config = json.loads(Path(path).read_text(encoding="utf-8"))[region] if path else None
        except (OSError, ValueError, KeyError):
            config = None
        if config is None:
            return None
        pool = request.app.state.identity_pool = _Pool(config, region)
    return pool


async def _credentials(request: Request) -> tuple[str, str] | None:
    try:
        body = orjson.loads(await request.body())
    except orjson.JSONDecodeError:
        return None
    if not isinstance(body, dict):
        return None
    username, password = body.get("username"), body.get("password")
    if not isinstance(username, str) or not isinstance(password, str) or not 0 < len(username) <= 128:
        return None
    return username, password


async def signup(request: Request) -> Response:
    pool, creds = _pool(request), await _credentials(request)
    if pool is None:
        return _reply({"error": "identity is not ready in this region"}, 503)
    if creds is None:
        return _reply({"error": "username and password (strings) are required"}, 422)
    status, answer = await pool.call("SignUp", {"ClientId": pool.client_id, "Username": creds[0],
                                                "Password": creds[1]})
    if status == 200:
        status, answer = await pool.call("AdminConfirmSignUp", {"UserPoolId": pool.pool_id, "Username": creds[0]})
    if status != 200:
        return _reply({"error": str(answer.get("__type", "error")).rpartition("#")[2]}, 503 if status >= 500 else 409)
    return _reply({"username": creds[0], "region": pool.region}, 201)


async def login(request: Request) -> Response:
    pool, creds = _pool(request), await _credentials(request)
    if pool is None:
        return _reply({"error": "identity is not ready in this region"}, 503)
    if creds is None:
        return _reply({"error": "username and password (strings) are required"}, 422)
    status, answer = await pool.call("InitiateAuth", {"ClientId": pool.client_id, "AuthFlow": "USER_PASSWORD_AUTH",
                                                      "AuthParameters": {"USERNAME": creds[0], "PASSWORD": creds[1]}})
    if status >= 500:
        return _reply({"error": "user pool unavailable"}, 503)
    result = answer.get("AuthenticationResult")
    if status != 200 or not result:  # an imported user without a password lands here: reset first
        return _reply({"error": "invalid username or password (an imported user resets the password first)"}, 401)
    return _reply({"token": result["AccessToken"], "issuer": pool.issuer, "region": pool.region,
                   "expires_in": result.get("ExpiresIn")})


def _issuer(token: str) -> str | None:
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return None
    return str(claims.get("iss")) if isinstance(claims, dict) else None


async def me(request: Request) -> Response:
    pool = _pool(request)
    if pool is None:
        return _reply({"error": "identity is not ready in this region"}, 503)
    scheme, _, token = (request.headers.get("authorization") or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return _reply({"error": "missing bearer token"}, 401)
    if _issuer(token.strip()) != pool.issuer:
        return _reply({"error": _FORCED_RELOGIN, "region": pool.region}, 401)
    status, answer = await pool.call("GetUser", {"AccessToken": token.strip()})
    if status >= 500:
        return _reply({"error": "user pool unavailable"}, 503)
    if status != 200:
        return _reply({"error": "invalid or expired token"}, 401)
    return _reply({"username": answer.get("Username"), "region": pool.region})


ROUTES = [
    Route("/api/identity/signup", signup, methods=["POST"]),
    Route("/api/identity/login", login, methods=["POST"]),
    Route("/api/identity/me", me, methods=["GET"]),
]
