"""What arrives and what goes back: request/outcome records and the route table.

Generation: ``POST /v1/chat/completions``, ``POST /v1/completions``, ``POST /v1/responses`` and Azure's
``POST /openai/deployments/{name}/{chat/completions|completions}`` and ``POST /openai/responses`` (where
the AzureOpenAI client sends Responses calls, the deployment named by the body's ``model``); embeddings:
``POST /v1/embeddings`` and Azure's ``POST /openai/deployments/{name}/embeddings``; lookups: ``GET /v1/models[/{id}]``,
``GET /v1/fine_tuning/jobs/{id}[/checkpoints|/events]``, ``GET /v1/files/{id}[/content]``; the Batch API:
``POST /v1/files``, ``POST /v1/batches``, ``GET /v1/batches/{id}``. Anything else is OpenAI's 404 "Invalid URL".
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import unquote

from .bodies import JsonDict
from .models import Kind

_GENERATION_PATHS: dict[str, Kind] = {
    "/v1/chat/completions": "chat",
    "/v1/completions": "completions",
    "/v1/responses": "responses",
}
_AZURE_RESPONSES_PATH = "/openai/responses"
_AZURE_PATH = re.compile(r"^/openai/deployments/(?P<name>[^/]+)/(?P<op>chat/completions|completions|embeddings)$")
_EMBEDDINGS_PATH = "/v1/embeddings"
_JOB_PATH = re.compile(r"^/v1/fine_tuning/jobs/(?P<id>[^/]+)(?:/(?P<part>checkpoints|events))?/?$")
_FILE_PATH = re.compile(r"^/v1/files/(?P<id>[^/]+)(?P<content>/content)?/?$")
_BATCH_PATH = re.compile(r"^/v1/batches/(?P<id>[^/]+)/?$")

RouteKind = Literal[
    "generate",
    "embeddings",
    "models",
    "job",
    "checkpoints",
    "events",
    "file",
    "file_content",
    "file_upload",
    "batch_create",
    "batch",
    "invalid",
]
"""The API operations the fake knows (``invalid``: a path the API does not have)."""

_JOB_PARTS: dict[str | None, RouteKind] = {None: "job", "checkpoints": "checkpoints", "events": "events"}


@dataclass
class Outcome:
    """What the HTTP layer sends back for one request."""

    status: int | None
    """HTTP status; None means hang (hold the request until released, then drop the connection)."""
    body: JsonDict = field(default_factory=dict)
    """The JSON body."""
    headers: dict[str, str] = field(default_factory=dict)
    """Extra response headers (``Retry-After``)."""
    content: bytes | None = None
    """Raw bytes sent as ``application/octet-stream`` instead of ``body`` (file downloads)."""
    delay: float = 0.0
    """Seconds to wait before answering."""
    release: threading.Event = field(default_factory=threading.Event)
    """Set when a delayed or hanging request must stop waiting (reset or shutdown)."""


@dataclass(frozen=True)
class Incoming:
    """One parsed HTTP request, as the HTTP layer hands it over."""

    method: str
    """``GET``/``POST``/..."""
    path: str
    """URL path, without query."""
    query: str
    """Raw query string."""
    headers: list[tuple[str, str]]
    """Request headers in arrival order (including credentials: never store these)."""
    raw_body: bytes
    """The request body bytes."""


@dataclass(frozen=True)
class Route:
    """Which API operation a request is for."""

    kind: RouteKind
    """Which operation."""
    endpoint: Kind | None = None
    """For generation: ``chat``, ``completions`` or ``responses``."""
    deployment: str | None = None
    """Azure: the deployment named in the URL (it stands for the model)."""
    azure: bool = False
    """An Azure path: an unknown model is an unknown deployment."""
    model_path: str | None = None
    """``GET /v1/models/{id}``: the id; None for the list."""
    resource: str | None = None
    """The job, file or batch id named in the URL."""


def route_for(method: str, path: str) -> Route:
    """The operation ``method path`` asks for."""
    if method == "POST" and path in _GENERATION_PATHS:
        return Route("generate", _GENERATION_PATHS[path])
    if method == "POST" and path == _EMBEDDINGS_PATH:
        return Route("embeddings")
    azure = _AZURE_PATH.match(path)
    if method == "POST" and azure and azure["op"] == "embeddings":
        return Route("embeddings", deployment=unquote(azure["name"]), azure=True)
    if method == "POST" and azure:
        endpoint: Kind = "chat" if azure["op"] == "chat/completions" else "completions"
        return Route("generate", endpoint, deployment=unquote(azure["name"]), azure=True)
    if method == "POST" and path == _AZURE_RESPONSES_PATH:
        return Route("generate", "responses", azure=True)
    if method == "GET" and path in ("/v1/models", "/v1/models/"):
        return Route("models")
    if method == "GET" and path.startswith("/v1/models/"):
        return Route("models", model_path=unquote(path.removeprefix("/v1/models/")))
    return _lookup_route(method, path)


def _lookup_route(method: str, path: str) -> Route:
    if method == "POST" and path.rstrip("/") in ("/v1/files", "/v1/batches"):
        return Route("file_upload" if path.rstrip("/") == "/v1/files" else "batch_create")
    batch = _BATCH_PATH.match(path)
    if method == "GET" and batch:
        return Route("batch", resource=unquote(batch["id"]))
    job, file = _JOB_PATH.match(path), _FILE_PATH.match(path)
    if method == "GET" and job:
        return Route(_JOB_PARTS[job["part"]], resource=unquote(job["id"]))
    if method == "GET" and file:
        return Route("file_content" if file["content"] else "file", resource=unquote(file["id"]))
    return Route("invalid")


def parse_json(raw: bytes) -> object:
    """The JSON body, or None if there is none or it does not parse (a 400 later)."""
    if not raw:
        return None
    try:
        parsed: object = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None
    return parsed


def with_deployment(body: object, deployment: str | None) -> object:
    """Azure names the model in the URL; the body's ``model`` (if any) is ignored there, as Azure does."""
    if deployment is None or not isinstance(body, dict):
        return body
    return {**body, "model": deployment}
