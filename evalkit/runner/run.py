"""Every case to every target, once, through the run's ``Caller`` (cache → slot → provider → cache).

A fixed pool of workers — as many as the caller's slots — pulls (target, case) jobs from one schedule
that takes the targets in turn, so a slow target does not hold the others back. Each target's first
uncached call is made alone, as the provider's ``probe`` (which may wait for a fine-tune to load while the
other targets go on): if it shows that every call to the target would fail (wrong endpoint, unknown
model), its other cases are recorded with the same error and never sent. Errors are recorded per case
(never dropped, never cached); a ``ServiceError`` stops the run at once (workers cancelled, cache flushed).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Literal

from evalkit.providers.base import CallError
from evalkit.providers.request import Request, build_request
from evalkit.providers.shapes import Shape, shape
from evalkit.records import Case, Endpoint, Outcome, Target
from evalkit.runner.calls import Caller
from evalkit.suite.model import Completions, Generation

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

@dataclass(frozen=True, slots=True)
class RunSettings:
    """How the runner builds and sends requests."""

    generation: Generation = field(default_factory=Generation)
    """Sampling settings sent with every request."""
    completions: Completions = field(default_factory=Completions)
    """How chat cases become prompts for completions targets."""
    completions_by_target: Mapping[str, Completions] = field(default_factory=dict)
    """Per target name, completions settings that replace ``completions`` for that target (e.g. the
    separator and stop inferred from a fine-tuning job's training file)."""
    generation_by_target: Mapping[str, Generation] = field(default_factory=dict)
    """Per target name, generation settings that replace ``generation`` for that target (its own
    ``generation:`` in the suite's ``targets:``)."""


async def run_targets(
    cases: Sequence[Case],
    targets: Sequence[Target],
    *,
    caller: Caller,
    settings: RunSettings = RunSettings(),
    progress: bool = True,
    moved: dict[str, Target] | None = None,
) -> dict[str, list[Outcome]]:
    """Ask every target to answer every case; per target name, one ``Outcome`` per case, in case order.

    A target the service says is served on another endpoint (a Responses-only model called on Chat) is
    called there for the rest of the run: ``moved`` (when given) receives it, by name, as it now is."""
    names = {t.name for t in targets}
    if len(names) != len(targets):
        raise ValueError(f"target names must be unique: {[t.name for t in targets]}")
    strangers = sorted(set(settings.completions_by_target) - names)
    if strangers:
        raise ValueError(f"completions_by_target names targets this run does not have: {strangers}")
    run = _Run(cases, targets, caller=caller, settings=settings)
    run.moved = moved if moved is not None else {}
    with _progress_bars(targets, len(cases), enabled=progress) as bars:
        run.bars = bars
        try:
            run.serve_from_cache()
            await run.call_all()
        finally:
            caller.flush()
    return run.results()


_State = Literal["new", "probing", "open", "closed"]


class _Schedule:
    """Which (target, case) to call next: a target's first call alone, then the targets in turn."""

    def __init__(self, pending: dict[str, deque[int]]) -> None:
        self._pending = pending
        self._state: dict[str, _State] = {name: "new" for name in pending}
        self._turn = deque(pending)
        self._changed = asyncio.Condition()

    async def next(self) -> tuple[str, int, bool] | None:
        """The next job as (target, case index, is the target's first call), or None when none is left."""
        async with self._changed:
            while True:
                job = self._take()
                if job is not None:
                    return job
                if "probing" not in self._state.values():
                    return None
                await self._changed.wait()

    async def probed(self, name: str, *, usable: bool) -> list[int]:
        """Record the outcome of a target's first call; the cases left unsent if it is not usable."""
        return await self._settle(name, "open" if usable else "closed")

    async def retry(self, name: str, index: int, *, probe: bool) -> None:
        """Call case ``index`` of target ``name`` again, first (as the target's probe again if it was)."""
        async with self._changed:
            self._pending[name].appendleft(index)
            if probe:
                self._state[name] = "new"
            self._changed.notify_all()

    async def close(self, name: str) -> list[int]:
        """Stop calling a target; the cases left unsent."""
        return await self._settle(name, "closed")

    async def _settle(self, name: str, state: _State) -> list[int]:
        async with self._changed:
            self._state[name] = state
            dropped = list(self._pending[name]) if state == "closed" else []
            if state == "closed":
                self._pending[name].clear()
            self._changed.notify_all()
        return dropped

    def _take(self) -> tuple[str, int, bool] | None:
        for name, state in self._state.items():
            if state == "new" and self._pending[name]:
                self._state[name] = "probing"
                return name, self._pending[name].popleft(), True
        for _ in range(len(self._turn)):
            name = self._turn[0]
            self._turn.rotate(-1)
            if self._state[name] == "open" and self._pending[name]:
                return name, self._pending[name].popleft(), False
        return None


class _Run:
    """One run's jobs, results and bookkeeping."""

    def __init__(
        self,
        cases: Sequence[Case],
        targets: Sequence[Target],
        *,
        caller: Caller,
        settings: RunSettings,
    ) -> None:
        self.caller = caller
        self.settings = settings
        self.bars: _Bars | None = None
        self.cases = cases
        self.targets = {t.name: t for t in targets}
        self.moved: dict[str, Target] = {}
        self.requests = {t.name: self._requests(t) for t in targets}
        self.outcomes: dict[str, list[Outcome | None]] = {t.name: [None] * len(cases) for t in targets}

    def _request(self, case: Case, target: Target, sampling: Shape | None = None) -> Request:
        settings = self.settings
        generation = settings.generation_by_target.get(target.name, settings.generation)
        return build_request(
            case,
            target,
            generation,
            settings.completions,
            completions_by_target=settings.completions_by_target,
            sampling=sampling or shape(target.model, target.endpoint, generation),
        )

    def _requests(self, target: Target) -> list[Request]:
        """``target``'s request for every case, its request shape worked out once."""
        generation = self.settings.generation_by_target.get(target.name, self.settings.generation)
        sampling = shape(target.model, target.endpoint, generation)
        return [self._request(case, target, sampling) for case in self.cases]

    def move(self, name: str, endpoint: Endpoint) -> bool:
        """Call target ``name`` on ``endpoint`` from now on; False if it is there already."""
        target = self.targets[name]
        if target.endpoint == endpoint:
            return False
        self.targets[name] = self.moved[name] = replace(target, endpoint=endpoint)
        self.requests[name] = self._requests(self.targets[name])
        return True

    def serve_from_cache(self) -> None:
        """Fill in every outcome the cache already holds."""
        if self.caller.cache is None:
            return
        for name, requests in self.requests.items():
            for index, hit in enumerate(self.caller.lookup_many(requests)):
                if hit is not None:
                    self._record(name, index, hit)

    async def call_all(self) -> None:
        """Call every job the cache did not answer, with a bounded pool of workers."""
        pending = {
            name: deque(i for i, outcome in enumerate(outcomes) if outcome is None)
            for name, outcomes in self.outcomes.items()
        }
        if not any(pending.values()):
            return
        schedule = _Schedule(pending)
        workers = [asyncio.create_task(self._work(schedule)) for _ in range(self.caller.concurrency)]
        try:
            done, _ = await asyncio.wait(workers, return_when=asyncio.FIRST_EXCEPTION)
            for task in done:
                task.result()
        finally:
            for task in workers:
                task.cancel()
            await asyncio.gather(*workers, return_exceptions=True)

    async def _work(self, schedule: _Schedule) -> None:
        while (job := await schedule.next()) is not None:
            name, index, first = job
            try:
                outcome = await self._call(name, index, probe=first)
            except CallError as exc:
                if exc.move_to is not None and self.move(name, exc.move_to):
                    await schedule.retry(name, index, probe=first)
                    continue
                self._record(name, index, Outcome(output=None, error=exc.message))
                if exc.whole_target:
                    dropped = await schedule.close(name)
                    for other in dropped:
                        self._record(name, other, Outcome(output=None, error=exc.message))
                elif first:
                    await schedule.probed(name, usable=True)
                continue
            self._record(name, index, outcome)
            if first:
                await schedule.probed(name, usable=True)

    async def _call(self, name: str, index: int, *, probe: bool) -> Outcome:
        request: Request = self.requests[name][index]
        if name in self.moved:  # its answers on the new endpoint may be cached from an earlier run
            hit = self.caller.lookup(request)
            if hit is not None:
                return hit
        return await self.caller.call(request, probe=probe)

    def _record(self, name: str, index: int, outcome: Outcome) -> None:
        self.outcomes[name][index] = outcome
        if self.bars is not None:
            self.bars.advance(name, failed=outcome.error is not None)

    def results(self) -> dict[str, list[Outcome]]:
        """The outcomes, every one filled in."""
        results: dict[str, list[Outcome]] = {}
        for name, outcomes in self.outcomes.items():
            results[name] = [o for o in outcomes if o is not None]
            if len(results[name]) != len(outcomes):
                raise RuntimeError(f"runner bug: target {name!r} has cases without an outcome")
        return results


class _Bars:
    """One rich progress bar per target on stderr: done/total, errors, time left."""

    def __init__(self, progress: Progress, tasks: dict[str, TaskID]) -> None:
        self._progress = progress
        self._tasks = tasks
        self._errors = dict.fromkeys(tasks, 0)

    def advance(self, name: str, *, failed: bool) -> None:
        if failed:
            self._errors[name] += 1
        self._progress.update(self._tasks[name], advance=1, errors=self._errors[name])


@contextmanager
def _progress_bars(targets: Sequence[Target], total: int, *, enabled: bool) -> Iterator[_Bars | None]:
    if not enabled:
        yield None
        return
    from evalkit.runner.progress import progress_bars

    progress = progress_bars("{task.fields[errors]} errors")
    tasks = {t.name: progress.add_task(t.name, total=total, errors=0) for t in targets}
    with progress:
        yield _Bars(progress, tasks)
