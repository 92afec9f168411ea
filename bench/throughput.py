"""Benchmark: evalkit's runner against a plain AsyncOpenAI loop, a warm-cache re-run, peak memory, and the
whole `evalkit run` process against a plain script; prints a Markdown table (``make bench``, not in CI).

    .venv/bin/python bench/throughput.py [--quick]

Every model call goes to a loopback server in a separate process that answers every chat completion
after a fixed 50 ms (asyncio, keep-alive), so the figures measure the client side, not the server:

1. 5,000 requests at concurrency 64 — a plain ``AsyncOpenAI`` loop (the ceiling), then evalkit's runner
   (no cache); ratios to the loop (goal ≥ 0.9) and to the ideal (concurrency ÷ latency).
2. A warm-cache re-run of 10,000 cases × 5 targets through the whole pipeline (scoring, statistics,
   results.json, report.html, junit.xml, summary.md); the cache is filled directly, no calls are made.
3. Peak memory of a warm-cache run of 100,000 cases × 1 target: the largest resident size of the run's
   process and its sidecar (``evalkit/sidecar.py``) together, sampled from /proc.
4. `evalkit run` of 200 cases × 5 chat models (1,000 requests, concurrency 64, no cache) against a plain
   AsyncOpenAI script doing the same 1,000 calls, each a fresh process, wall time (goal ≤ 1.2×); also the
   plain script on the SDK's aiohttp client, evalkit's transport. They alternate for 7 rounds and the
   medians are compared.

``--quick`` divides every size by 10 (a smoke test of the script). Each step has a time limit.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LATENCY_S = 0.05
CONCURRENCY = 64
MODELS = ("gpt-4o-mini", "gpt-4o", "gpt-4.1-mini", "gpt-4.1", "gpt-3.5-turbo")
LABELS = ("billing", "technical", "account", "shipping")
STEP_TIMEOUT_S = 600
ANSWER = json.dumps({
    "id": "chatcmpl-bench", "object": "chat.completion", "created": 0, "model": "bench",
    "choices": [{"index": 0, "finish_reason": "stop", "logprobs": None,
                 "message": {"role": "assistant", "content": "billing", "refusal": None}}],
    "usage": {"prompt_tokens": 20, "completion_tokens": 1, "total_tokens": 21},
}).encode()


# ── the server (a child process) ─────────────────────────────────────────────────────────────────────


async def _serve_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            await reader.readexactly(length)
            await asyncio.sleep(LATENCY_S)
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                         + str(len(ANSWER)).encode() + b"\r\n\r\n" + ANSWER)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def _serve(port: int) -> None:
    server = await asyncio.start_server(_serve_connection, "127.0.0.1", port, backlog=1024)
    async with server:
        await server.serve_forever()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def _server() -> Iterator[str]:
    """The 50 ms server in a child process; yields its base URL."""
    port = _free_port()
    child = subprocess.Popen([sys.executable, __file__, "--serve", str(port)])
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("the benchmark server did not start") from None
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        child.kill()
        child.wait()


# ── the steps ───────────────────────────────────────────────────────────────────────────────────────

PLAIN_SCRIPT = textwrap.dedent("""
    import asyncio, sys, time
    from openai import AsyncOpenAI

    async def main(n: int, concurrency: int, models: list[str]) -> None:
        client = AsyncOpenAI()
        queue = list(range(n))
        async def worker() -> None:
            while queue:
                i = queue.pop()
                await client.chat.completions.create(
                    model=models[i % len(models)], max_tokens=16, temperature=0,
                    messages=[{"role": "user", "content": f"ticket {i}"}])
        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        print(time.perf_counter() - start)
        await client.close()

    asyncio.run(main(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3].split(",")))
""")

PLAIN_AIOHTTP_SCRIPT = PLAIN_SCRIPT.replace(
    "from openai import AsyncOpenAI", "from openai import AsyncOpenAI, DefaultAioHttpClient"
).replace("AsyncOpenAI()", "AsyncOpenAI(http_client=DefaultAioHttpClient())")
"""The same script on the SDK's aiohttp transport, which evalkit uses."""


def _env(url: str, cache_dir: Path) -> dict[str, str]:
    return {**os.environ, "OPENAI_BASE_URL": url, "OPENAI_API_KEY": "sk-bench", "EVALKIT_CACHE_DIR": str(cache_dir)}


def _plain_loop(url: str, n: int, workdir: Path) -> float:
    """Seconds for n calls by the plain AsyncOpenAI loop (in a child process, timed inside it)."""
    out = subprocess.run([sys.executable, "-c", PLAIN_SCRIPT, str(n), str(CONCURRENCY), MODELS[0]],
                         env=_env(url, workdir), capture_output=True, text=True, check=True,
                         timeout=STEP_TIMEOUT_S)
    return float(out.stdout.strip())


