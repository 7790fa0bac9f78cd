"""Stateless HMAC tokens: round trip, forgery, expiry, header parsing."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aftershock.lab.shop import tokens

KEY = b"k" * 32
NOW = 1_800_000_000.0


@given(user_id=st.integers(min_value=1, max_value=2**63 - 1), ttl=st.integers(min_value=1, max_value=10**6))
def test_round_trip(user_id: int, ttl: int) -> None:
    token = tokens.issue(KEY, user_id, ttl, now=NOW)
    assert tokens.verify(KEY, token, now=NOW) == user_id
    assert tokens.verify(KEY, token, now=NOW + ttl) is None  # expired exactly at the deadline


def test_wrong_key_and_tampering_are_rejected() -> None:
    token = tokens.issue(KEY, 42, 60, now=NOW)
    assert tokens.verify(b"other key", token, now=NOW) is None
    user, expires, sig = token.split(".")
    assert tokens.verify(KEY, f"43.{expires}.{sig}", now=NOW) is None
    assert tokens.verify(KEY, f"{user}.{int(expires) + 1000}.{sig}", now=NOW) is None
    flipped = "1" if sig[-1] == "0" else "0"
    assert tokens.verify(KEY, f"{user}.{expires}.{sig[:-1]}{flipped}", now=NOW) is None
    assert tokens.verify(KEY, f"{user}.{expires}.{sig.upper()}", now=NOW) is None
    assert tokens.verify(KEY, f"{user}.{expires}.{'0' * 64}", now=NOW) is None


@given(garbage=st.text(max_size=300))
def test_garbage_never_verifies_or_raises(garbage: str) -> None:
    assert tokens.verify(KEY, garbage, now=NOW) is None


def test_header_parsing() -> None:
    token = tokens.issue(KEY, 7, 60)
    assert tokens.from_header(KEY, f"Bearer {token}") == 7
    assert tokens.from_header(KEY, f"bearer {token}") == 7
    assert tokens.from_header(KEY, token) is None
    assert tokens.from_header(KEY, f"Basic {token}") is None
    assert tokens.from_header(KEY, None) is None
    assert tokens.from_header(KEY, "") is None


def test_issue_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        tokens.issue(b"", 1, 60)
    with pytest.raises(ValueError):
        tokens.issue(KEY, 0, 60)
