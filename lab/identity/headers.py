"""The headers of one ``cognito-idp`` call to a lab stand-in (no httpx here: the shop pods import this)."""

from __future__ import annotations

from aftershock.lab.standins.scope import authorization

_TARGET = "AWSCognitoIdentityProviderService."


def request_headers(region: str, operation: str) -> dict[str, str]:
    """AWS JSON 1.1 headers with a fixed, non-secret lab key in the credential scope (moto checks no signature)."""
    return {"X-Amz-Target": _TARGET + operation, "Content-Type": "application/x-amz-json-1.1",
            "Authorization": authorization(region, "cognito-idp")}
