"""The ``python`` grader: the suite author's ``grade(sample, item) -> float``, run in a worker process.

One worker per grader per run (``evalkit.scorers.python_worker``): it loads the source once and grades case
after case, fed as JSON lines — a thousand cases cost one interpreter. ``PythonGrader.grade`` is a
coroutine (the blocking I/O runs in a thread, one case at a time per grader). A case past ``timeout_s``
(default 10 s) gets its worker killed and a ``GraderError``; the next case starts a fresh one, as after a
crash. A source that fails to load (an exception at import, no ``grade``) fails every case with its error.

What is guarded, and what is not: a guard against accidents, not a security boundary — the grader is the
suite author's own code, as trusted as the suite file. Guarded: the time per case; memory (``RLIMIT_AS``,
default 2 GiB as OpenAI gave its graders, where ``resource`` exists: past it, ``MemoryError``); the
network (sockets and DNS lookups refuse with ``PermissionError``, so ``urllib``, ``requests`` and
``asyncio`` event loops fail); secrets (the worker's environment holds only ``PATH``, ``HOME``, locale and
time zone: no API key); the replies (what the grader prints goes to stderr). Not guarded: the file system
(the worker's working and temp directory is a scratch folder removed at the end, but nothing stops writes
elsewhere), subprocesses (killed with the worker's process group, though), ``ctypes``, and code that
undoes the guards. No orphans: the worker exits when its stdin closes or its parent dies, ``close`` (called
at the end of a run) stops it, and a forgotten one is killed when collected or at interpreter exit.
"""

from __future__ import annotations

import ast
import asyncio
import json
import os
import threading
import weakref
from typing import Any

from evalkit.scorers.python_worker import Worker
from evalkit.text import one_line

__all__ = ["DEFAULT_MEMORY_MB", "GraderError", "PythonGrader", "check_source"]

DEFAULT_MEMORY_MB = 2048
"""Address space a worker may use (OpenAI ran its python graders with 2 GB)."""
START_LIMIT_S = 30.0
"""Longest a worker may take to start and load the source (imports included), beside the per-case limit."""
MAX_SOURCE_BYTES = 256 * 1024
"""Largest source accepted (OpenAI's limit for python graders)."""
_MESSAGE_CHARS = 300
"""Longest error message, in characters."""


class GraderError(Exception):
    """A python grader could not grade one case: ``message`` says what went wrong, on one line."""

    def __init__(self, message: str) -> None:
        self.message = _cut(one_line(message))
        super().__init__(self.message)


def check_source(source: str) -> str | None:
    """What is wrong with a grader's source, found without running it (a syntax error, no ``grade``
    function taking ``sample`` and ``item``); None when it looks runnable."""
    if len(source.encode("utf-8", errors="replace")) > MAX_SOURCE_BYTES:
        return f"the source is larger than {MAX_SOURCE_BYTES // 1024} kB"
    try:
        tree = ast.parse(source, "<grader>")
        compile(tree, "<grader>", "exec", dont_inherit=True)
    except SyntaxError as exc:
        return f"syntax error at line {exc.lineno}: {exc.msg}"
    except ValueError as exc:
        return f"the source cannot be compiled: {exc}"
    for node in _top_level(tree.body):
        if isinstance(node, ast.AsyncFunctionDef) and node.name == "grade":
            return f"grade must be a plain function (def), not async def (line {node.lineno})"
        if isinstance(node, ast.FunctionDef) and node.name == "grade":
            if _takes_two(node.args):
                return None
            return f"grade must take two arguments, grade(sample, item) (line {node.lineno})"
        if _binds_grade(node):
            return None
    return "no grade function is defined: the source must define def grade(sample, item) -> float"


