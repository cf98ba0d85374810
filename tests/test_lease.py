"""kaiju_tools.locks: fencing tokens, the safety margin, and a Lease over a provider that
stops answering (no backend: the provider is a dict; the rule is the kernel's)."""

from __future__ import annotations

import asyncio
import logging
import pickle
import time
from typing import Any

import pytest
from kaiju_tools.locks import MARGIN_FIXED, MARGIN_RATIO, Lease, LockToken, lease_margin


class Partitioned:
    """A provider whose renewals never answer once ``cut`` is set."""

    def __init__(self) -> None:
        self.cut = False
        self.released: list[str] = []

    async def acquire(self, key: str, *, ttl: float, timeout: float | None = None) -> str | None:
        return LockToken("tok", 7)

    async def renew(self, key: str, token: str, *, ttl: float) -> bool:
        if self.cut:
            await asyncio.Event().wait()
        return True

    async def release(self, key: str, token: str) -> bool:
        self.released.append(token)
        return True


def test_a_lock_token_is_the_owner_string_with_a_fence() -> None:
    token = LockToken("abc", 42)
    assert token == "abc" and isinstance(token, str) and token.fence == 42
    assert repr(token) == "LockToken('abc', fence=42)"
    copy = pickle.loads(pickle.dumps(token))
    assert copy == "abc" and copy.fence == 42


def test_the_margin_and_its_limit() -> None:
    assert (MARGIN_RATIO, MARGIN_FIXED) == (0.1, 0.1)
    assert lease_margin(2.0) == pytest.approx(0.3)
    assert lease_margin(10.0, ratio=0.0, fixed=1.0) == 1.0
    with pytest.raises(ValueError, match=r"lock 'k': ttl=0.1 s is too short for its safety margin of 0.11 s"):
        Lease(Partitioned(), "k", "t", 0.1, confirmed_at=0.0)
    assert Lease(Partitioned(), "k", "t", 1.0, confirmed_at=0.0, margin=0.5).margin == 0.5


def test_a_lease_is_lost_at_its_deadline_when_renewals_do_not_answer(
        caplog: pytest.LogCaptureFixture) -> None:
    provider = Partitioned()
    seen: dict[str, Any] = {}

    async def main() -> None:
        loop = asyncio.get_running_loop()
        lease = Lease(provider, "k", await provider.acquire("k", ttl=0.6), 0.6, confirmed_at=loop.time())
        assert lease.fence == 7
        lease.on_lost(lambda lease: seen.setdefault("callback", lease.reason))
        lease.on_lost(lambda lease: 1 / 0)  # logged, the others still run
        lease.start()
        await asyncio.sleep(0.3)  # renewed once at least
        assert not lease.lost.is_set()
        provider.cut = True
        await asyncio.wait_for(lease.lost.wait(), 10)
        seen["late"] = loop.time() - lease.deadline  # >= 0: never before the deadline
        lease.on_lost(lambda lease: seen.setdefault("at_once", True))
        assert await lease.stop()  # still within the TTL: released (the provider checks the token)

    with caplog.at_level(logging.WARNING):
        asyncio.run(main())
    assert seen["late"] >= -time.get_clock_info("monotonic").resolution and seen["at_once"]
    assert "no renewal confirmed within ttl - margin = 0.44 s" in seen["callback"]
    assert provider.released == ["tok"]
    messages = [r.getMessage() for r in caplog.records]
    assert "lock lease lost: its holder must stop using the lock" in messages
    assert "lock lease: an on_lost callback failed" in messages
