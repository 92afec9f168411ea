"""The sidecar: the analysis stage runs in a forked child that imported its libraries meanwhile — and a
run behaves exactly as without it when the child cannot be used.

Each scenario runs in a fresh interpreter (this pytest process has server threads, where evalkit never
forks), and prints what it saw as JSON.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]

PRELUDE = """
import json, os, signal, sys, threading, time
from evalkit.errors import InputError
from evalkit.cli.sidecar import Sidecar

def whoami(*args, **kwargs):
    return {"pid": os.getpid(), "args": list(args), "kwargs": kwargs, "modules": "jinja2" in sys.modules}

def unpicklable_answer():
    return os.getpid(), lambda: None

def refuse(path):
    raise InputError("no such baseline", file=path, line=3, field="gate.baseline")
"""


def _scenario(body: str, timeout: float = 60) -> Any:
    code = PRELUDE + textwrap.dedent(body)
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout, cwd=REPO, check=False
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_call_runs_in_a_child_that_preloaded_its_modules() -> None:
    seen = _scenario("""
        with Sidecar.start(preload=["jinja2"]) as sidecar:
            answer = sidecar.call(whoami, 1, "two", three=3)
        print(json.dumps({"me": os.getpid(), "loaded_here": "jinja2" in sys.modules, **answer}))
    """)
    assert seen["pid"] != seen["me"]
    assert seen["modules"] is True and seen["loaded_here"] is False
    assert seen["args"] == [1, "two"] and seen["kwargs"] == {"three": 3}


def test_an_error_in_the_child_is_raised_here_with_its_location() -> None:
    seen = _scenario("""
        with Sidecar.start(preload=[]) as sidecar:
            try:
                sidecar.call(refuse, "suite.yaml")
            except InputError as exc:
                print(json.dumps({"text": str(exc), "field": exc.field, "line": exc.line}))
    """)
    assert seen == {"text": "suite.yaml:3: gate.baseline: no such baseline", "field": "gate.baseline", "line": 3}


def test_with_threads_running_the_call_runs_here() -> None:
    seen = _scenario("""
        stop = threading.Event()
        threading.Thread(target=stop.wait, daemon=True).start()
        with Sidecar.start(preload=[]) as sidecar:
            answer = sidecar.call(whoami)
        stop.set()
        print(json.dumps({"me": os.getpid(), **answer}))
    """)
    assert seen["pid"] == seen["me"]


def test_a_dead_child_or_unpicklable_arguments_or_answer_run_the_call_here() -> None:
    seen = _scenario("""
        with Sidecar.start(preload=[]) as sidecar:
            os.kill(sidecar._pid, signal.SIGKILL)
            time.sleep(0.2)
            dead = sidecar.call(whoami)
        with Sidecar.start(preload=[]) as sidecar:
            unpicklable = sidecar.call(lambda: os.getpid())
        with Sidecar.start(preload=[]) as sidecar:
            answer = sidecar.call(unpicklable_answer)
        print(json.dumps({"me": os.getpid(), "dead": dead["pid"], "unpicklable": unpicklable,
                          "answer": answer[0]}))
    """)
    assert seen["dead"] == seen["unpicklable"] == seen["answer"] == seen["me"]


def test_the_child_ignores_ctrl_c_and_leaves_with_its_parent(tmp_path: Path) -> None:
    """A Ctrl-C reaches the whole process group: the child must not die of it (nor print a traceback);
    and when the parent is killed outright, the child goes too instead of lingering."""
    code = PRELUDE + textwrap.dedent("""
        sidecar = Sidecar.start(preload=[])
        child = sidecar._pid
        os.kill(child, signal.SIGINT)
        time.sleep(0.2)
        print(json.dumps(sidecar.call(whoami)["pid"] == child))
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert (done.returncode, done.stderr, json.loads(done.stdout)) == (0, "", True)

    pid_file = tmp_path / "child"
    parent = subprocess.Popen(
        [sys.executable, "-c", PRELUDE + textwrap.dedent(f"""
            sidecar = Sidecar.start(preload=[])
            open({str(pid_file)!r} + ".tmp", "w").write(str(sidecar._pid))
            os.rename({str(pid_file)!r} + ".tmp", {str(pid_file)!r})
            time.sleep(60)
        """)],
    )
    deadline = time.monotonic() + 30
    while not pid_file.exists():
        assert time.monotonic() < deadline, "the scenario never started its sidecar"
        time.sleep(0.05)
    child = int(pid_file.read_text())
    parent.kill()
    parent.wait()
    while _alive(child):
        if time.monotonic() > deadline:
            pytest.fail(f"the sidecar child {child} outlived its killed parent")
        time.sleep(0.05)


def _alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie — exited, not yet reaped by init — counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def test_the_sidecar_is_not_used_off_linux(monkeypatch: pytest.MonkeyPatch) -> None:
    from evalkit.cli.sidecar import Sidecar

    monkeypatch.setattr(sys, "platform", "darwin")
    with Sidecar.start(preload=[]) as sidecar:
        assert sidecar.call(os.getpid) == os.getpid()
