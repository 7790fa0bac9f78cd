"""What keeps the console safe to put on a shared screen and a network: secrets redacted from everything it
renders, the access token of a non-local bind, and the CSRF token of control actions.

Run folders hold no secrets (the harness redacts before writing); the console redacts again anyway, so an error
text that slipped through, or a setting with a password in it, never reaches a browser: known secret values (the
lab's ``secrets.json``, secret-looking environment variables, the console's own token) and secret-shaped text
(``user:password@`` in URLs, ``password=...``) are replaced by ``***``.

Example::

    redact = Redactor.from_environment(extra=(token,))
    redact("postgresql://shop:hunter22@127.0.0.1/shop")   # 'postgresql://shop:***@127.0.0.1/shop'
"""

from __future__ import annotations

import json
import os
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from aftershock.core import paths

REDACTED = "***"
_SECRET_NAME = re.compile(r"PASSWORD|PASSWD|SECRET|TOKEN|CREDENTIAL|PRIVATE|_KEY$|^AWS_SESSION", re.IGNORECASE)
_PATTERNS = (
    (re.compile(r"(://[^/\s:@'\"<>]+:)[^@\s/'\"<>]+@"), r"\1" + REDACTED + "@"),
    (re.compile(r"(?i)\b(password|passwd|pwd|secret|token)(\s*[=:]\s*)(['\"]?)[^\s'\"&<>,;]+"),
     r"\1\2\3" + REDACTED),
)
MIN_SECRET_LEN = 6


@dataclass(frozen=True)
class Redactor:
    """Replaces known secret values and secret-shaped text by ``***``."""

    values: tuple[str, ...] = ()

    @classmethod
    def from_environment(cls, *, extra: Iterable[str] = ()) -> Redactor:
        found = [v for k, v in os.environ.items() if _SECRET_NAME.search(k) and len(v) >= MIN_SECRET_LEN]
        found += _lab_secrets(paths.lab_dir() / "secrets.json")
        found += [v for v in extra if len(v) >= MIN_SECRET_LEN]
        return cls(tuple(sorted(set(found), key=len, reverse=True)))

    def __call__(self, text: str) -> str:
        for value in self.values:
            if value in text:
                text = text.replace(value, REDACTED)
        for pattern, replacement in _PATTERNS:
            text = pattern.sub(replacement, text)
        return text


def _lab_secrets(path: Path) -> list[str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    if not isinstance(data, dict):
        return []
    return [str(v) for v in data.values() if isinstance(v, str) and len(v) >= MIN_SECRET_LEN]


def new_token() -> str:
    """A fresh random token (access or CSRF)."""
    return secrets.token_urlsafe(24)


def same(given: str | None, expected: str) -> bool:
    """Constant-time comparison of a presented token with the expected one."""
    return given is not None and secrets.compare_digest(given.encode(), expected.encode())


__all__ = ["REDACTED", "Redactor", "new_token", "same"]
