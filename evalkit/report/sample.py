"""A synthetic but realistic results dict: a ticket-triage fine-tuning job, for benchmarks and screenshots.

``sample_results`` builds, without any model call, what ``evalkit run --job`` writes for a job with a base
model, its checkpoints and its final model: per-case answers (some wrong, a few failed calls, a judge that
sometimes could not be read), metrics with confidence intervals, paired comparisons against the base, flip
counts, a best-checkpoint recommendation, usage and cost, training curves and a gate. The benchmark
(``bench/render_report.py``), the README screenshot (``scripts/screenshot.py``) and the browser test render
it. ``hostile=True`` plants markup and script in outputs, data, ids and errors, the way untrusted text
arrives. The figures are consistent with the answers but are not evalkit's statistics: they only have to
look like them.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["XSS_FLAG", "sample_results"]

LABELS = ("billing", "technical", "account", "shipping")
JOB = "ftjob-7Fq2sample"
BASE_MODEL = "gpt-4o-mini-2024-07-18"
FINAL_MODEL = f"ft:{BASE_MODEL}:acme:triage:7Fq2sample"
SYSTEM = "You route customer support tickets. Answer with exactly one queue name: billing, technical, account or shipping."
XSS_FLAG = "__evalkit_xss"
"""The window property the hostile sample's payloads would set if any of them ever ran."""

_TICKETS = {
    "billing": (
        "I was charged twice for my {month} subscription. Please refund the duplicate payment.",
        "Why does my invoice for {month} show a fee I never agreed to?",
        "My card was declined but the money still left my account on {day}.",
    ),
    "technical": (
        "The app crashes every time I open the settings page on Android {version}.",
        "Sync has been stuck at 99% since {day}; restarting did not help.",
        "I get error 0x{code} when I try to export a report as PDF.",
    ),
    "account": (
        "I can't log in: the password reset e-mail never arrives.",
        "Please merge my two accounts, I signed up twice by mistake on {day}.",
        "How do I change the e-mail address on my account? The old one is closed.",
    ),
    "shipping": (
        "My parcel has said 'in transit' since {day}. Where is it?",
        "The box arrived crushed and two items from order #{code} are missing.",
        "Can you deliver to a pick-up point instead of my home address?",
    ),
}
_MONTHS = ("January", "February", "March", "April", "May", "June")
_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")
_RATIONALE_RIGHT = "The answer names the {label} queue, which is where this ticket belongs."
_RATIONALE_WRONG = "The ticket is about {label}, but the answer routes it to {other}."
_PAYLOADS = (
    f'<img src="x" onerror="window.{XSS_FLAG}=1">',
    f"</script><script>window.{XSS_FLAG}=1</script>",
    f"javascript:window.{XSS_FLAG}=1",
    f'<svg onload="window.{XSS_FLAG}=1"></svg> </textarea><b>bold?</b> \u2028line\u2029para',
)


@dataclass(frozen=True, slots=True)
class _Target:
    name: str
    model: str
    role: str
    step: int | None
    skill: float
    """Share of cases it gets right (cases are ordered by a hidden difficulty)."""


