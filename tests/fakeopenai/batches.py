"""The fake's Batch API: file uploads and batches that run their lines through the live generation code.

``POST /v1/files`` (multipart: ``file``, ``purpose``) → ``OpenAIFile``; ``POST /v1/batches`` → ``Batch``
(status ``validating``; endpoint ``/v1/chat/completions``, ``/v1/completions`` or ``/v1/responses``); ``GET /v1/batches/{id}`` → ``Batch``. A batch runs when it is polled: after
``complete_after`` polls (0: at the first one) every line of its input file is answered by ``generate`` —
the same checks and scripts as the live endpoints — and the batch is ``completed`` with an output file
(lines answered 200) and an error file (every other line), each line a ``BatchRequestOutput``:
``{"id", "custom_id", "response": {"status_code", "request_id", "body"}, "error": null}``.

Like OpenAI, a batch whose input file is not valid (a line that is not JSON, a ``url`` other than the
batch's endpoint, a ``method`` other than POST, a repeated ``custom_id``, requests for more than one
model) ends ``failed`` with ``errors.data`` naming the line, and no line is run.
"""

from __future__ import annotations

import email.parser
import email.policy
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from .bodies import ApiError, JsonDict, new_id
from .jobs import CREATED_AT
from .models import Kind
from .routes import Incoming, Outcome, Route
from .store import JobStore, StoredFile

UPLOAD_PURPOSES = ("assistants", "batch", "fine-tune", "vision", "user_data", "evals")
"""``purpose`` values ``POST /v1/files`` accepts (``CreateFileRequest``)."""

BATCH_ENDPOINTS: dict[str, Kind] = {
    "/v1/chat/completions": "chat",
    "/v1/completions": "completions",
    "/v1/responses": "responses",
}
"""Batch endpoints the fake runs (OpenAI has more; the others get 400). ``/v1/responses`` lines are
answered with ``Response`` bodies."""

COMPLETION_WINDOW = "24h"
"""The only completion window OpenAI accepts."""

_WINDOW_S = 24 * 3600

LineAnswer = Callable[[Kind, object], tuple[int, JsonDict]]
"""Answers one batch line's body on an endpoint: (HTTP status, response body)."""


@dataclass
class _Batch:
    body: JsonDict
    kind: Kind
    polls: int = 0
    done: bool = False


@dataclass
class BatchStore:
    """Thread-safe batches by id; their files live in the shared ``JobStore``."""

    files: JobStore
    """Where uploaded, output and error files are kept."""
    generate: LineAnswer
    """How a line is answered (the server's live generation, without injected faults)."""
    complete_after: int = 0
    """Polls a batch answers ``in_progress`` before it runs (0: it completes at the first poll)."""
    _batches: dict[str, _Batch] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def reset(self) -> None:
        """Forget every batch; completion at the first poll again."""
        with self._lock:
            self._batches.clear()
            self.complete_after = 0

    def ids(self) -> list[str]:
        """Every batch id, oldest first."""
        with self._lock:
            return list(self._batches)

    def answer(self, route: Route, incoming: Incoming, body: object) -> Outcome:
        """The answer to an upload, a batch creation or a batch lookup; ApiError if it fails."""
        if route.kind == "file_upload":
            return Outcome(200, self._upload(incoming).to_json())
        if route.kind == "batch_create":
            return Outcome(200, self._create(body))
        assert route.resource is not None
        return Outcome(200, self._poll(route.resource))

    # ── uploads ──────────────────────────────────────────────────────────────────────────────────

    def _upload(self, incoming: Incoming) -> StoredFile:
        fields = _multipart(incoming)
        purpose = fields.get("purpose")
        if purpose is None:
            raise ApiError(400, "Missing required parameter: 'purpose'.", param="purpose")
        purpose_text = purpose[1].decode("utf-8", "replace")
        if purpose_text not in UPLOAD_PURPOSES:
            allowed = ", ".join(f"'{p}'" for p in UPLOAD_PURPOSES)
            raise ApiError(400, f"Invalid value for purpose: {purpose_text!r}. Expected one of {allowed}.")
        upload = fields.get("file")
        if upload is None or upload[0] is None:
            raise ApiError(400, "Missing required parameter: 'file'.", param="file")
        filename, content = upload[0], upload[1]
        if purpose_text == "batch" and not filename.endswith(".jsonl"):
            raise ApiError(400, "Invalid file format for Batch API. Must be .jsonl", param="file")
        stored = StoredFile(new_id("file"), content, filename, purpose_text)
        self.files.add_file(stored)
        return stored

    # ── batches ──────────────────────────────────────────────────────────────────────────────────

    def _create(self, body: object) -> JsonDict:
        if not isinstance(body, dict):
            raise ApiError(400, "We could not parse the JSON body of your request.")
        for name in ("input_file_id", "endpoint", "completion_window"):
            if not isinstance(body.get(name), str):
                raise ApiError(400, f"Missing required parameter: '{name}'.", param=name)
        endpoint = body["endpoint"]
        if endpoint not in BATCH_ENDPOINTS:
            raise ApiError(
                400,
                f"Invalid value for endpoint: {endpoint!r} (the fake batches {', '.join(BATCH_ENDPOINTS)}).",
            )
        if body["completion_window"] != COMPLETION_WINDOW:
            raise ApiError(400, "Invalid value for completion_window: only '24h' is supported.")
        source = self.files.answer(Route("file", resource=body["input_file_id"]), "").body
        if source["purpose"] != "batch":
            raise ApiError(400, f"File {source['id']} was not uploaded with purpose 'batch'.")
        batch_id = new_id("batch")
        batch: JsonDict = {
            "id": batch_id,
            "object": "batch",
            "endpoint": endpoint,
            "input_file_id": body["input_file_id"],
            "completion_window": COMPLETION_WINDOW,
            "status": "validating",
            "created_at": CREATED_AT,
            "expires_at": CREATED_AT + _WINDOW_S,
            "request_counts": {"total": 0, "completed": 0, "failed": 0},
            "metadata": body.get("metadata") if isinstance(body.get("metadata"), dict) else None,
        }
        with self._lock:
            self._batches[batch_id] = _Batch(batch, BATCH_ENDPOINTS[endpoint])
        return dict(batch)

    def _poll(self, batch_id: str) -> JsonDict:
        with self._lock:
            batch = self._batches.get(batch_id)
            if batch is None:
                raise ApiError(404, f"No batch found with id '{batch_id}'.", code="batch_not_found")
            batch.polls += 1
            run = not batch.done and batch.polls > self.complete_after
            batch.done = batch.done or run
        if run:
            self._run(batch)
        elif not batch.done:
            batch.body.update(status="in_progress", in_progress_at=CREATED_AT + 1)
        return dict(batch.body)

    def _run(self, batch: _Batch) -> None:
        content = self.files.answer(Route("file_content", resource=batch.body["input_file_id"]), "").content
        lines, errors = _parse_input(content or b"", batch.body["endpoint"])
        if errors:
            batch.body.update(
                status="failed", failed_at=CREATED_AT + 2, errors={"object": "list", "data": errors}
            )
            return
        answered = [self._line(batch.kind, line) for line in lines]
        ok = [line for status, line in answered if status == 200]
        failed = [line for status, line in answered if status != 200]
        batch.body.update(
            status="completed",
            in_progress_at=CREATED_AT + 1,
            finalizing_at=CREATED_AT + 2,
            completed_at=CREATED_AT + 3,
            request_counts={"total": len(lines), "completed": len(ok), "failed": len(failed)},
        )
        if lines:
            batch.body["model"] = lines[0]["body"]["model"]
        if ok:
            batch.body["output_file_id"] = self._output_file(batch.body["id"], "output", ok)
        if failed:
            batch.body["error_file_id"] = self._output_file(batch.body["id"], "error", failed)

    def _line(self, kind: Kind, line: JsonDict) -> tuple[int, JsonDict]:
        status, body = self.generate(kind, line["body"])
        output: JsonDict = {
            "id": new_id("batch_req"),
            "custom_id": line["custom_id"],
            "response": {"status_code": status, "request_id": new_id("req"), "body": body},
            "error": None,
        }
        return status, output

    def _output_file(self, batch_id: str, part: str, lines: list[JsonDict]) -> str:
        data = "".join(json.dumps(line) + "\n" for line in lines).encode()
        file_id = new_id("file")
        self.files.add_file(StoredFile(file_id, data, f"{batch_id}_{part}.jsonl", "batch_output"))
        return file_id


