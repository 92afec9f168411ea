"""``--batch``: OpenAI targets answered through the Batch API, straight into the response cache.

Before the runner, ``run_batch`` builds every (target, case) request the runner would send, leaves out
those the cache already answers and ``local:`` models, and writes one JSONL per (endpoint, model) — a
batch holds requests for one model — each line ``{"custom_id": <the run's cache key>, "method": "POST", "url":
"/v1/chat/completions" | "/v1/completions" | "/v1/responses", "body": <the request body>}``. Each file is uploaded with
``files.create(purpose="batch")`` and run with ``batches.create(completion_window="24h")``; the batches
are polled with ``batches.retrieve`` (a progress bar per batch from its ``request_counts``) until they
end, and the lines of their output files are put into the cache by ``custom_id``, marked as batch answers
(so the costs charge them at the batch rate, in this run and in any re-run). Keys, lookups and
stores go through the run's ``Caller``, so the runner finds exactly what a batch answered. Lines that failed
(error file, or a non-200 line) are not cached: the runner afterwards calls those live, and finds every
other answer cached.

Each submitted batch is saved in ``state_dir/batches.json`` under the SHA-256 of (service, endpoint, file
bytes) as soon as it is created, so a run that is interrupted resumes polling the same batch instead of
submitting it again; the entry is dropped once the batch's results are in the cache. The state file holds
ids only — never a key or a request body.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from evalkit.errors import InputError, ServiceError
from evalkit.providers.local.models import is_local
from evalkit.providers.redact import Redactor
from evalkit.providers.request import Request, build_request
from evalkit.providers.shapes import shape
from evalkit.records import Case, Endpoint, Target
from evalkit.runner.calls import Caller

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

    from evalkit.providers.openai import OpenAIProvider
    from evalkit.runner import RunSettings

STATE_FILE = "batches.json"
"""The file in ``state_dir`` that remembers submitted batches."""

DEFAULT_POLL_S = 30.0
"""Seconds between two looks at the batches."""

BatchUrl = Literal["/v1/chat/completions", "/v1/completions", "/v1/responses"]
URLS: dict[Endpoint, BatchUrl] = {
    "chat": "/v1/chat/completions",
    "completions": "/v1/completions",
    "responses": "/v1/responses",
}
"""The batch endpoint (and line ``url``) of each evalkit endpoint."""

_ENDED = frozenset({"completed", "failed", "expired", "cancelled"})


@dataclass(slots=True)
class BatchSummary:
    """What ``run_batch`` did."""

    submitted: int = 0
    """Requests sent in new batches by this run."""
    resumed: int = 0
    """Requests in batches submitted by an earlier, interrupted run and polled again by this one."""
    cached: int = 0
    """Answers put into the cache."""
    errors: dict[str, str] = field(default_factory=dict)
    """Per cache key, why its line failed (not cached: the runner calls it live)."""


@dataclass(frozen=True, slots=True)
class _Group:
    """The requests of one batch: one endpoint, one model."""

    endpoint: Endpoint
    model: str
    lines: tuple[tuple[str, Request], ...]
    """(cache key, request) in case order, each key once."""

    def jsonl(self) -> bytes:
        url = URLS[self.endpoint]
        return b"".join(
            json.dumps(
                {"custom_id": key, "method": "POST", "url": url, "body": request.payload},
                ensure_ascii=False,
                sort_keys=True,
            ).encode("utf-8")
            + b"\n"
            for key, request in self.lines
        )


async def run_batch(
    cases: Sequence[Case],
    targets: Sequence[Target],
    *,
    caller: Caller,
    remote: OpenAIProvider,
    settings: RunSettings,
    state_dir: Path,
    poll_s: float = DEFAULT_POLL_S,
    progress: bool = True,
) -> BatchSummary:
    """Answer every uncached (target, case) request of the remote targets through the Batch API (on
    ``remote``'s client) into ``caller``'s cache; the runner afterwards finds them cached. Resumes the
    batches saved in ``state_dir``."""
    if poll_s < 0:
        raise ValueError(f"poll_s must be at least 0, got {poll_s}")
    if caller.cache is None:
        raise ValueError("the Batch API path stores its answers in the cache; the caller has none")
    _refuse_azure(remote)
    groups = _groups(cases, targets, caller=caller, settings=settings)
    summary = BatchSummary()
    if not groups:
        return summary
    batches = _Batches(remote, caller, _State(state_dir / STATE_FILE), summary)
    try:
        ids = [await batches.submit(group) for group in groups]
        labels = {
            batch_id: f"batch {g.model} ({g.endpoint})" for batch_id, g in zip(ids, groups, strict=True)
        }
        with _progress(labels, enabled=progress) as bars:
            await batches.wait_all(ids, groups, poll_s=poll_s, bars=bars)
    finally:
        caller.flush()
    return summary


def _refuse_azure(provider: OpenAIProvider) -> None:
    import openai

    if isinstance(provider.client, openai.AsyncAzureOpenAI):
        raise InputError("--batch runs through OpenAI's Batch API; it is not available for Azure OpenAI here")


def _groups(
    cases: Sequence[Case],
    targets: Sequence[Target],
    *,
    caller: Caller,
    settings: RunSettings,
) -> list[_Group]:
    """The uncached requests of the remote targets, by (endpoint, model), in target and case order."""
    found: dict[tuple[Endpoint, str], dict[str, Request]] = {}
    for target in targets:
        if is_local(target.model):
            continue
        generation = settings.generation_by_target.get(target.name, settings.generation)
        sampling = shape(target.model, target.endpoint, generation)  # the same for every case of the target
        for case in cases:
            request = build_request(
                case,
                target,
                generation,
                settings.completions,
                completions_by_target=settings.completions_by_target,
                sampling=sampling,
            )
            if caller.lookup(request) is None:
                key = caller.key(request)
                found.setdefault((target.endpoint, request.model), {}).setdefault(key, request)
    return [_Group(endpoint, model, tuple(requests.items())) for (endpoint, model), requests in found.items()]


class _State:
    """``batches.json``: submitted batches by the hash of what was submitted; written atomically."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self) -> dict[str, dict[str, str]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise InputError(
                f"cannot read the batch state ({exc}): delete the file to submit again", file=self.path
            ) from None
        return data if isinstance(data, dict) else {}

    def get(self, digest: str) -> str | None:
        entry = self.read().get(digest)
        batch_id = entry.get("batch_id") if isinstance(entry, dict) else None
        return batch_id if isinstance(batch_id, str) else None

    def put(self, digest: str, entry: dict[str, str] | None) -> None:
        data = self.read()
        if entry is None:
            data.pop(digest, None)
        else:
            data[digest] = entry
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps(data, indent=2, sort_keys=True), encoding="utf-8")
        os.replace(temporary, self.path)


