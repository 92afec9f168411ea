"""``GET /v1/models[/{id}]``: the Model object with ``shutdown_date``, set per model by a test."""

from __future__ import annotations

import datetime

import openai
import pytest

from fakeopenai import FAKE_API_KEY, FakeOpenAI
from fakeopenai.openapi import OpenAPISpec
from fakeopenai.test_shapes import call


def client(server: FakeOpenAI) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.url, api_key=FAKE_API_KEY, max_retries=0)


def test_a_model_has_no_shutdown_date_until_one_is_set(
    fake_openai: FakeOpenAI, openai_spec: OpenAPISpec
) -> None:
    status, _, body = call(fake_openai, "/v1/models/gpt-4o-mini", method="GET")

    assert status == 200
    openai_spec.check(body, "Model")
    assert body == {
        "id": "gpt-4o-mini",
        "object": "model",
        "created": 1_700_000_000,
        "owned_by": "system",
        "shutdown_date": None,
    }


def test_set_shutdown_shows_in_the_record_and_the_sdk(
    fake_openai: FakeOpenAI, openai_spec: OpenAPISpec
) -> None:
    fine_tune = "ft:gpt-4o-mini-2024-07-18:acme:triage:7p4lURel"
    fake_openai.add_model(fine_tune)
    fake_openai.set_shutdown("gpt-4o-mini", "2027-01-14")
    fake_openai.set_shutdown(fine_tune, datetime.date(2027, 1, 14))
    sdk = client(fake_openai)

    base, tuned = sdk.models.retrieve("gpt-4o-mini"), sdk.models.retrieve(fine_tune)
    _, _, listing = call(fake_openai, "/v1/models", method="GET")

    assert (base.shutdown_date, tuned.shutdown_date, tuned.owned_by) == (
        "2027-01-14",
        "2027-01-14",
        "user-fakeopenai",
    )
    openai_spec.check(listing, "ListModelsResponse")
    dates = {m["id"]: m["shutdown_date"] for m in listing["data"]}
    assert (dates["gpt-4o-mini"], dates[fine_tune], dates["gpt-5"]) == ("2027-01-14", "2027-01-14", None)


def test_the_date_belongs_to_the_exact_id_and_the_model_keeps_answering(fake_openai: FakeOpenAI) -> None:
    fake_openai.set_shutdown("gpt-4o", "2027-01-14")
    sdk = client(fake_openai)

    snapshot = sdk.models.retrieve("gpt-4o-2024-08-06")
    answer = sdk.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "still here"}])

    assert snapshot.shutdown_date is None  # dated snapshots and fine-tunes get their own
    assert answer.choices[0].message.content == "still here"


def test_a_cleared_or_reset_date_is_null_again(fake_openai: FakeOpenAI) -> None:
    fake_openai.set_shutdown("o4-mini", "2026-10-23")
    fake_openai.set_shutdown("o4-mini", None)
    fake_openai.set_shutdown("gpt-4.1-mini", "2027-01-14")
    fake_openai.reset()

    assert client(fake_openai).models.retrieve("o4-mini").shutdown_date is None
    assert client(fake_openai).models.retrieve("gpt-4.1-mini").shutdown_date is None


@pytest.mark.parametrize("bad", ["2027-1-14", "14/01/2027", "2027-02-30", "soon"])
def test_a_date_must_be_yyyy_mm_dd(fake_openai: FakeOpenAI, bad: str) -> None:
    with pytest.raises(ValueError, match="a real date as YYYY-MM-DD"):
        fake_openai.set_shutdown("gpt-4o", bad)


def test_an_unserved_model_is_still_404(fake_openai: FakeOpenAI) -> None:
    fake_openai.set_shutdown("gpt-3.5-turbo", "2026-10-23")
    fake_openai.remove_model("gpt-3.5-turbo")

    with pytest.raises(openai.NotFoundError) as gone:
        client(fake_openai).models.retrieve("gpt-3.5-turbo")

    assert gone.value.code == "model_not_found"
