"""A Python worker process for the ``python`` grader: the source loaded once, then one JSON reply per
JSON request line — so many cases cost one interpreter (``evalkit.scorers.graders.python_grader``).

The worker is ``sys.executable -I`` (no user site-packages, no ``PYTHON*`` variables, not even its working
directory on ``sys.path``), started in a fresh scratch folder (its working and temp directory, removed when
it ends), as the leader of its own process group, with only ``PATH``, ``HOME``, locale and time zone in its
environment. Before the source runs it limits its address space (``RLIMIT_AS``, where ``resource`` exists),
makes sockets and DNS lookups refuse with ``PermissionError``, points fd 1 at stderr (what the grader prints
cannot disturb the replies) and fd 0 at ``/dev/null``, and starts a thread that ends it, its folder removed,
if its parent dies. It exits when its stdin closes, removing its folder too. ``Worker.kill`` kills its process group; so does
collecting a forgotten worker, or the interpreter's exit.

Requests: first ``{"source", "memory_bytes", "parent", "folder"}`` (answered ``{"ready": true}`` or
``{"error"}``), then ``{"sample", "item"}`` per case (answered ``{"score": float}`` or ``{"error": "grade
raised …"}``).
"""

from __future__ import annotations

import collections
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import weakref
from collections.abc import Callable
from typing import IO, Any

__all__ = ["Worker"]

_ENVIRONMENT = ("PATH", "HOME", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "SYSTEMROOT")
"""The only environment variables a worker inherits."""

_BOOTSTRAP = r"""
import json, math, numbers, os, sys, threading, time, traceback

def main():
    requests = os.fdopen(os.dup(0), "r", encoding="utf-8")
    replies = os.fdopen(os.dup(1), "w", encoding="utf-8")
    empty = os.open(os.devnull, os.O_RDONLY)
    os.dup2(empty, 0)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    setup = json.loads(requests.readline())
    limit_memory(setup["memory_bytes"])
    watch_parent(setup["parent"], setup["folder"])
    block_network()
    namespace = {"__name__": "__grader__"}
    try:
        exec(compile(setup["source"], "<grader>", "exec"), namespace)
        grade = namespace.get("grade")
        if not callable(grade):
            raise NameError("the source defines no grade function")
    except BaseException as exc:
        send(replies, {"error": "the source failed to load: " + describe(exc)}, setup["folder"])
        leave(setup["folder"], 0)
    send(replies, {"ready": True}, setup["folder"])
    for line in requests:
        case = json.loads(line)
        try:
            reply = checked(grade(case["sample"], case["item"]))
        except BaseException as exc:
            reply = {"error": "grade raised " + describe(exc)}
        send(replies, reply, setup["folder"])
    leave(setup["folder"], 0)  # stdin closed: the run is over, or its process died without a word

def leave(folder, code):
    import shutil
    shutil.rmtree(folder, ignore_errors=True)
    os._exit(code)

def send(stream, reply, folder):
    try:
        stream.write(json.dumps(reply) + "\n")
        stream.flush()
    except OSError:  # nobody reads the replies any more
        leave(folder, 1)

def checked(result):
    if isinstance(result, bool) or not isinstance(result, numbers.Real):
        return {"error": "grade returned %s %.60r, not a number" % (type(result).__name__, result)}
    value = float(result)
    if not math.isfinite(value):
        return {"error": "grade returned %r, not a finite number" % value}
    return {"score": value}

def describe(exc):
    last = traceback.format_exception_only(type(exc), exc)[-1].strip()
    lines = [f.lineno for f in traceback.extract_tb(exc.__traceback__) if f.filename == "<grader>"]
    line = lines[-1] if lines else getattr(exc, "lineno", None) if isinstance(exc, SyntaxError) else None
    return last + (" (line %d)" % line if line else "")

def limit_memory(limit):
    try:
        import resource
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        hard = resource.getrlimit(resource.RLIMIT_AS)[1]
        limit = limit if hard == resource.RLIM_INFINITY else min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ImportError, ValueError, OSError):
        pass

def watch_parent(parent, folder):
    def watch():
        while os.getppid() == parent:
            time.sleep(1)
        leave(folder, 1)
    threading.Thread(target=watch, daemon=True).start()

def block_network():
    import socket, _socket
    def refuse(*args, **kwargs):
        raise PermissionError("network access is disabled in evalkit's python grader")
    class NoSocket(socket.socket):
        def __init__(self, *args, **kwargs):
            refuse()
    names = ("create_connection", "create_server", "socketpair", "fromfd", "getaddrinfo",
             "gethostbyname", "gethostbyname_ex", "gethostbyaddr", "getnameinfo")
    for module in (socket, _socket):
        module.socket = module.SocketType = NoSocket
        for name in names:
            if hasattr(module, name):
                setattr(module, name, refuse)

main()
"""
"""The worker's code: guards set up, the source loaded, then one JSON reply per JSON request line."""


