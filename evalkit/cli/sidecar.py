"""A second process that loads the analysis libraries while the model calls are in flight, then runs the
analysis stage.

Importing scikit-learn (which brings SciPy and pandas), matplotlib and Jinja costs 1.5–2 s of CPU: on a
run of a few hundred calls that is as long as the calls themselves, and in one process it can only come
after them. ``Sidecar.start`` forks this process before any client, thread or event loop exists; the
child imports ``PRELOAD`` on another core and waits. ``Sidecar.call(fn, *args)`` hands it one call
(pickled, through a pipe) and returns what ``fn`` returned or raises what it raised, as if ``fn`` had
run here.

Nothing depends on the child. Where forking is not safe (not Linux, or other threads already running,
as in a notebook or a test with a server thread) ``start`` returns a sidecar without one; and when the
child dies, or the arguments or the answer cannot be pickled, ``call`` runs ``fn`` in this process: the
same code and the same result, only later. The child ignores Ctrl-C (this process handles it and kills
the child), and it exits when the pipe closes, so it never outlives a killed parent by more than its
imports.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import logging
import os
import pickle
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection, Pipe
from types import TracebackType
from typing import Any, ParamSpec, Self, TypeVar

__all__ = ["PRELOAD", "Sidecar"]

P = ParamSpec("P")
T = TypeVar("T")

PRELOAD: tuple[str, ...] = (
    "sklearn.metrics",
    "scipy.stats",
    "matplotlib.figure",
    "matplotlib.backends.backend_svg",
    "jinja2",
    "evalkit.analysis.metrics",
    "evalkit.analysis",
    "evalkit.gate",
    "evalkit.report.outputs",
    "evalkit.report.html",
    "evalkit.records.results_json:prepare",
    "evalkit.report.html:prepare",
    "evalkit.report.charts:prepare",
)
"""What the analysis stage imports — metrics, statistics, gate, results.json and the reports — and, as
``module:function``, what it builds once before its first use: the records' JSON serializer, the report's
template, matplotlib's fonts."""

logger = logging.getLogger(__name__)
"""Logs at DEBUG when the sidecar is not used or its child died (the call then ran in this process)."""


class Sidecar:
    """A forked child that has imported ``PRELOAD`` and runs one call for this process."""

    def __init__(self, pid: int | None = None, conn: Connection | None = None) -> None:
        self._pid = pid
        """The child's process id; None once it is gone (or when there never was one)."""
        self._conn = conn
        """This process's end of the pipe to the child."""

    @classmethod
    def start(cls, preload: Sequence[str] = PRELOAD) -> Sidecar:
        """Fork the child, which starts importing ``preload`` at once; a sidecar without a child (whose
        ``call`` runs here) where forking is not safe."""
        if not sys.platform.startswith("linux") or threading.active_count() > 1:
            logger.debug("no sidecar: %s", "not Linux" if sys.platform != "linux" else "threads running")
            return cls()
        ours, theirs = Pipe()
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        # Ctrl-C stays blocked across the fork, so the child can ignore it before it could ever land.
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            pid = os.fork()
            if pid == 0:  # the child: never returns
                ours.close()
                _serve(theirs, preload)
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
        theirs.close()
        return cls(pid, ours)

    def call(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """``fn(*args, **kwargs)`` run in the child (in this process if the child cannot run it)."""
        if self._pid is None or self._conn is None:
            return fn(*args, **kwargs)
        try:
            self._conn.send((fn, args, kwargs))
            ok, value = self._conn.recv()
        except (EOFError, OSError, pickle.PicklingError, TypeError, AttributeError) as exc:
            logger.debug("sidecar unavailable (%s); running %s here", exc, getattr(fn, "__name__", fn))
            self.close()
            return fn(*args, **kwargs)
        self.close()
        if not ok:
            raise value
        return value  # type: ignore[no-any-return]

    def close(self) -> None:
        """Stop the child if it is still running, and reap it."""
        if self._conn is not None:
            self._conn.close()
        if self._pid is None:
            return
        pid, self._pid = self._pid, None
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _serve(conn: Connection, preload: Sequence[str]) -> None:
    """The child's whole life: import, wait for one call, answer it, exit without running any of the
    parent's exit handlers."""
    code = 0
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
        for name in preload:
            module, _, function = name.partition(":")
            with contextlib.suppress(Exception):  # a preload that fails only means the call does it later
                loaded = importlib.import_module(module)
                if function:
                    getattr(loaded, function)()
        gc.freeze()  # what was loaded lives as long as the process: the collector need not walk it again
        try:
            fn, args, kwargs = conn.recv()
        except EOFError:  # the parent finished (or died) without a call
            return
        try:
            answer: tuple[bool, Any] = (True, fn(*args, **kwargs))
        except Exception as exc:  # noqa: BLE001 — handed back, to be raised in the parent
            answer = (False, exc)
        conn.send(answer)  # if it cannot be pickled nothing is sent, and the parent runs the call itself
    except BaseException:  # noqa: BLE001 — the child must never unwind into the parent's code
        code = 1
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(code)
