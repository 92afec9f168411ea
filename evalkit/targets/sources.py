"""Where the targets come from: fine-tuning jobs (OpenAI's, or a local run ``local:DIR``), the suite's
``targets:`` block and ``--model`` flags — merged into one list with every name once."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import TYPE_CHECKING

from evalkit.errors import InputError
from evalkit.records import Target

if TYPE_CHECKING:
    from evalkit.providers.router import ProviderRouter
    from evalkit.targets.jobs import JobInfo


async def fetch_job_info(provider: ProviderRouter, job_id: str, *, with_files: bool = True) -> JobInfo:
    """An OpenAI job through the SDK, or a local run (``local:DIR``) from its directory."""
    from evalkit.targets.local_jobs import fetch_local_job, is_local_job

    if is_local_job(job_id):
        return fetch_local_job(job_id, with_files=with_files)
    from evalkit.providers.openai import OpenAIProvider
    from evalkit.targets.jobs import fetch_job

    assert isinstance(provider.remote, OpenAIProvider)
    return await fetch_job(provider.remote.client, job_id, with_files=with_files)


def targets_of(job: JobInfo, prefix: str | None) -> list[Target]:
    """The targets a job resolves to: base, step-N, final (names prefixed when given)."""
    from evalkit.targets.jobs import job_targets
    from evalkit.targets.local_jobs import local_job_targets

    return local_job_targets(job, prefix) if job.base_model.startswith("local:") else job_targets(job, prefix)


async def fetch_jobs(
    provider: ProviderRouter, job_ids: Sequence[str], *, with_files: bool = True
) -> tuple[list[JobInfo], dict[str, list[Target]]]:
    """The jobs named by ``--job`` and their targets (names prefixed by the job id when several)."""
    if not job_ids:
        return [], {}
    if len(set(job_ids)) != len(job_ids):
        raise InputError("the same job is given twice", field="--job")
    jobs = list(
        await asyncio.gather(*(fetch_job_info(provider, job_id, with_files=with_files) for job_id in job_ids))
    )
    prefix = len(jobs) > 1
    return jobs, {job.id: targets_of(job, prefix=job.id if prefix else None) for job in jobs}


def all_targets(named: list[Target], targets_by_job: dict[str, list[Target]]) -> list[Target]:
    """Jobs' targets first, then the suite's and the ``--model`` ones; every name once."""
    from_jobs = [target for targets in targets_by_job.values() for target in targets]
    taken = {t.name for t in from_jobs}
    for target in named:
        if target.name in taken:
            raise InputError(
                f"target name {target.name!r} is already used by the job's targets "
                f"({', '.join(sorted(taken))}); give the model another name",
                field="--model",
            )
    return from_jobs + named
