"""``evalkit plan``: how many cases a suite needs to detect a given Δ with 80% power.

Two forms, one question. From a saved run (``evalkit plan RESULTS --delta 0.05``): for each of its paired
comparisons, the spread the run observed (the share of cases the two sides disagree on for 0/1 scores,
the spread of the per-case difference otherwise), its n and mde now, and the cases needed for Δ — each at
the level the run's gate tests it at (``gate.rule_levels``) unless ``--alpha`` says otherwise. From
stated rates (``--discordance``, ``--rates`` or ``--sd``): the cases needed, one line. The statistics are
``analysis.power``'s, the same that fill each comparison's ``mde``; the table of a saved run is
``plan_saved``'s.

``evalkit.cli`` adds the command with ``add_plan_command(commands)`` and runs ``run_plan(args)``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from evalkit.errors import InputError

__all__ = ["add_plan_command", "run_plan"]

_EPILOG = """\
examples:
  evalkit plan reports/ticket-triage/20261201T090000Z/results.json --delta 0.05
  evalkit plan reports/ticket-triage/20261201T090000Z/results.json --delta 0.05 --target final --metric exact
  evalkit plan --delta 0.05 --discordance 0.15     # 0/1 scores: the models disagree on 15% of cases
  evalkit plan --rates 0.80,0.85                   # two accuracies (Δ 0.05), errors assumed independent
  evalkit plan --delta 0.1 --sd 0.3                # continuous scores: sd of the per-case difference

