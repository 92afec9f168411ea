"""The ``python`` grader: the suite author's ``grade(sample, item)`` run in one worker process per grader —
its errors, time limit, network guard and environment as a suite author would meet them."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from evalkit.scorers.graders.python_grader import GraderError, PythonGrader, check_source

GRADER = textwrap.dedent(
    """
    import os

    def grade(sample, item):
        answer = sample["output_text"]
        if answer == "pid":
            return os.getpid()
        if answer == "boom":
            return {}["missing"]
        if answer == "text":
            return "0.5"
        if answer == "yes":
            return True
        if answer == "nan":
            return float("nan")
        if answer == "forever":
            while True:
                pass
        if answer == "print":
            print("a grader that prints", "{not json")
            return 0.25
        if answer == "socket":
            import socket
            socket.socket()
        if answer == "http":
            import urllib.request
            urllib.request.urlopen("http://127.0.0.1:9/", timeout=1)
        if answer == "exit":
            os._exit(7)
        if answer == "keys":
            return float(sum(1 for name in os.environ if "OPENAI" in name))
        if answer == "where":
            open("scratch.txt", "w").close()
            raise RuntimeError(os.getcwd())
        return 1.0 if answer.strip() == item["reference"] else 0.0
    """
)


@pytest.fixture
def grader() -> Iterator[PythonGrader]:
    found = PythonGrader(GRADER, timeout_s=1.0)
    yield found
    asyncio.run(found.close())


def grade(grader: PythonGrader, answer: str, reference: str = "billing") -> float:
    return asyncio.run(grader.grade({"output_text": answer}, {"reference": reference}))


def failure(grader: PythonGrader, answer: str) -> str:
    with pytest.raises(GraderError) as caught:
        grade(grader, answer)
    assert "\n" not in caught.value.message
    return caught.value.message


def running(pid: int) -> bool:
    """The process is alive (a zombie, which has exited but not been reaped yet, is not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(") ")[2][:1] != "Z"
    except OSError:
        return True


def test_a_good_grader_scores_every_case_in_one_worker(grader: PythonGrader) -> None:
    assert [grade(grader, answer) for answer in ("billing", " billing\n", "shipping")] == [1.0, 1.0, 0.0]
    pid = grade(grader, "pid")
    assert pid != os.getpid()
    assert [grade(grader, "pid") for _ in range(5)] == [pid] * 5  # one interpreter, not one per case


def test_concurrent_cases_each_get_their_own_score(grader: PythonGrader) -> None:
    async def many() -> list[float]:
        answers = ["billing" if i % 3 else "other" for i in range(60)]
        return await asyncio.gather(*(grader.grade({"output_text": a}, {"reference": "billing"}) for a in answers))

    assert asyncio.run(many()) == [1.0 if i % 3 else 0.0 for i in range(60)]


def test_an_exception_in_grade_is_its_last_traceback_line_and_the_line_it_came_from(grader: PythonGrader) -> None:
    assert failure(grader, "boom") == "grade raised KeyError: 'missing' (line 9)"
    assert grade(grader, "billing") == 1.0  # the worker carries on


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ("text", "grade returned str '0.5', not a number"),
        ("yes", "grade returned bool True, not a number"),
        ("nan", "grade returned nan, not a finite number"),
    ],
)
def test_a_grade_that_is_not_a_finite_number_is_an_error(grader: PythonGrader, answer: str, message: str) -> None:
    assert failure(grader, answer) == message


def test_a_case_past_the_time_limit_is_stopped_and_the_next_case_still_works(grader: PythonGrader) -> None:
    first = grade(grader, "pid")
    assert failure(grader, "forever") == "grade took longer than 1 s (the time limit); its process was stopped"
    assert not running(int(first))
    assert grade(grader, "billing") == 1.0
    assert grade(grader, "pid") != first  # a fresh worker


def test_a_worker_that_dies_is_reported_and_replaced(grader: PythonGrader) -> None:
    assert failure(grader, "exit") == "the grader's process ended (exit code 7)"
    assert grade(grader, "billing") == 1.0


def test_the_grader_cannot_open_a_socket(grader: PythonGrader) -> None:
    refused = "network access is disabled in evalkit's python grader"
    assert failure(grader, "socket") == f"grade raised PermissionError: {refused} (line 24)"
    assert refused in failure(grader, "http")


def test_what_a_grader_prints_does_not_disturb_the_scores(grader: PythonGrader) -> None:
    assert [grade(grader, "print"), grade(grader, "billing")] == [0.25, 1.0]


def test_the_worker_sees_no_api_key(grader: PythonGrader, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-never-for-graders")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:1")
    assert grade(grader, "keys") == 0.0


@pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_AS is enforced on Linux")
def test_a_grader_over_its_memory_limit_gets_a_memory_error() -> None:
    hungry = PythonGrader("def grade(sample, item):\n    return len(bytearray(2 * 1024**3))\n", memory_mb=512)
    try:
        assert failure(hungry, "x") == "grade raised MemoryError (line 2)"
    finally:
        asyncio.run(hungry.close())


def test_a_source_that_fails_to_load_fails_every_case_with_its_error() -> None:
    broken = PythonGrader("import json\nraise RuntimeError('no model file')\n")
    message = "the source failed to load: RuntimeError: no model file (line 2)"
    assert [failure(broken, "a"), failure(broken, "b")] == [message, message]
    nothing = PythonGrader("def score(sample, item):\n    return 1\n")
    assert failure(nothing, "a") == "the source failed to load: NameError: the source defines no grade function"


def test_a_sample_that_is_not_json_is_refused_before_the_worker(grader: PythonGrader) -> None:
    with pytest.raises(GraderError, match="cannot be sent to the grader as JSON"):
        asyncio.run(grader.grade({"output_text": object()}, {}))


def test_close_stops_the_worker_removes_its_scratch_folder_and_a_later_case_starts_another(
    grader: PythonGrader,
) -> None:
    pid = int(grade(grader, "pid"))
    scratch = Path(failure(grader, "where").removeprefix("grade raised RuntimeError: ").rpartition(" (line")[0])
    assert (scratch / "scratch.txt").is_file() and scratch.resolve() != Path.cwd().resolve()
    asyncio.run(grader.close())
    assert not running(pid)
    assert not scratch.exists()
    assert grade(grader, "billing") == 1.0


def test_a_run_that_ends_without_close_leaves_no_worker_behind(tmp_path: Path) -> None:
    script = tmp_path / "forgetful.py"
    script.write_text(
        "import asyncio, os\n"
        "from evalkit.scorers.graders.python_grader import PythonGrader\n"
        "grader = PythonGrader('import os\\ndef grade(s, i):\\n    return os.getpid()\\n')\n"
        "print(int(asyncio.run(grader.grade({}, {}))))\n"
    )
    root = str(Path(__file__).resolve().parents[2])
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=60, check=True,
        env={**os.environ, "PYTHONPATH": root},
    )  # fmt: skip
    assert not running(int(done.stdout))


def test_a_worker_whose_run_is_killed_exits_and_removes_its_folder(tmp_path: Path) -> None:
    script, told = tmp_path / "killed.py", tmp_path / "folder.txt"
    script.write_text(
        "import asyncio, sys\n"
        "from evalkit.scorers.graders.python_grader import PythonGrader\n"
        "source = (\n"
        "    'import os, time\\n'\n"
        "    'def grade(sample, item):\\n'\n"
        "    '    open(sample[\"tell\"], \"w\").write(os.getcwd())\\n'\n"
        "    '    time.sleep(sample[\"wait\"])\\n'\n"
        "    '    return os.getpid()\\n'\n"
        ")\n"
        "grader = PythonGrader(source, timeout_s=600)\n"
        "print(int(asyncio.run(grader.grade({'wait': 0, 'tell': sys.argv[1]}, {}))), flush=True)\n"
        "asyncio.run(grader.grade({'wait': 600, 'tell': sys.argv[1]}, {}))\n"
    )
    root = str(Path(__file__).resolve().parents[2])
    run = subprocess.Popen(
        [sys.executable, str(script), str(told)], stdout=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": root},
    )  # fmt: skip
    assert run.stdout is not None
    worker = int(run.stdout.readline())
    folder = Path(told.read_text())
    assert folder.is_dir()
    run.kill()  # no close, no finaliser: only the worker itself can notice
    run.wait()
    run.stdout.close()
    deadline = time.monotonic() + 30
    while (running(worker) or folder.exists()) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not running(worker)
    assert not folder.exists()


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        ("def grade(sample, item):\n    return 1.0\n", None),
        ("def grade(sample, item, *, scale=1):\n    return 1.0\n", None),
        ("grade = lambda sample, item: 1.0\n", None),
        ("try:\n    import numpy\nexcept ImportError:\n    pass\ndef grade(s, i):\n    return 1\n", None),
        ("def grade(sample, item)\n    return 1.0\n", "syntax error at line 1: expected ':'"),
        ("x = 1\nreturn x\n", "syntax error at line 2: 'return' outside function"),
        ("def score(sample, item):\n    return 1.0\n", "no grade function is defined"),
        ("def grade(sample):\n    return 1.0\n", "grade must take two arguments, grade(sample, item) (line 1)"),
        ("async def grade(sample, item):\n    return 1.0\n", "grade must be a plain function (def)"),
    ],
)
def test_check_source_finds_what_stops_a_grader_without_running_it(source: str, problem: str | None) -> None:
    found = check_source(source + "import os\nos._exit(1)\n")  # never run: the test process lives on
    assert found == problem if problem is None else (found or "").startswith(problem)