class Worker:
    """One worker process, the threads reading its replies and its stderr, and its scratch folder."""

    def __init__(self) -> None:
        self.folder = tempfile.mkdtemp(prefix="evalkit-grader-")
        environment = {name: os.environ[name] for name in _ENVIRONMENT if name in os.environ}
        self.process = subprocess.Popen(
            [sys.executable, "-I", "-c", _BOOTSTRAP],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            cwd=self.folder, env={**environment, "TMPDIR": self.folder}, start_new_session=True,
            text=True, encoding="utf-8", errors="replace",
        )  # fmt: skip
        self.replies: queue.Queue[str | None] = queue.Queue()
        """Reply lines as they come; None once the worker's stdout has closed."""
        self.stderr: collections.deque[str] = collections.deque(maxlen=20)
        """The last lines the worker wrote to stderr (the grader's prints among them)."""
        self._readers = [
            threading.Thread(target=_read, args=(self.process.stdout, self.replies.put, True), daemon=True),
            threading.Thread(target=_read, args=(self.process.stderr, self.stderr.append, False), daemon=True),
        ]
        for reader in self._readers:
            reader.start()
        self._finalizer = weakref.finalize(self, _end, self.process, self.folder, self._readers)

    def exchange(self, request: str, timeout_s: float) -> dict[str, Any] | None:
        """Send one request line and wait for its reply: the reply, ``{}`` when the worker is gone, or
        None when ``timeout_s`` passed first."""
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(request + "\n")
            self.process.stdin.flush()
            line = self.replies.get(timeout=timeout_s)
        except OSError:  # a broken pipe: the worker is gone
            return {}
        except queue.Empty:
            return None
        if line is None:
            return {}
        try:
            reply = json.loads(line)
        except ValueError:
            reply = None
        if not isinstance(reply, dict):  # something wrote over the worker's replies
            return {"error": f"the grader's worker sent an unreadable reply: {line[:60]!r}"}
        return reply

    def trouble(self, reply: dict[str, Any] | None, timeout_s: float) -> str:
        """What went wrong, from a reply that is no score (see ``exchange``)."""
        if reply is None:
            return f"grade took longer than {timeout_s:g} s (the time limit); its process was stopped"
        if "error" in reply:
            return str(reply["error"])
        try:
            code: int | str = self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            code = "none: it stopped answering"
        self._readers[1].join(timeout=1)
        said = next((line.strip() for line in reversed(self.stderr) if line.strip()), "")
        return f"the grader's process ended (exit code {code})" + (f": {said}" if said else "")

    def stop(self) -> None:
        """Close its stdin (the worker then exits) and wait a moment; kill it if it does not."""
        assert self.process.stdin is not None
        try:
            self.process.stdin.close()
            self.process.wait(timeout=2)
        except (OSError, subprocess.TimeoutExpired):
            pass
        self.kill()

    def kill(self) -> None:
        """Kill its process group and remove its folder (once; also when the worker is collected)."""
        self._finalizer()


def _end(process: subprocess.Popen[str], folder: str, readers: list[threading.Thread]) -> None:
    """Kill a worker's process group, reap it, let its readers finish, close its pipes, remove its folder."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError, AttributeError):
        process.kill()
    process.wait()
    for reader in readers:
        reader.join(timeout=2)
    for stream in (process.stdin, process.stdout, process.stderr):
        try:
            if stream is not None:
                stream.close()
        except OSError:
            pass
    shutil.rmtree(folder, ignore_errors=True)


def _read(stream: IO[str], keep: Callable[[Any], object], end: bool) -> None:
    """Hand each line of ``stream`` to ``keep``, then (``end``) None once it closes."""
    try:
        for line in stream:
            keep(line)
    except (OSError, ValueError):  # closed under us
        pass
    if end:
        keep(None)