def sample_results(
    *, cases: int = 120, checkpoints: int = 3, steps_per_checkpoint: int = 30, seed: int = 0, hostile: bool = False
) -> dict[str, Any]:
    """A complete results dict of ``cases`` cases on base, ``checkpoints`` checkpoints and final."""
    rng = random.Random(seed)
    targets = _targets(checkpoints, steps_per_checkpoint)
    difficulty = [rng.random() for _ in range(cases)]
    rows = [_case(i, rng) for i in range(cases)]
    answers = {t.name: [_answer(t, rows[i]["reference"], difficulty[i], rng) for i in range(cases)] for t in targets}
    if hostile:
        _plant(rows, answers, targets)
    for i, row in enumerate(rows):
        row["results"] = {t.name: answers[t.name][i] for t in targets}
    metrics = {t.name: _metrics(t.name, rows) for t in targets}
    results: dict[str, Any] = {
        "schema_version": 1,
        "evalkit_version": "0.1.0",
        "suite": _suite(cases, hostile),
        "started_at": "2025-06-02T09:14:03+00:00",
        "finished_at": "2025-06-02T09:21:47+00:00",
        "generation": {"temperature": 0.0, "max_tokens": 16},
        "completions": {},
        "scorers": [
            {"kind": "exact", "name": "exact", "options": {}},
            {"kind": "classify", "name": "classify", "options": {"labels": list(LABELS)}},
            {"kind": "judge", "name": "judge", "options": {"model": "gpt-4o", "scale": [1, 5]}},
        ],
        "targets": [
            {"name": t.name, "model": t.model, "endpoint": "chat", "role": t.role, "step": t.step} for t in targets
        ],
        "cases": rows,
        "metrics": metrics,
        "details": {t.name: {"classify": _confusion(t.name, rows)} for t in targets},
        "usage": {t.name: _usage(t.name, rows) for t in targets},
        "judge_usage": {"judge": _judge_usage(rows, targets)},
        "comparisons": _comparisons(targets, rows, metrics),
        "flips": [_flips(t.name, "base", rows) for t in targets[1:]],
        "training": _training(checkpoints * steps_per_checkpoint, rng),
        "jobs": [_job(targets)],
        "checks": {JOB: {"parity": [], "contamination": {"training": {"exact": [rows[0]["id"]], "near": []}}}},
        "warnings": [f"1 of {cases} test cases also appears in the job's training file (exact: {rows[0]['id']})"],
    }
    results["recommendation"] = _recommendation(targets, metrics)
    results["gate"] = _gate(metrics, results["comparisons"])
    return results


def _targets(checkpoints: int, every: int) -> list[_Target]:
    found = [_Target("base", BASE_MODEL, "base", None, 0.42)]
    for k in range(1, checkpoints + 1):
        step = k * every
        skill = 0.42 + 0.46 * (1 - math.exp(-2.2 * k / max(checkpoints, 1)))
        found.append(_Target(f"step-{step}", f"{FINAL_MODEL}:ckpt-step-{step}", "checkpoint", step, skill))
    best = max(t.skill for t in found)
    found.append(_Target("final", FINAL_MODEL, "final", checkpoints * every, best - 0.035))
    return found


def _case(i: int, rng: random.Random) -> dict[str, Any]:
    label = LABELS[i % len(LABELS)] if rng.random() < 0.7 else rng.choice(LABELS)
    text = rng.choice(_TICKETS[label]).format(
        month=rng.choice(_MONTHS), day=rng.choice(_DAYS), version=rng.randint(11, 15), code=rng.randint(1000, 9999)
    )
    messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": text}]
    return {"id": f"t{i + 1:05d}", "line": i + 1, "input": {"messages": messages}, "reference": label}


