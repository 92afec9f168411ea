"""A fake OpenAI API on loopback: a real HTTP/1.1 server the official SDK talks to, errors included.

    server = FakeOpenAI().start()          # or the ``fake_openai`` fixture from tests/conftest.py
    server.add_model("ft:gpt-4o-mini:org::abc")          # kind inferred from the base
    server.script("gpt-4o-mini", lambda req: "billing")  # what a model answers
    server.fail_next(2, status=429)                      # the next two requests are rate-limited
    client = openai.OpenAI(base_url=server.url, api_key=FAKE_API_KEY)

Fine-tuning jobs (their checkpoint and final models become served models):

    server.add_file("file-train", jsonl_text)
    server.add_job("ftjob-abc", model="gpt-4o-mini-2024-07-18", checkpoint_steps=(10, 20, 30),
                   training_file="file-train", result_csv="step,train_loss\n10,0.91\n")

Batches (``complete_after``: polls answered ``in_progress`` first; lines answered by the same scripts):

    server.batches.complete_after = 3
    server.batch_ids()                                   # every batch created since the last reset

Reasoning models (o1, o3, o4-mini, gpt-5*, gpt-6*, codex, and fine-tunes of them; see ``models.py``)
refuse ``max_tokens`` and ``temperature``/``top_p`` other than 1 with OpenAI's 400s, and spend reasoning
tokens out of ``max_completion_tokens``/``max_output_tokens`` before the visible answer (``reasoning.py``).
Responses-only models (``o3-pro``, ``gpt-5.2-pro``, ``codex-mini-latest``, ``o3-deep-research`` ...) answer
404 anywhere but ``/v1/responses``:

    server.set_reasoning_tokens("o3", 100)               # spent per answer at the default effort (40)
    server.add_model("gpt-5.4")                          # kind and reasoning inferred from the name
    server.set_shutdown("gpt-4o", "2027-01-14")          # GET /v1/models/gpt-4o says shutdown_date
    server.count("/v1/responses", model="o3-pro")        # the log keeps each request's path and body

Embeddings (``embeddings.py``: a hashed bag of words, so texts that share words are close)::

    server.add_embedding_model("my-embedder", 768)       # text-embedding-3-large/-small, ada-002 by default
    embeddings.vector("some text", 3072)                 # the vector the fake answers for that text

Routes: ``POST /v1/chat/completions``, ``POST /v1/completions``, ``POST /v1/responses``, ``POST /v1/embeddings``,
``GET /v1/models[/{id}]``, ``GET /v1/fine_tuning/jobs/{id}[/checkpoints|/events]``,
``GET /v1/files/{id}[/content]``, the Batch API (``POST /v1/files``, ``POST /v1/batches``,
``GET /v1/batches/{id}``) and the Azure forms ``POST /openai/deployments/{name}/{chat/completions|completions}``,
``POST /openai/deployments/{name}/embeddings`` and ``POST /openai/responses`` (``api-key`` header).
Order of checks, like OpenAI: route → API key → body → injected fault → model → endpoint → the model's
parameters (reasoning refusals) → script.
"""

from __future__ import annotations

import copy
import datetime
import functools
import json
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Self

from . import bodies, embeddings
from .batches import BatchStore
from .bodies import ApiError, JsonDict, Reply, ToolCall
from .endpoints import answer, check_request, check_served
from .faults import Decision, Faults
from .generate import FakeRequest, Script, default_script
from .jobs import AUTO, Auto, JobSpec, build_job
from .log import AuthScheme, RecordedRequest, RequestLog, scrub_headers
from .models import Kind, ModelRegistry
from .routes import Incoming, Outcome, Route, parse_json, route_for, with_deployment
from .store import JobStore, StoredFile
from .transport import serve

FAKE_API_KEY = "sk-test-fakeopenai-000000001234"
"""The key the ``fake_openai`` fixture puts in ``OPENAI_API_KEY``; grep outputs for it to find leaks."""

DEFAULT_RETRY_AFTER = 0.01
"""Seconds sent as ``Retry-After`` on injected faults by default, so SDK retries are near-instant."""


