"""OpenAI's model graders (score_model, label_model) and cosine similarity, through the real JudgeBackend
against the fake OpenAI: what is sent, how replies become scores, usage per scorer, the cache."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pytest
from fakeopenai import ApiError, FakeOpenAI, FakeRequest
from fakeopenai.bodies import count_tokens
from fakeopenai.embeddings import vector
from fakeopenai.openapi import OpenAPISpec
from fakeopenai.structured import requested_schema, verdict

from evalkit.errors import ServiceError
from evalkit.providers.openai import OpenAIProvider
from evalkit.records import Message, Score
from evalkit.records.usage import JudgeUsage
from evalkit.runner.cache import Cache
from evalkit.runner.calls import Caller
from evalkit.scorers.base import ScoringError
from evalkit.scorers.graders.embeddings import DEFAULT_MODEL, cosine_similarity
from evalkit.scorers.graders.model_graders import label_model_grade, score_model_grade
from evalkit.scorers.judge.backend import JudgeBackend

T = TypeVar("T")

MESSAGES: tuple[Message, ...] = (
    {"role": "system", "content": "Score how well the answer routes the ticket, from 0 to 10."},
    {"role": "user", "content": "Ticket: my card was charged twice\nReference: billing\nAnswer: billing"},
)
LABELS = ("correct", "partly", "wrong")


def graded(
    use: Callable[[JudgeBackend], Awaitable[T]], *, cache_dir: Path | None = None
) -> tuple[T, dict[str, JudgeUsage]]:
    """Run ``use`` against a real backend on the fake (one attempt per call); its result and the usage."""

    async def go() -> tuple[T, dict[str, JudgeUsage]]:
        cache = Cache.open(cache_dir) if cache_dir is not None else None
        try:
            async with OpenAIProvider.from_env(max_attempts=1) as provider:
                backend = JudgeBackend(Caller(provider, cache=cache))
                return await use(backend), backend.usage()
        finally:
            if cache is not None:
                cache.close()

    return asyncio.run(go())


def score(
    backend: JudgeBackend,
    *,
    scorer: str = "quality",
    model: str = "gpt-4o",
    messages: Sequence[Message] = MESSAGES,
    score_range: tuple[float, float] = (0.0, 10.0),
    sampling: Mapping[str, Any] | None = None,
) -> Awaitable[Score]:
    return score_model_grade(
        backend, scorer=scorer, model=model, messages=messages, score_range=score_range, sampling=sampling or {}
    )


def label(backend: JudgeBackend, *, model: str = "gpt-4o") -> Awaitable[Score]:
    return label_model_grade(
        backend, scorer="verdict", model=model, messages=MESSAGES, labels=LABELS, passing_labels=("correct",)
    )


def bodies(fake: FakeOpenAI, path: str = "/v1/chat/completions") -> list[dict[str, Any]]:
    return [r.body for r in fake.requests if r.path == path and r.body is not None]


# --- score_model ----------------------------------------------------------------------------------


def test_the_score_is_the_models_result_in_the_graders_range_with_its_steps(fake_openai: FakeOpenAI) -> None:
    steps = [("routing", "the answer names the billing queue"), ("tone", "terse but fine")]
    fake_openai.script("gpt-4o", verdict(7.1234567, steps=steps))

    result, _ = graded(score)

    assert result == Score(
        7.1234567,
        answer="7.1234567",
        explanation="1. routing: the answer names the billing queue\n2. tone: terse but fine",
    )
    (body,) = bodies(fake_openai)
    assert body["messages"] == list(MESSAGES)  # the rendered input, sent as it is
    spec = body["response_format"]["json_schema"]
    assert (spec["name"], spec["strict"]) == ("score_model_grader", True)
    assert spec["schema"]["required"] == ["steps", "result"]
    assert spec["schema"]["properties"]["result"]["type"] == "number"
    assert spec["schema"]["properties"]["steps"]["items"]["required"] == ["description", "conclusion"]


@pytest.mark.parametrize(("result", "shown"), [(10.5, "10.5"), (-1, "-1")])
def test_a_result_outside_the_range_is_a_score_error(fake_openai: FakeOpenAI, result: float, shown: str) -> None:
    fake_openai.script("gpt-4o", verdict(result))

    with pytest.raises(ScoringError, match=f"result {shown} is outside the range 0 to 10"):
        graded(score)


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        ("I would give it a solid seven.", "reply has no result: 'I would give it a solid seven.'"),
        (json.dumps({"steps": [], "score": 7}), "reply has no result"),
        (verdict("high"), "result '\"high\"' is not a number"),
        ("", "reply has no result: (empty reply)"),
    ],
    ids=["words", "other-field", "not-a-number", "empty"],
)
def test_a_reply_without_a_readable_result_is_a_score_error(
    fake_openai: FakeOpenAI, reply: str, message: str
) -> None:
    fake_openai.script("gpt-4o", reply)

    with pytest.raises(ScoringError) as caught:
        graded(score)

    assert message in caught.value.message


def test_a_result_in_words_and_fences_is_read_when_the_model_refuses_structured_output(
    fake_openai: FakeOpenAI,
) -> None:
    def no_response_format(request: FakeRequest) -> str:
        if "response_format" in request.body:
            raise ApiError(
                400,
                "Invalid parameter: 'response_format' of type 'json_schema' is not supported with this model.",
                param="response_format",
            )
        return "Here is my grade:\n```json\n" + verdict("8") + "\n```"

    fake_openai.script("gpt-4o", no_response_format)

    result, usage = graded(score)

    assert (result.value, result.answer) == (8.0, "8")
    plain = bodies(fake_openai)[-1]
    system = plain["messages"][0]
    assert system["role"] == "system" and system["content"].startswith(MESSAGES[0]["content"])
    assert '"result": <a number from 0 to 10>' in system["content"]
    assert plain["messages"][1:] == list(MESSAGES[1:])
    assert usage["quality"].calls == 1  # the refused attempt is no answer


def test_a_completions_model_gets_the_input_and_the_reply_format_in_one_prompt(fake_openai: FakeOpenAI) -> None:
    fake_openai.script("davinci-002", " " + verdict(2))
    user_only = MESSAGES[1:]

    result, _ = graded(lambda b: score(b, model="davinci-002", messages=user_only))

    assert result.value == 2.0
    (body,) = bodies(fake_openai, "/v1/completions")
    assert body["prompt"].startswith("system: Reply with one JSON object and nothing else")
    assert f"user: {user_only[0]['content']}" in body["prompt"]


def test_sampling_params_are_sent_in_each_models_terms(fake_openai: FakeOpenAI) -> None:
    fake_openai.script("*", verdict(0.5))
    chat = {"temperature": 0.3, "top_p": 0.9, "seed": 7, "max_completions_tokens": 300}
    thinking = {"max_completions_tokens": 500, "reasoning_effort": "low", "seed": 7}

    async def three(backend: JudgeBackend) -> None:
        await score(backend, score_range=(0, 1), sampling=chat)
        await score(backend, score_range=(0, 1), sampling={})
        await score(backend, model="o3", score_range=(0, 1), sampling=thinking)

    graded(three)

    given, default, reasoning = bodies(fake_openai)
    assert {k: given[k] for k in ("temperature", "top_p", "seed", "max_tokens")} == {
        "temperature": 0.3,
        "top_p": 0.9,
        "seed": 7,
        "max_tokens": 300,
    }
    assert default["temperature"] == 0.0 and "max_tokens" not in default and "seed" not in default
    assert reasoning["max_completion_tokens"] == 500  # the whole budget, as OpenAI means it
    assert reasoning["reasoning_effort"] == "low" and reasoning["seed"] == 7
    assert "temperature" not in reasoning and "max_tokens" not in reasoning


def test_a_reply_cut_by_the_token_budget_says_which_setting_to_raise(fake_openai: FakeOpenAI) -> None:
    fake_openai.script("gpt-4o", verdict(0.5, steps=[("a long look", "at every word of the answer")]))

    with pytest.raises(ScoringError, match="cut at its token budget; raise sampling_params.max_completions_tokens"):
        graded(lambda b: score(b, score_range=(0, 1), sampling={"max_completions_tokens": 3}))


def test_usage_is_counted_under_each_scorers_name(fake_openai: FakeOpenAI) -> None:
    reply = verdict(4)
    fake_openai.script("gpt-4o", reply)

    async def two(backend: JudgeBackend) -> None:
        await score(backend, scorer="quality")
        await score(backend, scorer="tone", messages=MESSAGES[1:])

    _, usage = graded(two)

    prompt = sum(count_tokens(str(m["content"])) + 1 for m in MESSAGES)  # the fake counts words per message
    assert usage == {
        "quality": JudgeUsage("gpt-4o", calls=1, prompt_tokens=prompt, completion_tokens=count_tokens(reply)),
        "tone": JudgeUsage(
            "gpt-4o",
            calls=1,
            prompt_tokens=count_tokens(str(MESSAGES[1]["content"])) + 1,
            completion_tokens=count_tokens(reply),
        ),
    }


def test_a_rerun_with_a_warm_cache_makes_no_call(fake_openai: FakeOpenAI, tmp_path: Path) -> None:
    fake_openai.script("gpt-4o", verdict(6))
    first, _ = graded(score, cache_dir=tmp_path)
    fake_openai.reset()
    fake_openai.script("gpt-4o", verdict(1))  # a different verdict now: the cached one must be used

    again, usage = graded(score, cache_dir=tmp_path)

    assert again == first and again.value == 6.0
    assert fake_openai.requests == []
    assert (usage["quality"].calls, usage["quality"].cached) == (0, 1)


def test_the_same_question_asked_at_once_is_one_call(fake_openai: FakeOpenAI) -> None:
    fake_openai.script("gpt-4o", verdict(3))
    fake_openai.delay = 0.2

    async def twice(backend: JudgeBackend) -> list[Score]:
        return list(await asyncio.gather(score(backend), score(backend)))

    scores, usage = graded(twice)

    assert scores[0] == scores[1]
    assert fake_openai.count("/v1/chat/completions") == 1
    assert (usage["quality"].calls, usage["quality"].cached) == (1, 1)


def test_a_failed_call_is_a_score_error_and_a_rejected_key_stops_the_run(fake_openai: FakeOpenAI) -> None:
    fake_openai.fail_next(1, status=500)
    with pytest.raises(ScoringError, match="the grader model call failed: HTTP 500"):
        graded(score)

    fake_openai.fail_next(1, status=401)
    with pytest.raises(ServiceError, match="API key was rejected"):
        graded(score)


# --- label_model ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("picked", "value"), [("correct", 1.0), ("partly", 0.0), ("wrong", 0.0)])
def test_a_label_passes_only_when_it_is_a_passing_label(
    fake_openai: FakeOpenAI, picked: str, value: float
) -> None:
    fake_openai.script("gpt-4o", verdict(picked, steps=[("queue", "compared with the reference")]))

    result, usage = graded(label)

    assert result == Score(value, answer=picked, explanation="1. queue: compared with the reference")
    (body,) = bodies(fake_openai)
    assert body["messages"] == list(MESSAGES)
    spec = body["response_format"]["json_schema"]
    assert spec["name"] == "label_model_grader"
    assert spec["schema"]["properties"]["result"] == {"type": "string", "enum": list(LABELS)}
    assert usage["verdict"].calls == 1


def test_a_label_that_is_not_one_of_the_labels_is_a_score_error(fake_openai: FakeOpenAI) -> None:
    # A server that ignores response_format (or a model replying in words) may answer anything.
    fake_openai.script("gpt-4o", verdict("mostly correct"))

    with pytest.raises(ScoringError, match='label \'"mostly correct"\' is not one of "correct", "partly", "wrong"'):
        graded(label)


def test_the_schema_the_graders_ask_for_is_one_openais_strict_mode_takes(fake_openai: FakeOpenAI) -> None:
    seen: list[dict[str, Any] | None] = []

    def schema_checked(request: FakeRequest) -> str:
        schema = requested_schema(request)
        seen.append(schema)
        labels = (schema or {}).get("properties", {}).get("result", {}).get("enum")
        return verdict(labels[0] if labels else 0.5)

    fake_openai.script("*", schema_checked)

    async def both(backend: JudgeBackend) -> None:
        await label(backend)
        await score(backend, model="gpt-4o-mini@responses", score_range=(0, 1))

    graded(both)

    assert [r.status for r in fake_openai.requests] == [200, 200]  # the fake refuses what strict mode would
    assert all(schema is not None and schema["additionalProperties"] is False for schema in seen)
    (responses_body,) = bodies(fake_openai, "/v1/responses")
    assert responses_body["text"]["format"]["name"] == "score_model_grader"


# --- cosine ---------------------------------------------------------------------------------------


def cosine(text: str, reference: str, *, model: str = DEFAULT_MODEL) -> Callable[[JudgeBackend], Awaitable[float]]:
    return lambda backend: cosine_similarity(backend, scorer="similar", model=model, text=text, reference=reference)


def numpy_cosine(a: Sequence[float], b: Sequence[float]) -> float:
    left, right = np.asarray(a, dtype=np.float32).astype(np.float64), np.asarray(b, dtype=np.float32).astype(np.float64)
    return float(np.dot(left, right) / (np.linalg.norm(left) * np.linalg.norm(right)))


def test_identical_texts_are_1_without_a_call(fake_openai: FakeOpenAI) -> None:
    similarity, usage = graded(cosine("billing", "billing"))

    assert similarity == 1.0
    assert fake_openai.requests == [] and usage == {}


def test_the_figure_is_the_cosine_of_the_vectors_the_service_returned(
    fake_openai: FakeOpenAI, openai_spec: OpenAPISpec
) -> None:
    answer, reference = "The parcel arrived two days late", "my parcel arrived late"

    similarity, usage = graded(cosine(answer, reference))

    expected = numpy_cosine(vector(answer, 3072), vector(reference, 3072))
    assert similarity == pytest.approx(expected, abs=1e-12)
    assert 0.3 < similarity < 1.0  # shared words: close, not the same
    sent = bodies(fake_openai, "/v1/embeddings")
    assert sorted(body["input"] for body in sent) == sorted([answer, reference])
    for body in sent:
        assert (body["model"], body["encoding_format"]) == ("text-embedding-3-large", "base64")
        openai_spec.check(body, "CreateEmbeddingRequest")
    words = count_tokens(answer) + count_tokens(reference)
    assert usage == {"similar": JudgeUsage("text-embedding-3-large", calls=2, prompt_tokens=words)}


def test_texts_that_share_no_words_are_far_apart(fake_openai: FakeOpenAI) -> None:
    near, _ = graded(cosine("refund my card payment", "a refund for the card payment"))
    far, _ = graded(cosine("refund my card payment", "the app crashes on start"))

    assert abs(far) < 0.2 < near


def test_embeddings_are_cached_per_text_and_a_warm_rerun_makes_no_call(
    fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    reference = "billing queue"

    async def two_targets(backend: JudgeBackend) -> list[float]:
        return [await cosine(text, reference)(backend) for text in ("billing", "the billing team")]

    first, _ = graded(two_targets, cache_dir=tmp_path)
    assert fake_openai.count("/v1/embeddings") == 3  # the reference is embedded once for both answers

    fake_openai.reset()
    again, usage = graded(two_targets, cache_dir=tmp_path)

    assert again == first
    assert fake_openai.requests == []
    assert (usage["similar"].calls, usage["similar"].cached) == (0, 4)


def test_an_empty_text_shares_nothing_with_another(fake_openai: FakeOpenAI) -> None:
    similarity, _ = graded(cosine("", "billing"))

    assert similarity == 0.0 and fake_openai.requests == []


def test_a_chat_model_named_as_the_embeddings_model_is_a_score_error_asked_once(fake_openai: FakeOpenAI) -> None:
    fake_openai.script("gpt-4o", verdict(9))

    async def two_then_a_grade(backend: JudgeBackend) -> tuple[list[str], Score]:
        messages: list[str] = []
        for text in ("billing", "shipping"):
            with pytest.raises(ScoringError) as caught:
                await cosine(text, "account", model="gpt-4o")(backend)
            messages.append(caught.value.message)
        return messages, await score(backend)

    (messages, grade), _ = graded(two_then_a_grade)

    assert all("model 'gpt-4o' gives no embeddings" in m for m in messages)
    assert "You are not allowed to generate embeddings from this model" in messages[0]
    assert fake_openai.count("/v1/embeddings") == 1  # the model was found to give none, and not asked again
    assert grade.value == 9.0  # and it still grades: a 403 there is neither a rejected key nor a broken model
