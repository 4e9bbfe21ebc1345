"""API token lookups are remembered briefly; revocation and expiry still win."""

from __future__ import annotations

import triage.cache
from triage.cache import TtlCache


def test_entries_expire_after_their_time(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(triage.cache.time, "monotonic", lambda: now[0])
    cache = TtlCache(seconds=10)
    cache.put("token", "user")
    now[0] += 9.9
    assert cache.get("token") == "user"
    now[0] += 0.2
    assert cache.get("token") is None


def test_zero_seconds_turns_the_cache_off():
    cache = TtlCache(seconds=0)
    cache.put("token", "user")
    assert cache.get("token") is None


def test_a_full_cache_starts_again_rather_than_growing():
    cache = TtlCache(seconds=10, max_entries=3)
    for n in range(4):
        cache.put(n, n)
    assert cache.get(3) == 3
    assert cache.get(0) is None