0/1 scores are planned for the exact McNemar test, exactly; other scores and aggregates (macro-F1) with
the normal approximation. α is two-sided: a superiority rule's alpha (divided by the number of targets
it covers: Holm's first step), 0.05 for a non-inferiority rule's 95% CI and for comparisons no rule tests.
"""

_STATED = ("discordance", "rates", "sd")


def add_plan_command(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``plan`` to the ``evalkit`` subcommands."""
    parser = commands.add_parser(
        "plan",
        help="how many cases a suite needs to detect a given difference with 80%% power",
        description="Say how many paired cases detect a true difference DELTA between two targets with "
        "80% power: for every comparison of a saved run (RESULTS), from the disagreement or spread it "
        "observed, or from stated rates (--discordance, --rates or --sd).",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("results", nargs="?", type=Path, metavar="RESULTS", help="a saved run's results.json")
    parser.add_argument(
        "--delta", metavar="DELTA", help="the true difference to detect, in the metric's units (e.g. 0.05)"
    )
    parser.add_argument("--target", metavar="NAME", help="with RESULTS: only this target's comparisons")
    parser.add_argument("--versus", metavar="NAME", help="with RESULTS: only comparisons against this target")
    parser.add_argument("--metric", metavar="METRIC", help="with RESULTS: only this metric (exact, …)")
    parser.add_argument(
        "--discordance",
        metavar="SHARE",
        help="0/1 scores: the share of cases on which the two models disagree (one right, one wrong)",
    )
    parser.add_argument(
        "--rates",
        metavar="A,B",
        help="0/1 scores: the two models' accuracies; their disagreement is taken as if their errors were "
        "independent, and DELTA defaults to B − A",
    )
    parser.add_argument(
        "--sd", metavar="SD", help="other scores: the standard deviation of the per-case difference"
    )
    parser.add_argument(
        "--alpha",
        metavar="LEVEL",
        help="two-sided significance level (default: the level the run's gate tests each comparison at, "
        "else 0.05)",
    )
    parser.add_argument("--power", metavar="P", help="the chance of detecting DELTA (default: 0.8)")


def run_plan(args: argparse.Namespace) -> int:
    """Print the plan; ``InputError`` (one line, exit 2) for a bad value or a missing one."""
    from evalkit.analysis.power import ALPHA, POWER

    alpha = None if args.alpha is None else _level(args.alpha, "--alpha")
    power = POWER if args.power is None else _level(args.power, "--power")
    stated = [f"--{name}" for name in _STATED if getattr(args, name) is not None]
    if args.results is not None:
        if stated:
            raise InputError(f"give RESULTS or stated rates, not both ({stated[0]} with a results.json)")
        delta = _delta(args.delta, required=True)
        assert delta is not None
        from evalkit.cli.plan_saved import plan_saved_run

        print(
            plan_saved_run(
                args.results, delta, alpha=alpha, power=power, picks=(args.target, args.versus, args.metric)
            )
        )
        return 0
    for flag in ("target", "versus", "metric"):
        if getattr(args, flag) is not None:
            raise InputError(
                f"--{flag} picks comparisons of a saved run: give its results.json", field=f"--{flag}"
            )
    if len(stated) != 1:
        raise InputError(
            "give a saved run's results.json, or one of --discordance (0/1 scores), --rates A,B (two "
            "accuracies) or --sd (other scores)"
            + (f"; got {' and '.join(stated)}" if stated else "")
        )
    print(_from_rates(args, alpha=ALPHA if alpha is None else alpha, power=power))
    return 0


def _from_rates(args: argparse.Namespace, *, alpha: float, power: float) -> str:
    from evalkit.analysis.power import cases_needed, independent_discordance

    if args.sd is not None:
        sd = _number(args.sd, "--sd", low=0.0, low_open=True)
        delta = _delta(args.delta, required=True)
        assert delta is not None
        needed = cases_needed(delta, sd=sd, alpha=alpha, power=power)
        spread = f"the per-case difference's sd {sd:g} (normal approximation: sign-flip or bootstrap)"
        return f"{_headline(delta, alpha, power)} with {spread}: {needed:,} cases."
    if args.rates is not None:
        first, second = _rates(args.rates)
        discordance = independent_discordance(first, second)
        delta = _delta(args.delta, required=False, unit=True)
        if delta is None:
            delta = abs(second - first)
            if delta == 0:
                raise InputError(
                    "the two accuracies are equal: give --delta, the difference to detect", field="--rates"
                )
        note = (
            f"accuracies {first:g} and {second:g} with independent errors disagree on {discordance:.1%} of "
            "cases (models fine-tuned from one base usually disagree less: this errs toward more cases)"
        )
    else:
        discordance = _number(args.discordance, "--discordance", low=0.0, high=1.0, low_open=True)
        delta = _delta(args.delta, required=True, unit=True)
        assert delta is not None
        note = f"the models disagreeing on {discordance:.1%} of cases"
    if delta > discordance:
        raise InputError(
            f"a difference of {delta:g} needs the models to disagree on at least that share of cases; "
            f"{discordance:.3g} is less",
            field="--delta",
        )
    needed = cases_needed(delta, discordance=discordance, alpha=alpha, power=power)
    return f"{_headline(delta, alpha, power)} by exact McNemar (0/1 scores), {note}: {needed:,} cases."


def _headline(delta: float, alpha: float, power: float) -> str:
    return f"To detect a true Δ of {delta:g} with {power:.0%} power at two-sided α {alpha:g}"


def _delta(text: str | None, *, required: bool, unit: bool = False) -> float | None:
    if text is None:
        if required:
            raise InputError(
                "give --delta, the true difference to detect (e.g. --delta 0.05)", field="--delta"
            )
        return None
    return _number(text, "--delta", low=0.0, high=1.0 if unit else None, low_open=True)


def _level(text: str, flag: str) -> float:
    return _number(text, flag, low=0.0, high=1.0, low_open=True, high_open=True)


def _rates(text: str) -> tuple[float, float]:
    parts = text.split(",")
    if len(parts) != 2:
        raise InputError(f"expected two accuracies A,B (e.g. 0.80,0.85), got {text!r}", field="--rates")
    first, second = (_number(part, "--rates", low=0.0, high=1.0) for part in parts)
    return first, second


def _number(
    text: str,
    flag: str,
    *,
    low: float,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """``text`` as a number within the bounds; ``InputError`` at ``flag`` saying what is allowed."""
    import math

    left, right = "(" if low_open else "[", ")" if high_open else "]"
    allowed = f"a number in {left}{low:g}, {high:g}{right}" if high is not None else f"a number above {low:g}"
    try:
        value = float(text.strip())
    except ValueError:
        raise InputError(f"expected {allowed}, got {text!r}", field=flag) from None
    inside = math.isfinite(value) and (value > low if low_open else value >= low)
    if high is not None:
        inside = inside and (value < high if high_open else value <= high)
    if not inside:
        raise InputError(f"expected {allowed}, got {text.strip()}", field=flag)
    return value
