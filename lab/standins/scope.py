"""The Authorization header of a call to a lab stand-in (no httpx here: the shop pods import this).

moto checks no signature, only the credential scope that names the service and the region; the key is fixed and
not a secret.
"""

from __future__ import annotations

import time

LAB_ACCESS_KEY = "aftershock-lab"


def authorization(region: str, service: str) -> str:
    """``AWS4-HMAC-SHA256 Credential=aftershock-lab/<today>/<region>/<service>/aws4_request, ...``"""
    day = time.strftime("%Y%m%d", time.gmtime())
    return (f"AWS4-HMAC-SHA256 Credential={LAB_ACCESS_KEY}/{day}/{region}/{service}/aws4_request, "
            "SignedHeaders=host, Signature=0")


__all__ = ["LAB_ACCESS_KEY", "authorization"]
