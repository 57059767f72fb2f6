"""The byte-bounded LRU behind the document and persisted-query caches."""

from __future__ import annotations

from server.kit.cache import ByteLRU


def test_evicts_the_least_recently_used_past_the_byte_budget() -> None:
    cache: ByteLRU[str, str] = ByteLRU(max_bytes=100)
    for key in "abcd":
        cache.put(key, key, 30)
    assert cache.get("a") is None  # 120 > 100: the oldest went
    assert cache.bytes == 90
    assert cache.get("b") == "b"  # b is now the most recent
    cache.put("e", "e", 30)
    assert cache.get("c") is None
    assert cache.get("b") == "b"
    assert cache.bytes <= 100


def test_an_entry_larger_than_its_cap_is_not_kept() -> None:
    cache: ByteLRU[str, str] = ByteLRU(max_bytes=1000, max_entry_bytes=100)
    cache.put("small", "x", 50)
    cache.put("big", "x", 101)
    assert cache.get("big") is None
    assert cache.get("small") == "x"
    assert cache.bytes == 50


def test_replacing_a_key_counts_its_new_size_only() -> None:
    cache: ByteLRU[str, str] = ByteLRU(max_bytes=100)
    cache.put("k", "v1", 60)
    cache.put("k", "v2", 40)
    assert (cache.get("k"), cache.bytes, len(cache)) == ("v2", 40, 1)