class PythonGrader:
    """A ``python`` grader's source, graded case by case in one worker process (see the module docstring)."""

    def __init__(self, source: str, *, timeout_s: float = 10.0, memory_mb: int = DEFAULT_MEMORY_MB) -> None:
        self.source = source
        """The grader's code, defining ``grade(sample, item) -> float``."""
        self.timeout_s = timeout_s
        """Longest one case may take, in seconds."""
        self.memory_mb = memory_mb
        """Address space the worker may use, in MiB (where ``resource`` can limit it)."""
        self._worker: Worker | None = None
        self._broken: str | None = None  # why the source cannot load: every case's error
        self._io = threading.Lock()
        self._turns: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = weakref.WeakKeyDictionary()

    async def grade(self, sample: dict[str, Any], item: dict[str, Any]) -> float:
        """The score ``grade(sample, item)`` returns; ``GraderError`` when it raises, returns no finite
        number, runs out of time or kills its process."""
        try:
            request = json.dumps({"sample": sample, "item": item})
        except (TypeError, ValueError) as exc:
            raise GraderError(f"the sample or item cannot be sent to the grader as JSON: {exc}") from None
        loop = asyncio.get_running_loop()
        turn = self._turns.setdefault(loop, asyncio.Lock())
        async with turn:
            return await asyncio.to_thread(self._grade, request)

    async def close(self) -> None:
        """Stop the worker (it is started again if another case comes)."""
        await asyncio.to_thread(self._stop)

    def _grade(self, request: str) -> float:
        with self._io:
            worker = self._worker or self._started()
            reply = worker.exchange(request, self.timeout_s)
            if reply is not None and "score" in reply:
                return float(reply["score"])
            if reply is None or not reply:  # out of time, or the process is gone: the next case gets another
                self._worker = None
                problem = worker.trouble(reply, self.timeout_s)
                worker.kill()
                raise GraderError(problem)
            raise GraderError(worker.trouble(reply, self.timeout_s))

    def _started(self) -> Worker:
        if self._broken is not None:
            raise GraderError(self._broken)
        worker = Worker()
        limit = max(START_LIMIT_S, self.timeout_s)
        setup = {
            "source": self.source,
            "memory_bytes": self.memory_mb * 1024 * 1024,
            "parent": os.getpid(),
            "folder": worker.folder,
        }
        reply = worker.exchange(json.dumps(setup), limit)
        if reply is not None and reply.get("ready"):
            self._worker = worker
            return worker
        if reply is None:
            self._broken = f"the grader's source took longer than {limit:g} s to load"
        else:
            self._broken = worker.trouble(reply, limit)
        worker.kill()
        raise GraderError(self._broken)

    def _stop(self) -> None:
        with self._io:
            if self._worker is not None:
                self._worker.stop()
                self._worker = None


def _top_level(statements: list[ast.stmt]) -> list[ast.stmt]:
    """The module's statements, those inside top-level ``if``/``try``/``with``/loops included."""
    found: list[ast.stmt] = []
    for node in statements:
        found.append(node)
        if isinstance(node, (ast.If, ast.For, ast.While, ast.With, ast.Try, ast.TryStar)):
            parts = [node.body, getattr(node, "orelse", []), getattr(node, "finalbody", [])]
            parts += [handler.body for handler in getattr(node, "handlers", [])]
            found += _top_level([stmt for part in parts for stmt in part])
    return found


def _takes_two(arguments: ast.arguments) -> bool:
    """A function with these parameters can be called as ``f(sample, item)``."""
    positional = [*arguments.posonlyargs, *arguments.args]
    required = len(positional) - len(arguments.defaults)
    keyword_required = any(default is None for default in arguments.kw_defaults)
    return required <= 2 and (len(positional) >= 2 or arguments.vararg is not None) and not keyword_required


def _binds_grade(node: ast.stmt) -> bool:
    """The statement gives the name ``grade`` some value (an assignment, an import, a class)."""
    if isinstance(node, ast.ClassDef):
        return node.name == "grade"
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return any((alias.asname or alias.name) == "grade" for alias in node.names)
    targets = [*node.targets] if isinstance(node, ast.Assign) else []
    targets += [node.target] if isinstance(node, (ast.AnnAssign, ast.AugAssign)) else []
    return any(isinstance(target, ast.Name) and target.id == "grade" for target in targets)


def _cut(text: str) -> str:
    return text if len(text) <= _MESSAGE_CHARS else text[: _MESSAGE_CHARS - 1] + "…"