class _Batches:
    """Submits, polls and collects the batches of one run through the provider's SDK client."""

    def __init__(self, remote: OpenAIProvider, caller: Caller, state: _State, summary: BatchSummary) -> None:
        self._client = remote.client
        self._identity = remote.identity
        self._redact = Redactor(remote.client.api_key)
        self._caller = caller
        self._state = state
        self._summary = summary
        self._digests: dict[str, str] = {}
        self._cached: set[str] = set()

    async def submit(self, group: _Group) -> str:
        """The batch id for ``group``: the saved one if an earlier run submitted it, else a new batch."""
        content = group.jsonl()
        digest = hashlib.sha256(f"{self._identity}\n{group.endpoint}\n".encode() + content).hexdigest()
        saved = self._state.get(digest)
        if saved is not None:
            self._summary.resumed += len(group.lines)
            self._digests[saved] = digest
            return saved
        with self._errors("upload the batch file"):
            upload = await self._client.files.create(
                file=(f"evalkit-{digest[:16]}.jsonl", content), purpose="batch"
            )
        with self._errors("create the batch"):
            batch = await self._client.batches.create(
                input_file_id=upload.id,
                endpoint=URLS[group.endpoint],
                completion_window="24h",
                metadata={"created_by": "evalkit", "model": group.model[:500]},
            )
        entry = {
            "batch_id": batch.id,
            "input_file_id": upload.id,
            "endpoint": URLS[group.endpoint],
            "model": group.model,
        }
        self._state.put(digest, entry)
        self._digests[batch.id] = digest
        self._summary.submitted += len(group.lines)
        return batch.id

    async def wait_all(
        self, ids: list[str], groups: list[_Group], *, poll_s: float, bars: _Bars | None
    ) -> None:
        """Poll until every batch has ended; collect each one's results as it ends."""
        waiting = dict(zip(ids, groups, strict=True))
        while waiting:
            for batch_id in list(waiting):
                with self._errors("check on the batch"):
                    batch = await self._client.batches.retrieve(batch_id)
                if bars is not None:
                    bars.show(batch_id, batch)
                if batch.status in _ENDED:
                    await self._collect(batch, waiting.pop(batch_id))
            if waiting:
                await asyncio.sleep(poll_s)

    async def _collect(self, batch: Any, group: _Group) -> None:
        for file_id in (batch.output_file_id, batch.error_file_id):
            if file_id:
                for line in await self._lines(file_id):
                    self._take(line, group.endpoint)
        wanted = {key for key, _ in group.lines}
        for key in sorted(wanted - self._cached - set(self._summary.errors)):
            self._summary.errors[key] = self._unanswered(batch)
        self._caller.flush()
        self._state.put(self._digests[batch.id], None)

    async def _lines(self, file_id: str) -> list[dict[str, Any]]:
        with self._errors("download the batch results"):
            response = await self._client.files.content(file_id)
        lines = []
        for raw in response.text.splitlines():
            try:
                line = json.loads(raw)
            except ValueError:
                continue
            if isinstance(line, dict) and isinstance(line.get("custom_id"), str):
                lines.append(line)
        return lines

    def _take(self, line: dict[str, Any], endpoint: Endpoint) -> None:
        from evalkit.providers.openai_replies import parse_reply

        key: str = line["custom_id"]
        found = line.get("response")
        response: dict[str, Any] = found if isinstance(found, dict) else {}
        body = response.get("body")
        status = response.get("status_code")
        if status == 200 and isinstance(body, dict):
            try:
                reply = parse_reply(body, endpoint)
            except (AttributeError, IndexError, KeyError, TypeError, ValueError):
                self._summary.errors[key] = f"{self._identity} answered a batch line in an unexpected shape"
                return
            self._caller.put(key, reply, latency_s=0.0, batch=True)
            self._cached.add(key)
            self._summary.cached += 1
            return
        self._summary.errors[key] = self._line_error(status, body, line.get("error"))

    def _line_error(self, status: object, body: object, error: object) -> str:
        detail = error if isinstance(error, dict) else (body.get("error") if isinstance(body, dict) else None)
        message = detail.get("message") if isinstance(detail, dict) else None
        text = self._redact(str(message or "no details"))[:400]
        where = f"HTTP {status}" if isinstance(status, int) else "failed"
        return f"batch line {where} from {self._identity}: {text}"

    def _unanswered(self, batch: Any) -> str:
        errors = getattr(batch.errors, "data", None) or []
        said = "; ".join(self._redact(str(e.message)) for e in errors[:3] if e.message)
        return f"batch {batch.id} ended {batch.status} without answering this request" + (
            f" ({said})" if said else ""
        )

    @contextmanager
    def _errors(self, doing: str) -> Iterator[None]:
        import openai

        try:
            yield
        except openai.APIStatusError as exc:
            if exc.status_code in (401, 403):
                raise ServiceError(
                    f"the API key was rejected ({exc.status_code}) by {self._identity}: set OPENAI_API_KEY to a valid key"
                ) from None
            message = self._redact.server_message(exc)
            raise ServiceError(
                f"cannot {doing} on {self._identity} (HTTP {exc.status_code}: {message})"
            ) from None
        except openai.APIConnectionError as exc:
            reason = self._redact(str(exc.__cause__ or exc))
            raise ServiceError(
                f"cannot {doing} on {self._identity}: {reason}; check OPENAI_BASE_URL"
            ) from None


class _Bars:
    """One rich progress bar per batch on stderr: requests answered (completed + failed) of total."""

    def __init__(self, progress: Progress, tasks: dict[str, TaskID]) -> None:
        self._progress = progress
        self._tasks = tasks

    def show(self, batch_id: str, batch: Any) -> None:
        counts = batch.request_counts
        task = self._tasks.get(batch_id)
        if task is None or counts is None:
            return
        self._progress.update(
            task, total=counts.total or None, completed=counts.completed + counts.failed, status=batch.status
        )


@contextmanager
def _progress(labels: dict[str, str], *, enabled: bool) -> Iterator[_Bars | None]:
    """Bars for the batches (``labels``: batch id → description), or None when progress is off."""
    if not enabled:
        yield None
        return
    from evalkit.runner.progress import progress_bars

    progress = progress_bars("{task.fields[status]}", elapsed=True)
    tasks = {
        batch_id: progress.add_task(label, total=None, status="submitted")
        for batch_id, label in labels.items()
    }
    with progress:
        yield _Bars(progress, tasks)
