"""``--job ftjob-…`` → the targets to evaluate: the job's base model, every checkpoint, and its final model.

``fetch_job`` reads everything evalkit needs about an OpenAI (or Azure OpenAI) fine-tuning job through the
SDK: the job, all its checkpoints (every page), its ``metrics`` events, its result file(s) and, if asked,
its training and validation files. Everything after the job itself is fetched concurrently. What cannot
be used at all raises:

- an unknown job (404) or a failed or cancelled one → ``InputError`` on ``--job`` (exit 2);
- a rejected key (401/403) or an unreachable service → ``ServiceError`` (the key is never shown).

What only makes the picture less complete — a job still running (no final model yet), a deleted training
file, a result file that is not a CSV — becomes a line in ``JobInfo.warnings``.

``job_targets`` turns a ``JobInfo`` into ``base``, ``step-<N>`` (sorted by step) and ``final`` targets, all
on the endpoint the base model's lineage is served on (a ``babbage-002`` job → completions everywhere).
OpenAI's final model and its last checkpoint are usually the same weights under different ids; both are
kept, since the final model is the one that ships.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from evalkit.errors import InputError, ServiceError
from evalkit.providers.redact import Redactor
from evalkit.providers.routing import endpoint_for
from evalkit.records import Target, TrainingExample
from evalkit.records.jobs import JobCheckpoint, JobRecord, TrainingRecord
from evalkit.records.plain import jsonable
from evalkit.targets.training import (
    ResultFileError,
    TrainingStep,
    merge_training,
    metrics_record,
    parse_examples,
    parse_result_file,
)

if TYPE_CHECKING:
    import openai

USABLE_STATUSES = ("validating_files", "queued", "running", "paused", "succeeded")
"""Job statuses whose base and existing checkpoints can be evaluated."""

_EVENTS_PAGE = 100
"""Events per page: a job logs one ``metrics`` event per step, so the default page of 20 is small."""
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """One checkpoint of a fine-tuning job: a model that can be called on its own."""

    step: int
    """The training step it was saved at."""
    model: str
    """Its model id (``ft:…:ckpt-step-N``)."""
    metrics: dict[str, float | None] = field(default_factory=dict)
    """Its metrics at that step, with OpenAI's names (``train_loss``, ``valid_loss``, …)."""


@dataclass(slots=True)
class JobInfo:
    """What evalkit knows about a fine-tuning job: its facts, models, training metrics and data."""

    id: str
    """The job id (``ftjob-…``)."""
    status: str
    """``validating_files``, ``queued``, ``running`` or ``succeeded`` (failed and cancelled jobs raise)."""
    base_model: str
    """The model the job fine-tunes (the job's ``model``): the ``base`` target."""
    fine_tuned_model: str | None = None
    """The final model; None until the job has succeeded."""
    training_file: str | None = None
    """The training file's id."""
    validation_file: str | None = None
    """The validation file's id, if the job had one."""
    hyperparameters: dict[str, Any] = field(default_factory=dict)
    """The job's hyperparameters as OpenAI reports them (``n_epochs``, ``batch_size``, …)."""
    trained_tokens: int | None = None
    """Billable tokens the job processed; None while it runs."""
    method: dict[str, Any] | None = None
    """The fine-tuning method (``{"type": "supervised", …}``), when the service reports one."""
    error: str | None = None
    """The job's error message, when it has one."""
    result_files: list[str] = field(default_factory=list)
    """The ids of the job's result files."""
    checkpoints: list[Checkpoint] = field(default_factory=list)
    """Every checkpoint, sorted by step."""
    training: list[TrainingStep] = field(default_factory=list)
    """Per-step metrics, sorted by step: checkpoint metrics, then metrics events, then the result file."""
    training_examples: list[TrainingExample] = field(default_factory=list)
    """The training file's examples (empty unless fetched with ``with_files``)."""
    validation_examples: list[TrainingExample] = field(default_factory=list)
    """The validation file's examples (empty unless fetched with ``with_files`` and the job has one)."""
    warnings: list[str] = field(default_factory=list)
    """What the user should know: a job still running, a file that could not be read, …"""

    def record(self) -> JobRecord:
        """The job's plain facts as results.json keeps them (no examples, no metrics)."""
        return JobRecord(
            id=self.id,
            status=self.status,
            base_model=self.base_model,
            fine_tuned_model=self.fine_tuned_model,
            training_file=self.training_file,
            validation_file=self.validation_file,
            hyperparameters=jsonable(self.hyperparameters),
            trained_tokens=self.trained_tokens,
            method=jsonable(self.method),
            checkpoints=[JobCheckpoint(c.step, c.model) for c in sorted(self.checkpoints, key=lambda c: c.step)],
        )

    def training_records(self) -> list[TrainingRecord]:
        """Its per-step metrics as results.json keeps them, each naming the job."""
        return [TrainingRecord(job=self.id, **step) for step in self.training]