def _cases(n: int) -> list[object]:
    from evalkit.records import Case, Message

    return [Case(id=f"c{i}", reference=LABELS[i % 4], messages=(Message(role="user", content=f"ticket {i}"),))
            for i in range(n)]


def _evalkit_runner(url: str, n: int) -> float:
    """Seconds for n calls through evalkit's runner (provider, schedule, outcomes; no cache)."""
    os.environ.update({"OPENAI_BASE_URL": url, "OPENAI_API_KEY": "sk-bench"})
    from evalkit.providers.openai import OpenAIProvider
    from evalkit.records import Target
    from evalkit.runner import RunSettings, run_targets
    from evalkit.runner.calls import Caller

    async def run() -> float:
        provider = OpenAIProvider.from_env()
        target = Target(name="m", model=MODELS[0], endpoint="chat")
        start = time.perf_counter()
        await run_targets(_cases(n), [target], caller=Caller(provider, concurrency=CONCURRENCY),
                          settings=RunSettings(), progress=False)
        elapsed = time.perf_counter() - start
        await provider.aclose()
        return elapsed

    return asyncio.run(run())


def _write_suite(workdir: Path, n: int, models: tuple[str, ...]) -> Path:
    rows = (json.dumps({"id": f"c{i}", "messages": [{"role": "user", "content": f"ticket {i}"},
                                                     {"role": "assistant", "content": LABELS[i % 4]}]})
            for i in range(n))
    (workdir / "data.jsonl").write_text("\n".join(rows) + "\n")
    targets = "".join(f"  t{k}: {model}\n" for k, model in enumerate(models))
    gate = "gate:\n  - {target: t1, metric: exact, versus: t0, margin: 0.1}\n" if len(models) > 1 else ""
    suite = workdir / "suite.yaml"
    suite.write_text(f"name: bench\ndata: data.jsonl\ngeneration: {{temperature: 0, max_tokens: 16}}\n"
                     f"scorers:\n  - exact\n  - classify: {{labels: [{', '.join(LABELS)}]}}\n"
                     f"targets:\n{targets}{gate}")
    return suite


def _fill_cache(suite_path: Path, url: str, cache_dir: Path) -> None:
    """Store an answer for every (case, target) of the suite, as a cold run would have (keyed by the
    run's own ``Caller``, so the warm run finds every one)."""
    os.environ.update({"OPENAI_BASE_URL": url, "OPENAI_API_KEY": "sk-bench"})
    from evalkit.data import load_cases
    from evalkit.providers.base import Reply
    from evalkit.providers.openai import OpenAIProvider
    from evalkit.providers.request import build_request
    from evalkit.records import Usage
    from evalkit.runner.cache import Cache
    from evalkit.runner.calls import Caller
    from evalkit.suite import load_suite
    from evalkit.targets.spec import resolve_targets

    suite = load_suite(suite_path)
    cases = load_cases(suite).cases
    with Cache.open(cache_dir, batch=5000) as cache:
        caller = Caller(OpenAIProvider.from_env(), cache=cache)
        for target in resolve_targets(suite.targets, [], allow_empty=False):
            for i, case in enumerate(cases):
                request = build_request(case, target, suite.generation, suite.completions)
                answer = LABELS[(i + (i % 3 == 0) * (target.name != "t1")) % 4]
                caller.put(caller.key(request), Reply(answer, Usage(20, 1), "stop"), latency_s=LATENCY_S)


def _warm_run(url: str, workdir: Path, n: int, models: tuple[str, ...]) -> tuple[float, int]:
    """(seconds, peak memory in bytes) of `evalkit run` on a warm cache, in a child process. The memory is
    the largest sum of the resident sizes of the run and of its sidecar seen at one time (sampled every
    10 ms from /proc), since both may be alive at once."""
    suite = _write_suite(workdir, n, models)
    cache = workdir / "cache"
    _fill_cache(suite, url, cache)
    code = ("import sys, time\nfrom evalkit.cli import main\nstart = time.perf_counter()\n"
            "code = main(sys.argv[1:])\nprint(time.perf_counter() - start, code)\n")
    with subprocess.Popen(
        [sys.executable, "-c", code, "run", str(suite), "--out", str(workdir / "out"), "--quiet"],
        env=_env(url, cache), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    ) as run:
        peak, deadline = 0, time.monotonic() + STEP_TIMEOUT_S
        while run.poll() is None and time.monotonic() < deadline:
            peak = max(peak, _tree_rss(run.pid))
            time.sleep(0.01)
        run.kill()
        stdout, stderr = run.communicate()
    seconds, code = (stdout.strip().splitlines() or ["0 2"])[-1].split()
    if run.returncode != 0 or code not in ("0", "1"):
        raise RuntimeError(stderr[-2000:])
    return float(seconds), peak


