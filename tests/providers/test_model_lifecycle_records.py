"""Model records' shutdown dates through the real SDK against the fake OpenAI: a fine-tune's date is its base's
when that comes first, each record is read once a day (``model-lifecycles.json``), and a record that cannot
be read is no date, one debug line, never an error.

``fixtures.lifecycle.announce`` sets the dates on the fake's model records (its ``set_shutdown``).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx2
import openai
import pytest
from fakeopenai import FAKE_API_KEY, FakeOpenAI
from fixtures.lifecycle import announce, model_reads

from evalkit.providers import lifecycle
from evalkit.providers.lifecycle import CACHE_FILE, CACHE_TTL_S, Shutdown, model_shutdowns, read_shutdown_date

NOW = 1_796_256_000.0  # 2026-12-03, the run's clock for the cache
FT = "ft:gpt-4o-mini:acme:triage:abc123"
CKPT = f"{FT}:ckpt-step-30"


def shutdowns(
    server: FakeOpenAI, models: Sequence[str], *, identity: str = "svc", base_url: str | None = None, **options: Any
) -> dict[str, Shutdown]:
    """``model_shutdowns`` through the SDK, against the fake."""

    async def go() -> dict[str, Shutdown]:
        async with openai.AsyncOpenAI(base_url=base_url or server.url, api_key=FAKE_API_KEY) as client:
            return await model_shutdowns(client, models, identity=identity, **options)

    return asyncio.run(go())


def test_a_fine_tune_dies_with_its_base(
    fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for model in (FT, CKPT):
        fake_openai.add_model(model)
    announce(fake_openai, {"gpt-4o-mini": "2027-01-14", "gpt-4o": "2027-06-01", "gpt-4.1-mini": "2027-01-14"})

    found = shutdowns(
        fake_openai, ["gpt-4o-mini", FT, CKPT, "gpt-4o", "davinci-002"], identity="svc", cache_path=tmp_path / "c.json"
    )

    assert found == {
        "gpt-4o-mini": Shutdown(date(2027, 1, 14)),
        FT: Shutdown(date(2027, 1, 14), base="gpt-4o-mini"),
        CKPT: Shutdown(date(2027, 1, 14), base="gpt-4o-mini"),
        "gpt-4o": Shutdown(date(2027, 6, 1)),
    }  # davinci-002: none announced
    assert found[FT].describe() == "2027-01-14 (its base gpt-4o-mini)"
    assert sorted(model_reads(fake_openai)) == sorted(["gpt-4o-mini", FT, CKPT, "gpt-4o", "davinci-002"])


def test_the_earlier_date_wins(
    fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    early, late = "ft:gpt-4o:acme::early", "ft:gpt-4o:acme::late"
    for model in (early, late):
        fake_openai.add_model(model)
    announce(fake_openai, {"gpt-4o": "2027-01-14", early: "2026-12-20", late: "2027-03-01"})

    found = shutdowns(fake_openai, [early, late], identity="svc", cache_path=tmp_path / "c.json")

    assert found == {early: Shutdown(date(2026, 12, 20)), late: Shutdown(date(2027, 1, 14), base="gpt-4o")}


def test_records_are_read_once_a_day_per_service(
    fake_openai: FakeOpenAI, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    fake_openai.add_model(FT)
    announce(fake_openai, {"gpt-4o-mini": "2027-01-14"})
    path = tmp_path / "cache" / CACHE_FILE
    first = shutdowns(fake_openai, [FT], identity="svc", cache_path=path, now=NOW)
    assert sorted(model_reads(fake_openai)) == sorted([FT, "gpt-4o-mini"])
    stored = json.loads(path.read_text())
    assert stored["services"]["svc"]["gpt-4o-mini"] == {"shutdown_date": "2027-01-14", "read_at": NOW}
    assert stored["services"]["svc"][FT] == {"shutdown_date": None, "read_at": NOW}

    fake_openai.reset()  # forgets the dates too: what is read within the day comes from the file
    fake_openai.add_model(FT)
    announce(fake_openai, {"gpt-4o-mini": "2027-01-14"})
    assert shutdowns(fake_openai, [FT], identity="svc", cache_path=path, now=NOW + CACHE_TTL_S - 1) == first
    assert model_reads(fake_openai) == []  # within the day: from the file

    shutdowns(fake_openai, [FT], identity="other", cache_path=path, now=NOW + 60)
    assert sorted(model_reads(fake_openai)) == sorted([FT, "gpt-4o-mini"])  # another service asks itself

    fake_openai.reset()  # forgets the dates too: what is read within the day comes from the file
    fake_openai.add_model(FT)
    announce(fake_openai, {"gpt-4o-mini": "2027-01-14"})
    assert shutdowns(fake_openai, [FT], identity="svc", cache_path=path, now=NOW + CACHE_TTL_S) == first
    assert sorted(model_reads(fake_openai)) == sorted([FT, "gpt-4o-mini"])  # a day later: read again


def test_unreadable_records_are_no_date_and_one_debug_line(
    fake_openai: FakeOpenAI,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    gone = "ft:gpt-4o-mini:acme::gone"  # not served: its record answers 404 model_not_found
    real = lifecycle.read_shutdown_date

    async def read(client: openai.AsyncOpenAI, model_id: str) -> date | None:
        if model_id == "gpt-4o":
            raise openai.APIConnectionError(request=httpx2.Request("GET", f"{fake_openai.url}/models/gpt-4o"))
        return await real(client, model_id)

    monkeypatch.setattr(lifecycle, "read_shutdown_date", read)
    path = tmp_path / CACHE_FILE
    caplog.set_level(logging.DEBUG, logger=lifecycle.__name__)

    found = shutdowns(fake_openai, [gone, "gpt-4o", "gpt-4o-mini"], identity="svc", cache_path=path)

    assert found == {}
    (line,) = [r.getMessage() for r in caplog.records if r.name == lifecycle.__name__]
    assert "2 model(s)" in line and f"{gone}: HTTP 404" in line and "gpt-4o: APIConnectionError" in line
    assert set(json.loads(path.read_text())["services"]["svc"]) == {"gpt-4o-mini"}  # errors are not cached


def test_a_server_without_the_route_is_no_date(fake_openai: FakeOpenAI, tmp_path: Path) -> None:
    elsewhere = f"{fake_openai.url}/elsewhere"
    assert shutdowns(fake_openai, ["gpt-4o-mini"], base_url=elsewhere, cache_path=tmp_path / "c") == {}
    assert [r.status for r in fake_openai.requests] == [404]  # asked once: a 404 is not retried


def test_azure_is_not_asked(fake_openai: FakeOpenAI, tmp_path: Path) -> None:
    async def go() -> dict[str, Shutdown]:
        async with openai.AsyncAzureOpenAI(
            azure_endpoint=fake_openai.azure_endpoint, api_key=FAKE_API_KEY, api_version="2024-10-21"
        ) as client:
            return await model_shutdowns(client, ["gpt-4o-mini"], identity="svc", cache_path=tmp_path / "c")

    assert asyncio.run(go()) == {}
    assert fake_openai.requests == []


@pytest.mark.parametrize("announced", ["soon", 20270114, "2027-13-01"])
def test_a_date_that_is_not_a_date_is_refused(announced: Any) -> None:
    async def retrieve(model_id: str) -> Any:
        return SimpleNamespace(id=model_id, shutdown_date=announced)

    client: Any = SimpleNamespace(models=SimpleNamespace(retrieve=retrieve))
    client.with_options = lambda **_: client
    with pytest.raises((ValueError, TypeError)):
        asyncio.run(read_shutdown_date(client, "gpt-4o-mini"))


def test_a_broken_cache_file_is_read_again_and_rewritten(
    fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    path = tmp_path / CACHE_FILE
    path.write_text('{"version": 1, "services": {"svc": {"gpt-4o-mini": {"read_at": "yesterday"}}}}')
    assert shutdowns(fake_openai, ["gpt-4o-mini"], identity="svc", cache_path=path, now=NOW) == {}
    assert model_reads(fake_openai) == ["gpt-4o-mini"]
    assert json.loads(path.read_text())["services"]["svc"]["gpt-4o-mini"]["read_at"] == NOW

    path.write_text("not json")
    shutdowns(fake_openai, ["gpt-4o-mini"], identity="svc", cache_path=path, now=NOW)
    assert json.loads(path.read_text())["version"] == 1
