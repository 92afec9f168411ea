"""Which targets are retiring: the warning a target gets within 60 days of its shutdown date (or after it),
none further away, and no date asked for ``local:`` or replayed ``run:`` targets."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

import pytest

from evalkit.providers.router import ProviderRouter
from evalkit.records import Target
from evalkit.targets.lifecycle import (
    WARN_DAYS,
    has_lifecycle,
    shutdown_text,
    shutdown_warnings,
    with_shutdowns,
)

TODAY = date(2026, 12, 3)
FT = "ft:gpt-4o-mini:acme::abc"
ADVICE = "(see README: Migrating off a retiring fine-tune)"


def retiring(in_days: int, *, base: str | None = "gpt-4o-mini") -> Target:
    return Target(
        "final", FT, "chat", role="final", shutdown_date=TODAY + timedelta(days=in_days), shutdown_from=base
    )


def test_a_fine_tune_shutting_down_with_its_base_is_warned_about() -> None:
    (warning,) = shutdown_warnings([retiring(42)], today=TODAY)
    assert warning == (
        f"target 'final' ({FT}) shuts down on 2027-01-14, in 42 days, with its base gpt-4o-mini: "
        f"snapshot its answers now {ADVICE}"
    )


def test_a_base_model_shutting_down_says_no_base() -> None:
    base = Target("base", "gpt-4o-mini", "chat", role="base", shutdown_date=date(2027, 1, 14))
    assert shutdown_warnings([base], today=TODAY) == [
        f"target 'base' (gpt-4o-mini) shuts down on 2027-01-14, in 42 days: snapshot its answers now {ADVICE}"
    ]


@pytest.mark.parametrize(
    ("in_days", "when"),
    [(WARN_DAYS, "in 60 days"), (1, "in 1 day"), (0, "today")],
)
def test_within_60_days_is_warned_about(in_days: int, when: str) -> None:
    (warning,) = shutdown_warnings([retiring(in_days)], today=TODAY)
    assert f"shuts down on {(TODAY + timedelta(days=in_days)).isoformat()}, {when}, with its base" in warning


def test_no_warning_beyond_60_days_or_without_a_date() -> None:
    quiet = [retiring(WARN_DAYS + 1), retiring(400), Target("m", "gpt-5.2", "chat")]
    assert shutdown_warnings(quiet, today=TODAY) == []


@pytest.mark.parametrize(("in_days", "ago"), [(-41, "41 days ago"), (-1, "1 day ago")])
def test_a_target_already_shut_down_is_warned_about(in_days: int, ago: str) -> None:
    (warning,) = shutdown_warnings([retiring(in_days)], today=TODAY)
    on = (TODAY + timedelta(days=in_days)).isoformat()
    assert warning == (
        f"target 'final' ({FT}) was shut down on {on}, {ago}, with its base gpt-4o-mini: only answers cached "
        f"before then can be evaluated {ADVICE}"
    )


def test_the_date_in_a_table_names_the_base_it_comes_from() -> None:
    assert shutdown_text(retiring(42)) == "2027-01-14 (its base gpt-4o-mini)"
    assert shutdown_text(retiring(42, base=None)) == "2027-01-14"
    assert shutdown_text(Target("m", "gpt-5.2", "chat")) is None


def test_local_and_replayed_targets_have_no_lifecycle() -> None:
    assert has_lifecycle("gpt-4o-mini") and has_lifecycle(FT)
    assert not has_lifecycle("local:/models/smollm2")
    assert not has_lifecycle("run:reports/triage/20261201T000000Z/results.json#final")


def test_a_run_without_an_openai_service_asks_nothing() -> None:
    class Local:
        identity = "local"

    targets = [Target("base", "local:/models/smollm2", "chat", role="base")]
    router = ProviderRouter(local=Local())  # type: ignore[arg-type]
    assert asyncio.run(with_shutdowns(router, targets, today=TODAY)) == targets
