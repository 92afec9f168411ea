"""Which targets are retiring: each OpenAI target's shutdown date, the models already past theirs, and a
warning for each target that shuts down within ``WARN_DAYS`` days or already has.

A target's date is its model's own or its base model's, whichever comes first (``evalkit.providers.lifecycle``
reads them); ``Target.shutdown_from`` names the base when the date is the base's. ``local:`` models and
replayed ``run:`` targets have no date. The models already past their date are handed to the OpenAI
provider (``OpenAIProvider.shut_down``), so a "model not found" for one says it was shut down.

"Today" is the machine's date (``today``); every function takes ``today=`` so that tests can fix it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from typing import TYPE_CHECKING

from evalkit.providers.lifecycle import model_shutdowns, shutdown_phrase
from evalkit.records import Target

if TYPE_CHECKING:
    from evalkit.providers.router import ProviderRouter

WARN_DAYS = 60
"""A target shutting down within this many days (or already shut down) gets a warning."""
MIGRATING = "see README: Migrating off a retiring fine-tune"
"""Where a warning sends the reader."""
_REPLAYED = "run:"
"""The prefix of a target replayed from a saved run (no model is called)."""


def today() -> date:
    """The machine's date: the day a run's warnings count from."""
    return date.today()


async def with_shutdowns(
    router: ProviderRouter, targets: Sequence[Target], *, today: date | None = None
) -> list[Target]:
    """``targets``, each OpenAI one with its shutdown date (and the base it comes from), read once per
    model; the models already past their date handed to the provider. Unchanged when the run has no
    OpenAI(-compatible) service or nothing is announced."""
    models = [t.model for t in targets if has_lifecycle(t.model)]
    if router.remote is None or not models:
        return list(targets)
    from evalkit.providers.openai import OpenAIProvider  # the SDK: only when there is a service to ask

    remote = router.remote
    if not isinstance(remote, OpenAIProvider):
        return list(targets)
    shutdowns = await model_shutdowns(remote.client, models, identity=remote.identity)
    day = today if today is not None else _today()
    remote.shut_down.update({model: found for model, found in shutdowns.items() if found.day <= day})
    return [
        replace(t, shutdown_date=found.day, shutdown_from=found.base) if (found := shutdowns.get(t.model)) else t
        for t in targets
    ]


def has_lifecycle(model: str) -> bool:
    """Whether ``model`` is one a service may retire: not ``local:`` weights, not a replayed ``run:``."""
    from evalkit.providers.local.models import is_local

    return not is_local(model) and not model.startswith(_REPLAYED)


def shutdown_warnings(targets: Sequence[Target], *, today: date | None = None) -> list[str]:
    """One line per target that shuts down within ``WARN_DAYS`` days of ``today`` or already has."""
    day = today if today is not None else _today()
    return [w for t in targets if (w := shutdown_warning(t, today=day)) is not None]


def shutdown_warning(target: Target, *, today: date) -> str | None:
    """``target 'final' (ft:gpt-4o-mini:…) shuts down on 2027-01-14, in 42 days, with its base gpt-4o-mini:
    snapshot its answers now (…)``; None when it has no date or the date is further away."""
    if target.shutdown_date is None:
        return None
    days = (target.shutdown_date - today).days
    if days > WARN_DAYS:
        return None
    on = target.shutdown_date.isoformat()
    base = "" if target.shutdown_from is None else f", with its base {target.shutdown_from}"
    who = f"target '{target.name}' ({target.model})"
    if days < 0:
        ago = f"{-days} day{'' if days == -1 else 's'} ago"
        return (
            f"{who} was shut down on {on}, {ago}{base}: only answers cached before then can be evaluated "
            f"({MIGRATING})"
        )
    when = "today" if days == 0 else f"in {days} day{'' if days == 1 else 's'}"
    return f"{who} shuts down on {on}, {when}{base}: snapshot its answers now ({MIGRATING})"


def shutdown_text(target: Target) -> str | None:
    """``2027-01-14``, or ``2027-01-14 (its base gpt-4o-mini)``; None when no date is known (tables)."""
    if target.shutdown_date is None:
        return None
    return shutdown_phrase(target.shutdown_date, target.shutdown_from)


def _today() -> date:
    """``today()``, for the functions whose ``today`` parameter hides it (looked up when called, so a test's
    replacement is the one used)."""
    return today()