def _answer(target: _Target, label: str, difficulty: float, rng: random.Random) -> dict[str, Any]:
    latency = round(rng.lognormvariate(-1.0 if target.role == "base" else -0.8, 0.35), 3)
    if rng.random() < 0.004:
        return {
            "output": None, "error": "RateLimitError: 429 Too Many Requests (gave up after 6 attempts)",
            "scores": {}, "usage": {"prompt_tokens": 0, "completion_tokens": 0}, "latency_s": latency,
            "cached": False, "finish_reason": None,
        }
    right = difficulty < target.skill if rng.random() > 0.05 else rng.random() < 0.5
    other = LABELS[(LABELS.index(label) + 1 + rng.randrange(3)) % len(LABELS)]
    said = label if right else other
    output = said.capitalize() + "." if target.role == "base" and rng.random() < 0.3 else said
    if target.role == "base" and not right and rng.random() < 0.3:
        output = f"This sounds like a question for the {said} team, but I am not certain."
    grade = rng.choice((4, 5, 5)) if right else rng.choice((1, 1, 2))
    result: dict[str, Any] = {
        "output": output,
        "error": None,
        "scores": {"exact": float(output == label), "classify": float(right), "judge": (grade - 1) / 4},
        "answers": {"classify": said},
        "explanations": {
            "judge": (_RATIONALE_RIGHT if right else _RATIONALE_WRONG).format(label=label, other=said),
        },
        "usage": {"prompt_tokens": 52 + rng.randrange(30), "completion_tokens": max(1, len(output) // 4)},
        "latency_s": latency,
        "cached": rng.random() < 0.1,
        "finish_reason": "stop",
    }
    if rng.random() < 0.01:
        del result["scores"]["judge"], result["explanations"]["judge"]
        result["score_errors"] = {"judge": "the judge's verdict could not be read: 'Score: four-ish'"}
    return result


def _plant(rows: list[dict[str, Any]], answers: dict[str, list[dict[str, Any]]], targets: list[_Target]) -> None:
    """Markup and script where untrusted text goes: outputs, input, reference, ids, errors, rationales."""
    final = answers[targets[-1].name]
    final[0]["output"] = _PAYLOADS[0]
    final[1]["output"] = _PAYLOADS[1]
    rows[1]["reference"] = _PAYLOADS[1]
    rows[2]["input"]["messages"][1]["content"] = _PAYLOADS[3]
    rows[3]["id"] = _PAYLOADS[0]
    failed = {key: value for key, value in answers[targets[0].name][2].items() if key not in ("answers", "explanations")}
    answers[targets[0].name][2] = {**failed, "output": None, "scores": {}, "error": _PAYLOADS[2]}
    final[4].setdefault("explanations", {})["judge"] = _PAYLOADS[2]


def _suite(cases: int, hostile: bool) -> dict[str, Any]:
    description = "Route support tickets to one of four queues (billing, technical, account, shipping)."
    return {
        "name": "ticket-triage",
        "description": description + (" " + _PAYLOADS[1] if hostile else ""),
        "file": "suites/ticket-triage-job.yaml",
        "sha256": "3f1c9a0e5b7d2c4e6f8a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e",
        "data": {"source": "suites/data/ticket-triage/test.jsonl", "sha256": "9b2e" + "0" * 60, "cases": cases},
    }


def _scores(rows: Sequence[dict[str, Any]], target: str, scorer: str) -> list[float]:
    found = (row["results"][target]["scores"].get(scorer) for row in rows)
    return [value for value in found if value is not None]


def _wilson(k: float, n: int) -> list[float] | None:
    if n == 0:
        return None
    z, p = 1.959964, k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return [round(max(0.0, centre - half), 6), round(min(1.0, centre + half), 6)]


def _mean_metric(values: Sequence[float]) -> dict[str, Any]:
    n = len(values)
    mean = sum(values) / n if n else None
    return {"value": mean, "ci": _wilson(sum(values), n), "n": n}


def _metrics(target: str, rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    found = {name: _mean_metric(_scores(rows, target, name)) for name in ("exact", "classify", "judge")}
    f1 = _per_label_f1(target, rows)
    n = found["classify"]["n"]
    macro = sum(f1.values()) / len(f1)
    half = 1.96 * math.sqrt(max(macro * (1 - macro), 1e-4) / max(n, 1))
    found["classify.accuracy"] = dict(found["classify"])
    found["classify.macro_f1"] = {"value": macro, "ci": [max(0.0, macro - half), min(1.0, macro + half)], "n": n}
    found.update({f"classify.f1.{label}": {"value": v, "ci": None, "n": n} for label, v in f1.items()})
    errors = sum(1 for row in rows if row["results"][target]["error"] is not None)
    found["error_rate"] = {"value": errors / len(rows), "ci": _wilson(errors, len(rows)), "n": len(rows)}
    return found


def _pairs(target: str, rows: Sequence[dict[str, Any]]) -> list[tuple[str, str]]:
    """(true label, predicted label) of every case the target answered."""
    return [
        (row["reference"], row["results"][target].get("answers", {}).get("classify", "unparsed"))
        for row in rows
        if row["results"][target]["error"] is None
    ]


def _per_label_f1(target: str, rows: Sequence[dict[str, Any]]) -> dict[str, float]:
    pairs = _pairs(target, rows)
    found = {}
    for label in LABELS:
        tp = sum(1 for t, p in pairs if t == p == label)
        fp = sum(1 for t, p in pairs if p == label != t)
        fn = sum(1 for t, p in pairs if t == label != p)
        found[label] = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
    return found


def _confusion(target: str, rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    pairs = _pairs(target, rows)
    labels = list(LABELS)
    matrix = [[sum(1 for t, p in pairs if t == a and p == b) for b in labels] for a in labels]
    support = {label: sum(1 for t, _ in pairs if t == label) for label in labels}
    return {"labels": labels, "confusion_matrix": matrix, "support": support}


def _percentile(values: Sequence[float], q: float) -> float | None:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else None


def _usage(target: str, rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    results = [row["results"][target] for row in rows]
    prompt = sum(r["usage"]["prompt_tokens"] for r in results if not r["cached"])
    completion = sum(r["usage"]["completion_tokens"] for r in results if not r["cached"])
    latencies = [r["latency_s"] for r in results if r["error"] is None and not r["cached"]]
    rate = (0.15, 0.60) if target == "base" else (0.30, 1.20)  # $ per 1M tokens: fine-tunes cost more
    return {
        "calls": sum(1 for r in results if not r["cached"]),
        "cached": sum(1 for r in results if r["cached"]),
        "errors": sum(1 for r in results if r["error"] is not None),
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "latency_p50_s": _percentile(latencies, 0.5),
        "latency_p95_s": _percentile(latencies, 0.95),
        "cost_usd": round((prompt * rate[0] + completion * rate[1]) / 1e6, 6),
    }


def _judge_usage(rows: Sequence[dict[str, Any]], targets: Sequence[_Target]) -> dict[str, Any]:
    calls = sum(1 for row in rows for t in targets if row["results"][t.name]["error"] is None)
    return {
        "model": "gpt-4o", "calls": calls, "cached": 0, "prompt_tokens": calls * 310, "completion_tokens": calls * 42,
        "cost_usd": round((calls * 310 * 2.5 + calls * 42 * 10.0) / 1e6, 6),
    }


def _comparisons(targets: Sequence[_Target], rows: Sequence[dict[str, Any]], metrics: dict[str, Any]) -> list[Any]:
    found = []
    for metric in ("exact", "classify.macro_f1", "judge"):
        raw = []
        for target in targets[1:]:
            a, b = metrics[target.name][metric]["value"], metrics["base"][metric]["value"]
            n = metrics[target.name][metric]["n"]
            delta = a - b
            half = 1.96 * math.sqrt(max(a * (1 - a) + b * (1 - b), 1e-4) / max(n, 1)) * 0.8
            p = min(1.0, math.erfc(abs(delta) / (half / 1.96) / math.sqrt(2))) if half else 1.0
            test = "mcnemar-exact" if metric == "exact" else "paired-bootstrap" if "." in metric else "sign-flip-permutation"
            raw.append({
                "target": target.name, "versus": "base", "metric": metric, "delta": delta,
                "ci": [delta - half, delta + half], "p_value": p, "test": test, "n": n,
            })
        _holm(raw)
        found += raw
    return found


def _holm(comparisons: list[dict[str, Any]]) -> None:
    order = sorted(range(len(comparisons)), key=lambda i: comparisons[i]["p_value"])
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(order) - rank) * comparisons[i]["p_value"]))
        comparisons[i]["p_adjusted"] = running


def _flips(target: str, versus: str, rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    fixed, broken, both_right, both_wrong = [], [], 0, 0
    for row in rows:
        a, b = row["results"][target]["scores"].get("exact"), row["results"][versus]["scores"].get("exact")
        if a is None or b is None:
            continue
        if a and not b:
            fixed.append(row["id"])
        elif b and not a:
            broken.append(row["id"])
        elif a:
            both_right += 1
        else:
            both_wrong += 1
    return {
        "target": target, "versus": versus, "scorer": "exact", "fixed": len(fixed), "broken": len(broken),
        "both_right": both_right, "both_wrong": both_wrong, "fixed_ids": fixed, "broken_ids": broken,
    }


def _training(last: int, rng: random.Random) -> list[dict[str, Any]]:
    steps = []
    for step in range(1, last + 1):
        x = step / last
        record: dict[str, Any] = {"step": step, "job": JOB}
        record["train_loss"] = round(2.3 * math.exp(-3.2 * x) + 0.12 + rng.gauss(0, 0.06), 4)
        record["train_mean_token_accuracy"] = round(min(1.0, 0.55 + 0.4 * x + rng.gauss(0, 0.02)), 4)
        if step % 5 == 0:
            record["valid_loss"] = round(2.2 * math.exp(-3.0 * x) + 0.2 + 0.35 * x * x + rng.gauss(0, 0.04), 4)
        steps.append(record)
    return steps


def _job(targets: Sequence[_Target]) -> dict[str, Any]:
    checkpoints = [{"step": t.step, "model": t.model} for t in targets if t.role == "checkpoint"]
    return {
        "id": JOB, "status": "succeeded", "base_model": BASE_MODEL, "fine_tuned_model": FINAL_MODEL,
        "training_file": "file-Tr41n1ng", "validation_file": "file-Va1id4t10n",
        "hyperparameters": {"n_epochs": len(checkpoints), "batch_size": 8, "learning_rate_multiplier": 1.8},
        "trained_tokens": 48213, "method": {"type": "supervised"}, "checkpoints": checkpoints,
    }


def _recommendation(targets: Sequence[_Target], metrics: dict[str, Any]) -> dict[str, Any]:
    metric = "classify.macro_f1"
    tuned = [t for t in targets if t.role in ("checkpoint", "final")]
    best = max(tuned, key=lambda t: (metrics[t.name][metric]["value"], t.role == "final"))
    final = metrics["final"][metric]["value"]
    overfit = best.role != "final"
    reason = (
        f"{best.name} scores {metrics[best.name][metric]['value']:.3f} on {metric}, "
        + (f"above final's {final:.3f}: later steps may be overfitting" if overfit else "the best of all checkpoints")
    )
    return {
        "metric": metric, "best": best.name, "best_step": best.step, "value": metrics[best.name][metric]["value"],
        "final": "final", "final_value": final, "overfitting": overfit, "reason": reason,
    }


def _gate(metrics: dict[str, Any], comparisons: Sequence[dict[str, Any]]) -> dict[str, Any]:
    f1 = metrics["final"]["classify.macro_f1"]["value"]
    errors = metrics["final"]["error_rate"]["value"]
    versus = next(c for c in comparisons if c["target"] == "final" and c["metric"] == "exact")
    rules = [
        {"target": "final", "metric": "classify.macro_f1", "min": 0.8, "value": f1, "passed": f1 >= 0.8,
         "reason": f"final classify.macro_f1 = {f1:.3f} {'≥' if f1 >= 0.8 else '<'} 0.800 (min)"},
        {"target": "final", "metric": "error_rate", "max": 0.02, "value": errors, "passed": errors <= 0.02,
         "reason": f"final error_rate = {errors:.3f} {'≤' if errors <= 0.02 else '>'} 0.020 (max)"},
        {"target": "final", "metric": "exact", "value": versus["delta"], "passed": versus["ci"][0] >= -0.02,
         "reason": (
             f"final vs base on exact: Δ = {versus['delta']:+.3f}, 95% CI lower bound "
             f"{versus['ci'][0]:+.3f} {'≥' if versus['ci'][0] >= -0.02 else '<'} −0.020 (non-inferiority margin)"
         )},
    ]
    return {"verdict": "go" if all(r["passed"] for r in rules) else "no-go", "rules": rules}
