"""The identity ledger: numbered sign-ups in the primary pool during a run, and sessions issued along the way.

Users ``<prefix>-<run_id>-<seq:05d>`` sign up (``SignUp`` + ``AdminConfirmSignUp``, what a sign-up with a
pre-sign-up trigger does) at ``rate_per_s``; every ``session_every``-th user signs in and its access token is kept
to be replayed after the failover. Passwords and tokens stay in memory: the file holds times and outcomes only.

File ``<run_dir>/ledger-identity.jsonl``::

    {"kind": "meta", "run_id": "r1", "region": "us-east-1", "prefix": "aftershock-test", "rate_per_s": 5.0, ...}
    {"kind": "signup", "seq": 3, "user": "aftershock-test-r1-00003", "sent_at": ..., "acked_at": ... | null,
     "error": null | "ServiceUnavailable"}
    {"kind": "session", "seq": 3, "issued_at": ...}
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from aftershock.probes.identity.access import IdentityAccess, error_code

__all__ = ["LEDGER_FILE", "IdentityLedger", "SignUp"]

LEDGER_FILE = "ledger-identity.jsonl"
_MAX_SEQ = 99_999


@dataclass(frozen=True)
class SignUp:
    seq: int
    user: str
    sent_at: float
    acked_at: float | None
    error: str | None = None


class IdentityLedger:
    """Signs users up in ``primary`` until stopped (one thread); see the module docstring."""

    def __init__(self, access: IdentityAccess, run_dir: Path, *, run_id: str, primary: str,
                 rate_per_s: float = 5.0, session_every: int = 2) -> None:
        if not 0 < rate_per_s <= 50:
            raise ValueError(f"rate_per_s {rate_per_s} is out of range: use (0, 50] sign-ups per second")
        self.access, self.run_dir, self.run_id, self.primary = access, Path(run_dir), run_id, primary
        self.rate_per_s, self.session_every = float(rate_per_s), max(1, session_every)
        self.signups: list[SignUp] = []
        self.passwords: dict[str, str] = {}  # in memory only
        self.tokens: dict[int, tuple[float, str]] = {}  # seq -> (issued_at, access token), in memory only
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="identity-ledger", daemon=True)
        self._out: IO[str] | None = None
        self.failure: str | None = None

    def user(self, seq: int) -> str:
        return f"{self.access.prefix}-{self.run_id}-{seq:05d}"

    @property
    def acknowledged(self) -> list[SignUp]:
        return [s for s in self.signups if s.acked_at is not None]

    def start(self, *, background: bool = True) -> None:
        """Open the file; with ``background`` sign up on schedule (else the caller calls :meth:`sign_up`)."""
        self.access.pool_calls(self.primary)  # a target without a pool there fails here, before any sign-up
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self._out = (self.run_dir / LEDGER_FILE).open("a", encoding="utf-8")
        self._line({"kind": "meta", "run_id": self.run_id, "region": self.primary, "prefix": self.access.prefix,
                    "rate_per_s": self.rate_per_s, "session_every": self.session_every,
                    "migration": self.access.identity.migration, "started_at": time.time()})
        if background:
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10.0)
        if self._out is not None:
            self._line({"kind": "end", "stopped_at": time.time(), "attempted": len(self.signups),
                        "failure": self.failure})
            self._out.close()
            self._out = None

    def _line(self, data: dict[str, object]) -> None:
        if self._out is not None:
            self._out.write(json.dumps(data) + "\n")
            self._out.flush()

    def _loop(self) -> None:
        start = time.monotonic()
        try:
            for seq in range(1, _MAX_SEQ):
                if self._stop.wait(max(0.0, start + (seq - 1) / self.rate_per_s - time.monotonic())):
                    return
                self.sign_up(seq)
        except Exception as exc:  # the ledger itself failed: recorded in the end line, never raised
            self.failure = f"{type(exc).__name__}: {exc}"

    def sign_up(self, seq: int) -> SignUp:
        """Sign user ``seq`` up (and in, every ``session_every``-th); records and returns the outcome."""
        user, password = self.user(seq), "Ax1!" + secrets.token_urlsafe(12)
        calls = self.access.pool_calls(self.primary)
        sent_at = time.time()
        error = None
        try:
            calls.call("SignUp", ClientId=calls.pool.client_id, Username=user, Password=password)
            calls.call("AdminConfirmSignUp", UserPoolId=calls.pool.pool_id, Username=user)
        except Exception as exc:  # an outage answers 503 / refuses the connection: a failed sign-up, recorded
            error = error_code(exc)
        done = SignUp(seq, user, sent_at, time.time() if error is None else None, error)
        self.signups.append(done)
        self.passwords[user] = password
        self._line({"kind": "signup", "seq": seq, "user": user, "sent_at": sent_at, "acked_at": done.acked_at,
                    "error": error})
        if error is None and seq % self.session_every == 0:
            try:
                answer = calls.call("InitiateAuth", ClientId=calls.pool.client_id, AuthFlow="USER_PASSWORD_AUTH",
                                    AuthParameters={"USERNAME": user, "PASSWORD": password})
                issued_at = time.time()
                self.tokens[seq] = (issued_at, str(answer["AuthenticationResult"]["AccessToken"]))
                self._line({"kind": "session", "seq": seq, "issued_at": issued_at})
            except Exception as exc:
                self._line({"kind": "session", "seq": seq, "issued_at": None, "error": error_code(exc)})
        return done