def job_targets(job: JobInfo, prefix: str | None = None) -> list[Target]:
    """``base``, ``step-<N>`` per checkpoint (by step) and ``final`` (when the job has a final model),
    named ``<prefix>.<name>`` when a prefix is given (to tell two jobs apart)."""
    endpoint = endpoint_for(job.base_model)

    def name(plain: str) -> str:
        return f"{prefix}.{plain}" if prefix else plain

    targets = [Target(name=name("base"), model=job.base_model, endpoint=endpoint, role="base")]
    checkpoints = sorted(job.checkpoints, key=lambda c: c.step)
    targets += [
        Target(name=name(f"step-{c.step}"), model=c.model, endpoint=endpoint, role="checkpoint", step=c.step)
        for c in checkpoints
    ]
    if job.fine_tuned_model:
        last_step = checkpoints[-1].step if checkpoints else None
        targets.append(
            Target(
                name=name("final"),
                model=job.fine_tuned_model,
                endpoint=endpoint,
                role="final",
                step=last_step,
            )
        )
    return targets


async def fetch_job(client: openai.AsyncOpenAI, job_id: str, *, with_files: bool = True) -> JobInfo:
    """The job ``job_id`` with its checkpoints, training metrics and (``with_files``) training data.

    Raises ``InputError`` (field ``--job``) for an unknown, failed or cancelled job and ``ServiceError``
    when the service rejects the key or cannot be reached."""
    job_id = job_id.strip()
    if not job_id:
        raise InputError("the job id is empty (expected an id like ftjob-abc123)", field="--job")
    calls = _Calls(client, job_id)
    raw = await calls.retrieve()
    job = job_info_from(raw)
    check_status(job, raw)
    try:
        async with asyncio.TaskGroup() as group:
            checkpoints = group.create_task(calls.checkpoints())
            events = group.create_task(calls.metrics_events())
            results = [group.create_task(calls.result_file(file_id)) for file_id in job.result_files]
            if with_files:
                training = group.create_task(calls.examples(job.training_file, "training"))
                validation = group.create_task(calls.examples(job.validation_file, "validation"))
    except ExceptionGroup as failed:
        raise failed.exceptions[0] from None  # the first error says it all; the other calls are cancelled
    job.checkpoints = checkpoints.result()
    job.training = merge_training(
        ({"step": c.step, **c.metrics} for c in job.checkpoints),
        events.result(),
        (step for task in results for step in task.result()),
    )
    if with_files:
        job.training_examples = training.result()
        job.validation_examples = validation.result()
    if job.status != "succeeded" or not job.fine_tuned_model:
        job.warnings.append(unfinished_warning(job))
    job.warnings += calls.warnings
    return job


class _Calls:
    """The SDK calls about one job, each turning a failure into an error or a warning."""

    def __init__(self, client: openai.AsyncOpenAI, job_id: str) -> None:
        from evalkit.providers.openai import service_identity

        self.client = client
        self.job_id = job_id
        self.identity = service_identity(str(client.base_url))
        self._redact = Redactor(client.api_key)
        self.azure = type(client).__name__ == "AsyncAzureOpenAI"
        self.warnings: list[str] = []

    async def retrieve(self) -> Mapping[str, Any]:
        import openai

        try:
            job = await self.client.fine_tuning.jobs.retrieve(self.job_id)
        except openai.NotFoundError as exc:
            raise InputError(
                f"no fine-tuning job {self.job_id!r} is visible to this key ({self.identity} answered 404: "
                f"{self._redact.server_message(exc)}); check the id, and that the key belongs to the organization and "
                "project that ran the job",
                field="--job",
            ) from None
        except openai.OpenAIError as exc:
            raise self._fatal(exc, what=f"fine-tuning job {self.job_id!r}") from None
        return job.model_dump(mode="json")

    async def checkpoints(self) -> list[Checkpoint]:
        async def listing() -> list[Checkpoint]:
            found = [
                checkpoint_from(item.model_dump(mode="json"))
                async for item in self.client.fine_tuning.jobs.checkpoints.list(self.job_id)
            ]
            return sorted(found, key=lambda c: c.step)

        return await self._optional(listing, [], what=f"the checkpoints of job {self.job_id}")

    async def metrics_events(self) -> list[dict[str, Any]]:
        async def listing() -> list[dict[str, Any]]:
            found: list[dict[str, Any]] = []
            async for event in self.client.fine_tuning.jobs.list_events(self.job_id, limit=_EVENTS_PAGE):
                if event.type == "metrics" and isinstance(event.data, dict):
                    found.append(event.data)
            return found

        return await self._optional(listing, [], what=f"the events of job {self.job_id}")

    async def result_file(self, file_id: str) -> list[TrainingStep]:
        data = await self._download(file_id, "result")
        if data is None:
            return []
        try:
            return parse_result_file(data)
        except ResultFileError as exc:
            self.warnings.append(f"result file {file_id} of job {self.job_id} was not read: {exc}")
            return []

    async def examples(self, file_id: str | None, kind: str) -> list[TrainingExample]:
        if not file_id:
            return []
        data = await self._download(file_id, kind)
        if data is None:
            return []
        parsed = parse_examples(data)
        if parsed.skipped:
            self.warnings.append(
                f"{kind} file {file_id} of job {self.job_id}: skipped {parsed.skipped} unreadable "
                f"line{'s' if parsed.skipped != 1 else ''} (kept {len(parsed.examples)})"
            )
        return parsed.examples

    async def _download(self, file_id: str, kind: str) -> bytes | None:
        async def download() -> bytes:
            response = await self.client.files.content(file_id)
            return response.content

        return await self._optional(download, None, what=f"the {kind} file {file_id} of job {self.job_id}")

    async def _optional(self, call: Callable[[], Awaitable[_T]], default: _T, *, what: str) -> _T:
        """``call()``; on an error the run can live without, a warning and ``default``."""
        import openai

        try:
            return await call()
        except (openai.AuthenticationError, openai.PermissionDeniedError, openai.APIConnectionError) as exc:
            raise self._fatal(exc, what=what) from None
        except openai.APIStatusError as exc:
            self.warnings.append(
                f"could not read {what}: HTTP {exc.status_code} from {self.identity}: {self._redact.server_message(exc)}"
            )
            return default

    def _fatal(self, exc: openai.OpenAIError, *, what: str) -> ServiceError:
        import openai

        if isinstance(exc, openai.APIStatusError) and exc.status_code in (401, 403):
            variable = "AZURE_OPENAI_API_KEY" if self.azure else "OPENAI_API_KEY"
            return ServiceError(
                f"the API key was rejected ({exc.status_code}) by {self.identity} when reading {what}: "
                f"set {variable} to a valid key for this service"
            )
        if isinstance(exc, openai.APITimeoutError):
            return ServiceError(f"no answer from {self.identity} in time when reading {what}")
        if isinstance(exc, openai.APIConnectionError):
            variable = "AZURE_OPENAI_ENDPOINT" if self.azure else "OPENAI_BASE_URL"
            return ServiceError(f"cannot reach {self.identity} to read {what}: check {variable}")
        if isinstance(exc, openai.APIStatusError):
            return ServiceError(
                f"could not read {what}: HTTP {exc.status_code} from {self.identity}: {self._redact.server_message(exc)}"
            )
        return ServiceError(f"could not read {what} from {self.identity}: {self._redact(str(exc))}")


