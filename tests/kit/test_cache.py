"""The byte-bounded LRU behind the document and persisted-query caches, and the identity memo
behind what is kept per parsed document or schema field."""

from __future__ import annotations

from server.kit.cache import ByIdentity, ByteLRU


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


def test_by_identity_keeps_values_per_object_not_per_equal_object() -> None:
    memo: ByIdentity[str] = ByIdentity(max_entries=3)
    a, b = [1], [1]  # equal, unhashable, distinct
    memo.put((a,), "a")
    memo.put((a, b), "a+b", "named")
    assert memo.get((a,)) == "a"
    assert memo.get((b,)) is None
    assert memo.get((a, b), "named") == "a+b"
    assert memo.get((a, b)) is None  # another extra
    assert memo.get((b, a), "named") is None
    memo.put((b,), "b")
    memo.put(("c",), "c")  # past max_entries: everything goes, then this one
    assert memo.get((a,)) is None
    assert memo.get(("c",)) == "c"
