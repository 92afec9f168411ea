"""The response cache on disk: keys, round trips, batching, location, a broken file."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from evalkit.errors import InputError
from evalkit.records import Usage
from evalkit.runner.cache import FILE_NAME, Cache, CachedReply, cache_key

REPLY = CachedReply(output="billing ✓", usage=Usage(12, 3), finish_reason="stop", latency_s=0.25)


def committed_rows(directory: Path) -> int:
    """What another process would see in the cache file right now."""
    with sqlite3.connect(directory / FILE_NAME) as other:
        return int(other.execute("SELECT COUNT(*) FROM responses").fetchone()[0])


def test_key_is_canonical_and_covers_everything_that_changes_the_answer() -> None:
    payload = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "temperature": 0}
    reordered = {"temperature": 0, "messages": [{"content": "hi", "role": "user"}], "model": "m"}
    key = cache_key("http://a/v1", "chat", "m", payload)
    assert key == cache_key("http://a/v1", "chat", "m", reordered)
    assert (
        len(
            {
                key,
                cache_key("http://b/v1", "chat", "m", payload),
                cache_key("http://a/v1", "completions", "m", payload),
                cache_key("http://a/v1", "chat", "m2", payload),
                cache_key("http://a/v1", "chat", "m", {**payload, "temperature": 0.5}),
            }
        )
        == 5
    )


def test_reply_round_trips_across_reopening(tmp_path: Path) -> None:
    with Cache.open(tmp_path) as cache:
        assert cache.get("k") is None
        cache.put("k", REPLY)
        assert cache.get("k") == REPLY
    with Cache.open(tmp_path) as cache:
        assert cache.get("k") == REPLY
        assert len(cache) == 1


def test_an_answer_with_a_lone_surrogate_is_stored_exactly_and_the_next_put_is_unaffected(tmp_path: Path) -> None:
    odd = replace(REPLY, output="bad \ud800 x\x00")
    with Cache.open(tmp_path) as cache:
        assert cache.put("odd", odd) and cache.put("next", REPLY)
        assert committed_rows(tmp_path) == 2  # each committed at once: no transaction left open
    with Cache.open(tmp_path) as cache:
        assert cache.get("odd") == odd and cache.get("next") == REPLY
        assert cache.unstored == 0


def test_a_put_that_fails_is_counted_and_never_poisons_the_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Cache.open(tmp_path) as cache:
        insert = cache._insert
        failures = iter([sqlite3.OperationalError("database or disk is full")])

        def flaky(key: str, value: str) -> None:
            if key == "lost":
                raise next(failures)
            insert(key, value)

        monkeypatch.setattr(cache, "_insert", flaky)
        assert cache.put("first", REPLY) is True
        assert cache.put("lost", REPLY) is False
        assert cache.put("after", REPLY) is True
        assert (cache.unstored, cache.problem) == (1, "database or disk is full")
    with Cache.open(tmp_path) as cache:
        assert [cache.get(k) is not None for k in ("first", "lost", "after")] == [True, False, True]


def test_a_batch_api_answer_stays_marked_across_reopening(tmp_path: Path) -> None:
    batched = replace(REPLY, batch=True)
    with Cache.open(tmp_path) as cache:
        cache.put("live", REPLY)
        cache.put("batched", batched)
    with Cache.open(tmp_path) as cache:
        assert cache.get("batched") == batched
        assert cache.get("live") == REPLY and not REPLY.batch
        assert cache.get_many(["live", "batched"]) == {"live": REPLY, "batched": batched}
    assert "batch" not in stored_value(tmp_path, "live")  # a live answer is stored as it always was


def test_a_value_stored_before_the_batch_flag_reads_as_a_live_answer(tmp_path: Path) -> None:
    old = '{"output": "billing", "usage": [12, 3], "finish_reason": "stop", "latency_s": 0.25}'
    Cache.open(tmp_path).close()
    with sqlite3.connect(tmp_path / FILE_NAME) as other:  # as an evalkit without the flag wrote it
        other.execute("INSERT INTO responses (key, value, created) VALUES ('k', ?, 0)", (old,))
    with Cache.open(tmp_path) as cache:
        assert cache.get("k") == CachedReply("billing", Usage(12, 3), "stop", 0.25, batch=False)


def stored_value(directory: Path, key: str) -> dict[str, object]:
    with sqlite3.connect(directory / FILE_NAME) as other:
        row = other.execute("SELECT value FROM responses WHERE key = ?", (key,)).fetchone()
    return dict(json.loads(row[0]))


def test_writes_are_committed_in_batches(tmp_path: Path) -> None:
    cache = Cache.open(tmp_path, batch=3)
    cache.put("a", REPLY)
    cache.put("b", REPLY)
    assert committed_rows(tmp_path) == 0
    assert cache.get("a") == REPLY
    cache.put("c", REPLY)
    assert committed_rows(tmp_path) == 3
    cache.put("d", REPLY)
    cache.flush()
    assert committed_rows(tmp_path) == 4
    cache.close()


def test_a_killed_process_loses_only_its_last_batch(tmp_path: Path) -> None:
    cache = Cache.open(tmp_path, batch=2)
    for key in "abc":
        cache.put(key, REPLY)
    del cache  # no close: the uncommitted third put is lost, the file stays usable
    with Cache.open(tmp_path) as reopened:
        assert reopened.get("a") == REPLY and reopened.get("b") == REPLY


def test_default_dir_honours_evalkit_cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVALKIT_CACHE_DIR", str(tmp_path / "here"))
    assert Cache.default_dir() == tmp_path / "here"
    with Cache.open() as cache:
        assert cache.path == tmp_path / "here" / FILE_NAME


def test_default_dir_without_override_is_the_user_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EVALKIT_CACHE_DIR", raising=False)
    assert Cache.default_dir().name == "evalkit"


def test_a_file_that_is_not_a_cache_says_how_to_go_on(tmp_path: Path) -> None:
    (tmp_path / FILE_NAME).write_text("not a database, just text" * 100)
    with pytest.raises(InputError) as caught:
        Cache.open(tmp_path)
    assert str(caught.value).startswith(str(tmp_path / FILE_NAME))
    assert "--no-cache" in str(caught.value)