def _tree_rss(pid: int) -> int:
    """Resident bytes of ``pid`` and its child processes (0 for one that is gone)."""
    total = 0
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1]) * 1024
    except (FileNotFoundError, ProcessLookupError):
        return 0
    return total + sum(_tree_rss(int(child)) for child in children)


def _whole_process(url: str, workdir: Path, cases: int, rounds: int) -> tuple[float, float, float]:
    """Median wall seconds of `evalkit run` (cases × 5 models, no cache), of the plain script, and of the
    plain script on the SDK's aiohttp client (evalkit's transport), each a fresh process, alternating for
    ``rounds`` rounds (one run of each is at the mercy of a noisy machine)."""
    suite = _write_suite(workdir, cases, MODELS)
    env = _env(url, workdir / "cache")
    plain: list[float] = []
    aiohttp: list[float] = []
    evalkit: list[float] = []
    for _ in range(rounds):
        for script, times in ((PLAIN_SCRIPT, plain), (PLAIN_AIOHTTP_SCRIPT, aiohttp)):
            start = time.perf_counter()
            subprocess.run([sys.executable, "-c", script, str(cases * len(MODELS)), str(CONCURRENCY),
                            ",".join(MODELS)], env=env, check=True, capture_output=True, timeout=STEP_TIMEOUT_S)
            times.append(time.perf_counter() - start)
        start = time.perf_counter()
        run = subprocess.run([sys.executable, "-m", "evalkit", "run", str(suite), "--out", str(workdir / "out"),
                              "--quiet", "--no-cache", "--concurrency", str(CONCURRENCY)],
                             env=env, capture_output=True, text=True, timeout=STEP_TIMEOUT_S, check=False)
        evalkit.append(time.perf_counter() - start)
        if run.returncode not in (0, 1):
            raise RuntimeError(run.stderr[-2000:])
    return statistics.median(evalkit), statistics.median(plain), statistics.median(aiohttp)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="every size divided by 10")
    parser.add_argument("--serve", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        asyncio.run(_serve(args.serve))
        return 0
    scale = 10 if args.quick else 1
    requests, warm_cases, memory_cases, whole_cases = 5000 // scale, 10_000 // scale, 100_000 // scale, 200
    ideal = CONCURRENCY / LATENCY_S
    rows: list[tuple[str, str]] = []
    with _server() as url, tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        _plain_loop(url, 200, work)  # warm-up: imports, connections, the server's first accept
        plain = requests / _plain_loop(url, requests, work)
        ours = requests / _evalkit_runner(url, requests)
        rows += [
            (f"plain AsyncOpenAI loop, {requests:,} requests, concurrency {CONCURRENCY}, 50 ms",
             f"{plain:,.0f} req/s ({plain / ideal:.2f} of ideal {ideal:,.0f} req/s)"),
            ("evalkit runner, same workload",
             f"{ours:,.0f} req/s — {ours / plain:.2f} × plain loop, {ours / ideal:.2f} × ideal"),
        ]
        (work / "warm").mkdir()
        seconds, rss = _warm_run(url, work / "warm", warm_cases, MODELS)
        rows.append((f"warm-cache `evalkit run`, {warm_cases:,} cases × {len(MODELS)} targets, all outputs",
                     f"{seconds:.1f} s (peak RSS {rss / 2**20:,.0f} MiB)"))
        (work / "memory").mkdir()
        seconds, rss = _warm_run(url, work / "memory", memory_cases, MODELS[:1])
        rows.append((f"warm-cache `evalkit run`, {memory_cases:,} cases × 1 target: peak memory",
                     f"{rss / 2**20:,.0f} MiB peak RSS ({seconds:.1f} s)"))
        (work / "whole").mkdir()
        rounds = 2 if args.quick else 7
        evalkit, plain_s, aiohttp_s = _whole_process(url, work / "whole", whole_cases, rounds)
        name = (f"whole process: `evalkit run` {whole_cases} cases × {len(MODELS)} chat models "
                f"({whole_cases * len(MODELS):,} requests) vs plain AsyncOpenAI script, median of {rounds}")
        rows.append((name,
                     f"{evalkit:.1f} s vs {plain_s:.1f} s — {evalkit / plain_s:.2f}× (goal ≤ 1.2×)"))
        rows.append(("the same plain script on the SDK's aiohttp client (`DefaultAioHttpClient`, as evalkit)",
                     f"{aiohttp_s:.1f} s — evalkit {evalkit / aiohttp_s:.2f}× of it"))
    print(f"| benchmark ({os.cpu_count()} CPUs, Python {sys.version.split()[0]}) | result |\n|---|---|")
    for name, value in rows:
        print(f"| {name} | {value} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