class FakeOpenAI:
    """The fake server: models, scripts, faults and a request log, all resettable per test."""

    def __init__(self, *, hang_seconds: float = 60.0) -> None:
        self.hang_seconds = hang_seconds
        """Longest a hung request is held (it is released earlier by ``reset`` or ``stop``)."""
        self.delay = 0.0
        """Seconds every generation (or embeddings) request waits before it is answered (faults included)."""
        self.models = ModelRegistry()
        """The served models and the endpoint each answers on."""
        self.faults = Faults()
        """The fault plan (prefer ``fail_next``/``hang_next``/``fault_rate``)."""
        self.jobs = JobStore()
        """Fine-tuning jobs and files (prefer ``add_job``/``add_file``)."""
        self.batches = BatchStore(self.jobs, self._batch_line)
        """Batch API batches; ``batches.complete_after`` sets how many polls a batch stays in progress."""
        self.script_errors: list[BaseException] = []
        """Exceptions raised by scripts (each also answered as HTTP 500)."""
        self._log = RequestLog()
        self._lock = threading.Lock()
        self._scripts: dict[str, Script | str | Reply] = {}
        self._embedding_models = dict(embeddings.EMBEDDING_MODELS)
        self._rejected_keys: set[str] = set()
        self._release = threading.Event()
        self._in_flight = 0
        self._max_in_flight = 0
        self._shutdown: Callable[[], None] | None = None
        self._port = 0

    # ── lifecycle ─────────────────────────────────────────────────────────────────────────────────

    def start(self) -> Self:
        """Listen on 127.0.0.1 (ephemeral port) in a daemon thread; returns self."""
        if self._shutdown is not None:
            raise RuntimeError("the fake OpenAI server is already running")
        self._release = threading.Event()
        self._port, self._shutdown = serve(self)
        return self

    def stop(self) -> None:
        """Release hung requests and stop listening."""
        self._release.set()
        if self._shutdown is not None:
            self._shutdown()
            self._shutdown = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The TCP port (0 until started)."""
        return self._port

    @property
    def url(self) -> str:
        """What ``OPENAI_BASE_URL`` should be: ``http://127.0.0.1:<port>/v1``."""
        return f"http://127.0.0.1:{self._port}/v1"

    @property
    def azure_endpoint(self) -> str:
        """What ``AZURE_OPENAI_ENDPOINT`` should be: ``http://127.0.0.1:<port>``."""
        return f"http://127.0.0.1:{self._port}"

    # ── configuration ─────────────────────────────────────────────────────────────────────────────

    def add_model(self, model_id: str, kind: Kind | None = None, *, reasoning: bool | None = None) -> Kind:
        """Serve a model; returns its kind.

        ``kind``: where it answers — ``chat`` (chat completions and responses), ``completions`` (legacy)
        or ``responses`` (Responses only). ``reasoning``: whether it is a reasoning model. What is not
        given comes from the served base of a fine-tune/checkpoint/dated id, else from the name's family
        (``o3``, ``gpt-5.4`` → chat, reasoning; ``o3-pro``, ``gpt-5.1-codex-max`` → responses, reasoning);
        an Azure deployment name says nothing, so give both (``add_model("o3-prod", "chat",
        reasoning=True)``).
        """
        return self.models.add(model_id, kind, reasoning=reasoning)

    def remove_model(self, model_id: str) -> None:
        """Stop serving a model: it then gets 404 ``model_not_found``."""
        self.models.remove(model_id)

    def set_shutdown(self, model_id: str, date: str | datetime.date | None) -> None:
        """Make ``GET /v1/models/{model_id}`` (and the list) report ``shutdown_date`` (``"2027-01-14"``).

        ``date`` is ``YYYY-MM-DD`` (or a ``datetime.date``); None clears it. Only that exact id gets it:
        set fine-tunes and dated snapshots on their own. The model keeps answering (``remove_model`` is
        the shutdown itself). Until set, every model reports ``shutdown_date: null``.
        """
        self.models.set_shutdown(model_id, date)

    def set_reasoning_tokens(self, model: str, tokens: int) -> None:
        """Reasoning tokens ``model`` (``"*"``: every model without its own) spends per answer.

        At the default effort (``medium``); other efforts scale it (``reasoning.EFFORT_SHARE``: ``low``
        half, ``minimal`` a quarter, ``none`` 0, ``high`` ×2). They come first out of
        ``max_completion_tokens`` / ``max_output_tokens``; the visible answer gets the rest.
        Default: ``DEFAULT_REASONING_TOKENS`` (40). Models that do not reason ignore it.
        """
        self.models.set_reasoning_tokens(model, tokens)

    def add_embedding_model(self, model_id: str, dimensions: int = 1536) -> None:
        """Serve an embeddings model answering ``dimensions``-long vectors on ``/v1/embeddings``
        (``text-embedding-3-large``/``-small`` and ``text-embedding-ada-002`` are served by default)."""
        if not isinstance(dimensions, int) or isinstance(dimensions, bool) or dimensions < 1:
            raise ValueError(f"dimensions must be an integer >= 1, not {dimensions!r}")
        with self._lock:
            self._embedding_models[model_id] = dimensions

    def reject_key(self, key: str) -> None:
        """Answer 401 ``invalid_api_key`` (key masked in the message) to requests with this key."""
        with self._lock:
            self._rejected_keys.add(key)

    def script(self, model: str, answer: Script | str | Reply) -> None:
        """What ``model`` answers (``"*"``: every model without its own script).

        ``answer`` is ``fn(FakeRequest) -> str | Reply`` (called from server threads, once per choice)
        or a constant text/Reply. Raise ``ApiError`` in ``fn`` to answer with an error.
        """
        with self._lock:
            self._scripts[model] = answer

    def script_tool_calls(self, model: str, calls: Sequence[ToolCall], *, content: str | None = None) -> None:
        """Make ``model`` answer with these function calls (finish_reason ``tool_calls``)."""
        self.script(model, Reply(content=content, tool_calls=tuple(calls)))

    def fail_next(
        self,
        n: int,
        *,
        status: int = 429,
        retry_after: float | None = DEFAULT_RETRY_AFTER,
        model: str | None = None,
        error: ApiError | None = None,
    ) -> None:
        """Fail the next ``n`` generation (or embeddings) requests (for ``model`` only, if given) with ``status``.

        The body is OpenAI's for that status (429 rate limit, 404 model_not_found, 5xx server_error),
        or ``error``. ``Retry-After`` is sent unless ``retry_after`` is None.
        """
        self.faults.queue("fail", n, model=model, status=status, retry_after=retry_after, error=error)

    def fail_model(
        self, model: str, *, status: int = 500, retry_after: float | None = DEFAULT_RETRY_AFTER
    ) -> None:
        """Fail every request for ``model`` with ``status`` until ``reset``."""
        self.faults.queue("fail", None, model=model, status=status, retry_after=retry_after)

    def hang_next(self, n: int, *, model: str | None = None) -> None:
        """Never answer the next ``n`` generation requests: held until reset/stop, then dropped."""
        self.faults.queue("hang", n, model=model)

    def fault_rate(
        self,
        rate: float,
        *,
        statuses: tuple[int, ...] = (429, 500, 503),
        seed: int = 0,
        model: str | None = None,
        retry_after: float | None = DEFAULT_RETRY_AFTER,
    ) -> None:
        """Fail a fraction ``rate`` of requests, reproducibly: decided per (seed, body, attempt number)."""
        self.faults.set_rate(rate, statuses=statuses, seed=seed, model=model, retry_after=retry_after)

    def add_file(
        self,
        file_id: str,
        content: bytes | str,
        *,
        filename: str = "training.jsonl",
        purpose: str = "fine-tune",
    ) -> None:
        """Store a file: ``GET /v1/files/{file_id}/content`` returns ``content`` (str is sent as UTF-8)."""
        data = content.encode() if isinstance(content, str) else bytes(content)
        self.jobs.add_file(StoredFile(file_id, data, filename, purpose))

    def add_job(
        self,
        job_id: str,
        *,
        model: str,
        status: str = "succeeded",
        fine_tuned_model: str | None | Auto = AUTO,
        training_file: str | None = None,
        validation_file: str | None = None,
        checkpoint_steps: Sequence[int] = (),
        checkpoint_metrics: Mapping[int, Mapping[str, float]] | None = None,
        result_csv: str | None = None,
        result_base64: bool = True,
        metrics_events: bool = True,
        error: Mapping[str, Any] | None = None,
        hyperparameters: Mapping[str, Any] | None = None,
        method: Mapping[str, Any] | None = None,
        trained_tokens: int | None = None,
    ) -> dict[str, Any]:
        """Add a fine-tuning job of base ``model``; returns the job body as ``GET`` returns it.

        ``fine_tuned_model`` defaults to ``ft:{model}:acme::{job_id[-8:]}`` when succeeded, else None.
        Each of ``checkpoint_steps`` gets a checkpoint ``{final or that default}:ckpt-step-{N}`` with
        ``checkpoint_metrics[N]`` (default: made up, loss falling with the step) and, if
        ``metrics_events``, a ``type="metrics"`` event with the same data. ``result_csv`` becomes the
        job's result file (base64 of it if ``result_base64``). ``training_file``/``validation_file`` are
        ids given to ``add_file``; without ``training_file`` the job names one that does not exist (404,
        as for a deleted file). A failed job without ``error`` gets an ``invalid_training_file`` error.
        Checkpoint and final models are served on the endpoint their base answers on.
        """
        spec = JobSpec(
            job_id=job_id,
            model=model,
            status=status,
            fine_tuned_model=fine_tuned_model,
            training_file=training_file,
            validation_file=validation_file,
            checkpoint_steps=tuple(checkpoint_steps),
            checkpoint_metrics=checkpoint_metrics,
            result_csv=result_csv,
            result_base64=result_base64,
            metrics_events=metrics_events,
            error=error,
            hyperparameters=hyperparameters,
            method=method,
            trained_tokens=trained_tokens,
        )
        job = build_job(spec)
        self._serve_job_models(model, job.models)
        self.jobs.add_job(job)
        return copy.deepcopy(job.body)

    def _serve_job_models(self, base: str, model_ids: list[str]) -> None:
        try:
            kind = self.models.kind_of_base(base)
        except ValueError:
            raise ValueError(
                f"the base model {base!r} is not served, so its fine-tunes' endpoint is unknown; "
                f"call add_model({base!r}, 'chat', 'completions' or 'responses') first"
            ) from None
        for model_id in model_ids:
            self.models.add(model_id, kind)

    def reset(self) -> None:
        """Forget the log, scripts, faults, added models, shutdown dates, reasoning-token settings and
        rejected keys; release hung requests."""
        with self._lock:
            self._release.set()
            self._release = threading.Event()
            self._scripts.clear()
            self._embedding_models = dict(embeddings.EMBEDDING_MODELS)
            self._rejected_keys.clear()
            self._max_in_flight = self._in_flight
        self.delay = 0.0
        self.models.reset()
        self.faults.reset()
        self.jobs.reset()
        self.batches.reset()
        self.script_errors.clear()
        self._log.clear()

    # ── the log ───────────────────────────────────────────────────────────────────────────────────

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request since the last reset, oldest first, credentials removed."""
        return self._log.snapshot()

    def count(
        self,
        path: str | None = None,
        *,
        model: str | None = None,
        endpoint: Kind | None = None,
        status: int | None = None,
    ) -> int:
        """How many logged requests match every filter given.

        ``path`` is the exact URL path (``/v1/responses``); ``endpoint`` is ``chat``, ``completions`` or
        ``responses`` whatever the path (Azure's included); ``status`` 400 counts refused requests.
        """
        return sum(
            1
            for r in self._log.snapshot()
            if (path is None or r.path == path)
            and (model is None or r.model == model)
            and (endpoint is None or r.endpoint == endpoint)
            and (status is None or r.status == status)
        )

    def batch_ids(self) -> list[str]:
        """Every batch created since the last reset, oldest first."""
        return self.batches.ids()

    @property
    def max_in_flight(self) -> int:
        """Most generation requests handled at the same time since the last reset."""
        return self._max_in_flight

    # ── request handling (called by the HTTP layer, from server threads) ──────────────────────────

    def begin(self) -> None:
        """Count one more request in flight."""
        with self._lock:
            self._in_flight += 1
            self._max_in_flight = max(self._max_in_flight, self._in_flight)

    def end(self) -> None:
        """Count one request less in flight."""
        with self._lock:
            self._in_flight -= 1

    def handle(self, incoming: Incoming) -> Outcome:
        """Decide the answer to one request and log it."""
        with self._lock:
            release = self._release
        route = route_for(incoming.method, incoming.path)
        body = parse_json(incoming.raw_body)
        model = route.deployment or (body.get("model") if isinstance(body, dict) else None)
        auth, outcome = self._answer(route, incoming, body)
        outcome.release = release
        if (route.endpoint is not None or route.kind == "embeddings") and outcome.status is not None:
            outcome.delay = self.delay
        self._log.add(
            RecordedRequest(
                method=incoming.method,
                path=incoming.path,
                query=incoming.query,
                endpoint=route.endpoint,
                model=model if isinstance(model, str) else None,
                body=body if isinstance(body, dict) else None,
                status=outcome.status,
                headers=scrub_headers(incoming.headers),
                auth=auth,
            )
        )
        return outcome

    def _answer(self, route: Route, incoming: Incoming, body: object) -> tuple[AuthScheme | None, Outcome]:
        auth: AuthScheme | None = None
        try:
            if route.kind == "invalid":
                raise bodies.invalid_url(incoming.method, incoming.path)
            auth = self._authenticate(incoming.headers)
            if route.kind == "models":
                return auth, Outcome(200, self._models_answer(route.model_path))
            if route.kind == "generate":
                return auth, self._generate(route, body)
            if route.kind == "embeddings":
                return auth, self._embeddings(route, body)
            if route.kind in ("file_upload", "batch_create", "batch"):
                return auth, self.batches.answer(route, incoming, body)
            return auth, self.jobs.answer(route, incoming.query)
        except ApiError as error:
            return auth, Outcome(error.status, error.body(), dict(error.headers))

    def _authenticate(self, headers: list[tuple[str, str]]) -> AuthScheme:
        values = {name.lower(): value for name, value in headers}
        authorization = values.get("authorization", "")
        scheme: AuthScheme
        if authorization.lower().startswith("bearer ") and authorization[7:].strip():
            key, scheme = authorization[7:].strip(), "bearer"
        elif values.get("api-key", "").strip():
            key, scheme = values["api-key"].strip(), "api-key"
        else:
            raise bodies.missing_key()
        with self._lock:
            rejected = key in self._rejected_keys
        if rejected:
            raise bodies.invalid_key(key)
        return scheme

    def _models_answer(self, model_id: str | None) -> JsonDict:
        if model_id is None:
            return bodies.model_list([(m, self.models.shutdown(m)) for m in self.models.ids()])
        if self.models.kind(model_id) is None:
            raise bodies.model_not_found(model_id)
        return bodies.model_object(model_id, shutdown_date=self.models.shutdown(model_id))

    def _generate(self, route: Route, body: object) -> Outcome:
        assert route.endpoint is not None
        checked = check_request(route.endpoint, with_deployment(body, route.deployment))
        model: str = checked["model"]
        decision = self.faults.decide(model, json.dumps(checked, sort_keys=True))
        if decision is not None:
            return _fault_outcome(decision)
        return Outcome(200, self._answer_body(route, model, checked))

    def _embeddings(self, route: Route, body: object) -> Outcome:
        checked = embeddings.check_body(with_deployment(body, route.deployment))
        model: str = checked["model"]
        decision = self.faults.decide(model, json.dumps(checked, sort_keys=True))
        if decision is not None:
            return _fault_outcome(decision)
        with self._lock:
            dimensions = self._embedding_models.get(model)
        if dimensions is None:
            if self.models.get(model) is not None:
                raise embeddings.not_an_embedding_model()
            raise bodies.deployment_not_found() if route.azure else bodies.model_not_found(model)
        embeddings.check_dimensions(model, checked)
        return Outcome(200, embeddings.answer(checked, dimensions=dimensions))

    def _batch_line(self, endpoint: Kind, body: object) -> tuple[int, JsonDict]:
        """One batch line answered like the live endpoint (no injected faults): (status, body)."""
        try:
            checked = check_request(endpoint, body)
            return 200, self._answer_body(Route("generate", endpoint), checked["model"], checked)
        except ApiError as error:
            return error.status, error.body()

    def _answer_body(self, route: Route, model: str, body: JsonDict) -> JsonDict:
        assert route.endpoint is not None
        served = check_served(self.models.get(model), model, route.endpoint, azure=route.azure)
        return answer(
            route.endpoint,
            model,
            body,
            served,
            self._script_for(model),
            reasoning_setting=self.models.reasoning_tokens(model),
        )

    def _script_for(self, model: str) -> Script | str | Reply:
        with self._lock:
            chosen = self._scripts.get(model, self._scripts.get("*", default_script))
        if not callable(chosen):
            return chosen
        return functools.partial(self._run_guarded, chosen, model)

    def _run_guarded(self, script: Script, model: str, request: FakeRequest) -> str | Reply:
        """Run a test's script; its bugs become a 500 naming the exception (kept in ``script_errors``)."""
        try:
            return script(request)
        except ApiError:
            raise
        except Exception as exc:
            self.script_errors.append(exc)
            raise ApiError(
                500, f"fakeopenai: the script for {model!r} raised {exc!r}", type="server_error"
            ) from exc


# ── helpers ───────────────────────────────────────────────────────────────────────────────────────


def _fault_outcome(decision: Decision) -> Outcome:
    if decision.action == "hang" or decision.error is None:
        return Outcome(None)
    return Outcome(decision.error.status, decision.error.body(), dict(decision.error.headers))
