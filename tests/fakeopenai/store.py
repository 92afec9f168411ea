"""The fake's files and fine-tuning jobs, and its answers to the routes that look them up.

``GET /v1/fine_tuning/jobs/{id}`` → ``FineTuningJob``; ``.../checkpoints`` and ``.../events`` → a page
of a list, newest first, paged like OpenAI's (``after`` = the id of the last item of the previous page,
``limit`` default 10 for checkpoints and 20 for events, ``has_more``); ``GET /v1/files/{id}`` →
``OpenAIFile``; ``GET /v1/files/{id}/content`` → the raw bytes. Unknown ids get OpenAI's 404s.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import parse_qs

from .bodies import ApiError, JsonDict
from .jobs import CREATED_AT, BuiltJob
from .routes import Outcome, Route

FILE_PURPOSES = (
    "assistants",
    "assistants_output",
    "batch",
    "batch_output",
    "fine-tune",
    "fine-tune-results",
    "vision",
    "user_data",
)
"""Every ``purpose`` a file may have."""

DEFAULT_CHECKPOINTS_LIMIT = 10
"""Checkpoints per page when the request gives no ``limit`` (OpenAI's default)."""

DEFAULT_EVENTS_LIMIT = 20
"""Events per page when the request gives no ``limit`` (OpenAI's default)."""


@dataclass(frozen=True)
class StoredFile:
    """One uploaded (or job-produced) file."""

    file_id: str
    """Its id (``file-...``)."""
    content: bytes
    """Its bytes, exactly as ``files.content`` returns them."""
    filename: str
    """Its name."""
    purpose: str
    """One of ``FILE_PURPOSES``."""

    def to_json(self) -> JsonDict:
        """The ``OpenAIFile`` object."""
        return {
            "id": self.file_id,
            "object": "file",
            "bytes": len(self.content),
            "created_at": CREATED_AT,
            "filename": self.filename,
            "purpose": self.purpose,
            "status": "processed",
        }


class JobStore:
    """Thread-safe files and fine-tuning jobs by id, answering the routes that read them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._files: dict[str, StoredFile] = {}
        self._jobs: dict[str, BuiltJob] = {}

    def add_file(self, file: StoredFile) -> None:
        """Store (or replace) a file."""
        if file.purpose not in FILE_PURPOSES:
            raise ValueError(f"purpose must be one of {', '.join(FILE_PURPOSES)}; got {file.purpose!r}")
        with self._lock:
            self._files[file.file_id] = file

    def add_job(self, job: BuiltJob) -> None:
        """Store (or replace) a job, and its result file if it has one."""
        if job.result_file is not None:
            result = job.result_file
            self.add_file(StoredFile(result.file_id, result.content, "step_metrics.csv", "fine-tune-results"))
        with self._lock:
            self._jobs[job.body["id"]] = job

    def reset(self) -> None:
        """Forget every file and job."""
        with self._lock:
            self._files.clear()
            self._jobs.clear()

    def answer(self, route: Route, query: str) -> Outcome:
        """The answer to a job or file lookup (``route.kind`` is one of those); ApiError if it fails."""
        assert route.resource is not None
        if route.kind == "file":
            return Outcome(200, self._file(route.resource).to_json())
        if route.kind == "file_content":
            return Outcome(200, content=self._file(route.resource).content)
        job = self._job(route.resource)
        if route.kind == "checkpoints":
            return Outcome(200, page(job.checkpoints, query, default_limit=DEFAULT_CHECKPOINTS_LIMIT))
        if route.kind == "events":
            return Outcome(200, page(job.events, query, default_limit=DEFAULT_EVENTS_LIMIT, with_ids=False))
        return Outcome(200, dict(job.body))

    def _file(self, file_id: str) -> StoredFile:
        with self._lock:
            file = self._files.get(file_id)
        if file is None:
            raise ApiError(404, f"No such File object: {file_id}", param="id")
        return file

    def _job(self, job_id: str) -> BuiltJob:
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None:
            raise job_not_found(job_id)
        return job


def job_not_found(job_id: str) -> ApiError:
    """404 for a fine-tuning job id the key cannot see."""
    return ApiError(404, f"Could not find fine tune job: {job_id}", code="fine_tune_job_not_found")


def page(items: Sequence[JsonDict], query: str, *, default_limit: int, with_ids: bool = True) -> JsonDict:
    """One page of a cursor-paged list: the items after ``after`` (an item id), at most ``limit`` of them.

    Checkpoint lists also carry ``first_id``/``last_id``; event lists do not (as in OpenAI's spec).
    """
    after, limit = _paging(query, default_limit)
    start = 0
    if after is not None:
        ids = [item["id"] for item in items]
        start = ids.index(after) + 1 if after in ids else len(items)
    chunk = list(items[start : start + limit])
    body: JsonDict = {"object": "list", "data": chunk, "has_more": start + limit < len(items)}
    if with_ids:
        body["first_id"] = chunk[0]["id"] if chunk else None
        body["last_id"] = chunk[-1]["id"] if chunk else None
    return body


def _paging(query: str, default_limit: int) -> tuple[str | None, int]:
    params = parse_qs(query)
    after = params.get("after", [None])[-1]
    raw_limit = params.get("limit", [str(default_limit)])[-1]
    try:
        limit = int(raw_limit)
    except ValueError:
        message = f"Invalid 'limit': expected an integer, but got '{raw_limit}' instead."
        raise ApiError(400, message, param="limit") from None
    if limit < 1:
        message = f"Invalid 'limit': integer below minimum value. Expected a value >= 1, but got {limit}."
        raise ApiError(400, message, param="limit")
    return after, limit
