"""Signed links expire on the portal's clock, so a test (or the demo) that moves the clock
sees them expire without waiting."""

from __future__ import annotations

from datetime import timedelta

import pytest
from itsdangerous import SignatureExpired, URLSafeTimedSerializer

from portal.clock import ClockSigner

MAX_AGE = timedelta(days=7)


def test_a_token_signed_on_the_clock_expires_when_the_clock_passes_its_max_age(clock):
    serializer = URLSafeTimedSerializer("secret", salt="test", signer=ClockSigner)
    token = serializer.dumps("nonce")
    clock.advance(MAX_AGE - timedelta(minutes=1))
    assert serializer.loads(token, max_age=int(MAX_AGE.total_seconds())) == "nonce"
    clock.advance(timedelta(minutes=2))
    with pytest.raises(SignatureExpired):
        serializer.loads(token, max_age=int(MAX_AGE.total_seconds()))


def test_the_system_signer_would_not_notice(clock):
    """Why ClockSigner exists: itsdangerous' own signer reads the system's time."""
    serializer = URLSafeTimedSerializer("secret", salt="test")
    token = serializer.dumps("nonce")
    clock.advance(MAX_AGE * 2)
    assert serializer.loads(token, max_age=int(MAX_AGE.total_seconds())) == "nonce"