def _parse_input(content: bytes, endpoint: str) -> tuple[list[JsonDict], list[JsonDict]]:
    """The input file's request lines, or the validation errors that fail the batch."""
    lines: list[JsonDict] = []
    errors: list[JsonDict] = []
    seen: set[str] = set()
    models: set[str] = set()
    for number, raw in enumerate(content.decode("utf-8", "replace").splitlines(), start=1):
        if not raw.strip():
            continue
        problem = _line_problem(raw, endpoint, seen, models)
        if isinstance(problem, dict):
            lines.append(problem)
        else:
            code, message = problem
            errors.append({"code": code, "message": message, "param": None, "line": number})
    if not lines and not errors:
        errors.append(
            {"code": "empty_file", "message": "The input file is empty.", "param": None, "line": None}
        )
    return lines, errors


def _line_problem(raw: str, endpoint: str, seen: set[str], models: set[str]) -> JsonDict | tuple[str, str]:
    try:
        line = json.loads(raw)
    except ValueError:
        return "invalid_json_line", "This line is not parseable as valid JSON."
    if (
        not isinstance(line, dict)
        or not isinstance(line.get("custom_id"), str)
        or not isinstance(line.get("body"), dict)
    ):
        return "invalid_request", "Each line needs a string 'custom_id' and an object 'body'."
    if line.get("method") != "POST":
        return "invalid_method", "The only supported method is POST."
    if line.get("url") != endpoint:
        return (
            "mismatched_endpoint",
            f"The URL provided for this request does not match the batch endpoint {endpoint}.",
        )
    if line["custom_id"] in seen:
        return "duplicate_custom_id", "The custom_id for this request is a duplicate of another request."
    seen.add(line["custom_id"])
    models.add(str(line["body"].get("model")))
    if len(models) > 1:
        return (
            "mismatched_model",
            "The provided model does not match the model of the other requests in this batch.",
        )
    return line


def _multipart(incoming: Incoming) -> dict[str, tuple[str | None, bytes]]:
    """The form's fields by name: (file name or None for plain fields, bytes)."""
    headers = {name.lower(): value for name, value in incoming.headers}
    content_type = headers.get("content-type", "")
    if not content_type.startswith("multipart/form-data"):
        raise ApiError(400, "The file upload must be sent as multipart/form-data.")
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + incoming.raw_body)
    fields: dict[str, tuple[str | None, bytes]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        if isinstance(name, str) and isinstance(payload, bytes):
            fields[name] = (part.get_filename(), payload)
    return fields