def job_info_from(raw: Mapping[str, Any]) -> JobInfo:
    error = raw.get("error")
    return JobInfo(
        id=str(raw["id"]),
        status=str(raw["status"]),
        base_model=str(raw["model"]),
        fine_tuned_model=raw.get("fine_tuned_model") or None,
        training_file=raw.get("training_file") or None,
        validation_file=raw.get("validation_file") or None,
        hyperparameters=_plain(raw.get("hyperparameters")) or {},
        trained_tokens=raw.get("trained_tokens"),
        method=_plain(raw.get("method")),
        error=error.get("message") if isinstance(error, dict) and error.get("message") else None,
        result_files=[str(f) for f in raw.get("result_files") or []],
    )


def _plain(value: Any) -> dict[str, Any] | None:
    """A mapping without its null entries (the SDK fills every optional field), or None."""
    if not isinstance(value, dict):
        return None
    return {k: _plain(v) if isinstance(v, dict) else v for k, v in value.items() if v is not None}


def check_status(job: JobInfo, raw: Mapping[str, Any]) -> None:
    if job.status == "cancelled":
        raise InputError(
            f"fine-tuning job {job.id} was cancelled: there is no model to evaluate", field="--job"
        )
    if job.status == "failed":
        error = raw.get("error")
        code = error.get("code") if isinstance(error, dict) else None
        code = f" ({code})" if code else ""
        raise InputError(
            f"fine-tuning job {job.id} failed: {job.error or 'no reason given'}{code}", field="--job"
        )
    if job.status not in USABLE_STATUSES:
        raise InputError(
            f"fine-tuning job {job.id} has status {job.status!r}, which evalkit does not know how to "
            f"evaluate (usable: {', '.join(USABLE_STATUSES)})",
            field="--job",
        )


def unfinished_warning(job: JobInfo) -> str:
    n = len(job.checkpoints)
    state = "succeeded but names no fine-tuned model" if job.status == "succeeded" else f"is {job.status}"
    if n == 0:
        evaluated = "no checkpoint exists yet, so only the base model is evaluated"
    else:
        evaluated = f"evaluating the {n} checkpoint{'s' if n != 1 else ''} that exist{'s' if n == 1 else ''}"
    return f"job {job.id} {state}: {evaluated}; the final model is not there yet"


def checkpoint_from(raw: Mapping[str, Any]) -> Checkpoint:
    metrics = raw.get("metrics")
    step = int(raw["step_number"])
    record = metrics_record(metrics if isinstance(metrics, dict) else {}, step=step) or {}
    values = {k: v for k, v in record.items() if k != "step"}
    return Checkpoint(step=step, model=str(raw["fine_tuned_model_checkpoint"]), metrics=values)
