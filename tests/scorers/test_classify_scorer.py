"""classify: reading a label from an output, and classification metrics that agree with sklearn."""

from __future__ import annotations

import asyncio
import random

import pytest
from sklearn.metrics import (
    accuracy_score,
    cohen_kappa_score,
    confusion_matrix,
    f1_score,
    precision_recall_fscore_support,
    precision_score,
    recall_score,
)

from evalkit.records import Case, Score
from evalkit.scorers import UNPARSED, ClassifyScorer

QUEUES = ["billing", "technical", "account", "Late delivery"]


def case(reference: str, case_id: str = "c1") -> Case:
    return Case(id=case_id, reference=reference, messages=({"role": "user", "content": "..."},))


def score(scorer: ClassifyScorer, output: str, reference: str = "billing") -> Score:
    return asyncio.run(scorer.score(output, case(reference)))


def predicted(scorer: ClassifyScorer, output: str) -> str | None:
    return score(scorer, output).answer


@pytest.mark.parametrize(
    ("output", "label"),
    [
        ("Technical, not billing", "technical"),
        ("billing — though it could be technical", "billing"),
        ("Queue: LATE DELIVERY", "Late delivery"),
        ('"Billing."', "billing"),
        ("**Account**", "account"),
        ("late\n  delivery", "Late delivery"),
        ("The accounts team (technical)", "technical"),  # "accounts" is not the word "account"
        ("no idea", UNPARSED),
        ("", UNPARSED),
    ],
)
def test_first_mention_picks_the_earliest_whole_word_label(output: str, label: str) -> None:
    assert predicted(ClassifyScorer(QUEUES), output) == label


def test_on_a_tie_the_longer_label_wins() -> None:
    scorer = ClassifyScorer(["account", "account access", "billing"])
    assert predicted(scorer, "Account access, then billing") == "account access"
    assert predicted(scorer, "account, then account access") == "account"


def test_exact_match_needs_the_whole_normalised_output() -> None:
    scorer = ClassifyScorer(QUEUES, match="exact")
    assert predicted(scorer, '  "Technical!" ') == "technical"
    assert predicted(scorer, "late delivery.") == "Late delivery"
    assert predicted(scorer, "It is technical") == UNPARSED


def test_casefold_off_makes_case_matter() -> None:
    scorer = ClassifyScorer(["Billing", "Tech"], casefold=False)
    assert predicted(scorer, "billing") == UNPARSED
    assert predicted(scorer, "Billing") == "Billing"


def test_answer_is_the_label_as_spelled_and_value_compares_with_the_reference() -> None:
    scorer = ClassifyScorer(["Billing", "Technical"])
    right = score(scorer, "billing", reference="BILLING.")
    assert (right.value, right.answer, right.explanation) == (1.0, "Billing", None)
    wrong = score(scorer, "technical", reference="Billing")
    assert (wrong.value, wrong.answer) == (0.0, "Technical")
    lost = score(scorer, "dunno", reference="Billing")
    assert (lost.value, lost.answer, lost.explanation) == (0.0, UNPARSED, "no label found in the output")


def test_check_reference_names_the_labels() -> None:
    scorer = ClassifyScorer(QUEUES)
    assert scorer.check_reference("Billing") is None
    assert scorer.check_reference("sales") == (
        "reference 'sales' is not one of the labels (billing, technical, account, Late delivery)"
    )


def random_run(seed: int, n: int = 300) -> tuple[list[Case], list[Score | None], list[str], list[str]]:
    """Random predictions with unparsed answers and errored calls mixed in.

    Returns the cases, the scorer's scores, and — computed independently of the scorer — the true and
    predicted labels of the cases that did not error.
    """
    rng = random.Random(seed)
    scorer = ClassifyScorer(QUEUES)
    cases: list[Case] = []
    scores: list[Score | None] = []
    y_true: list[str] = []
    y_pred: list[str] = []
    for i in range(n):
        truth = rng.choice(QUEUES)
        item = case(rng.choice([truth, truth.upper(), f" {truth}. "]), case_id=f"c{i}")
        cases.append(item)
        roll = rng.random()
        if roll < 0.1:  # the call errored: no score
            scores.append(None)
            continue
        guess = truth if roll < 0.55 else rng.choice(QUEUES)
        output = "I can't tell." if roll > 0.9 else f"This looks like {guess.casefold()}, I think."
        scores.append(asyncio.run(scorer.score(output, item)))
        y_true.append(truth)
        y_pred.append(UNPARSED if roll > 0.9 else guess)
    return cases, scores, y_true, y_pred


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_every_aggregate_equals_sklearn_on_the_same_labels(seed: int) -> None:
    cases, scores, y_true, y_pred = random_run(seed)
    assert UNPARSED in y_pred and None in scores
    result = ClassifyScorer(QUEUES).aggregate(cases, scores)
    got = result.metrics
    expected = {
        "accuracy": accuracy_score(y_true, y_pred),
        "macro_f1": f1_score(y_true, y_pred, labels=QUEUES, average="macro", zero_division=0),
        "weighted_f1": f1_score(y_true, y_pred, labels=QUEUES, average="weighted", zero_division=0),
        "macro_precision": precision_score(y_true, y_pred, labels=QUEUES, average="macro", zero_division=0),
        "macro_recall": recall_score(y_true, y_pred, labels=QUEUES, average="macro", zero_division=0),
        "kappa": cohen_kappa_score(y_true, y_pred),
        "unparsed_rate": y_pred.count(UNPARSED) / len(y_pred),
    }
    per_class = precision_recall_fscore_support(y_true, y_pred, labels=QUEUES, zero_division=0)
    for kind, values in zip(("precision", "recall", "f1"), per_class[:3], strict=True):
        expected.update({f"{kind}.{label}": v for label, v in zip(QUEUES, values, strict=True)})
    assert set(got) == set(expected)
    for name, value in expected.items():
        assert got[name] == pytest.approx(float(value), abs=1e-12), name
        assert type(got[name]) is float, name
    shown = [*QUEUES, UNPARSED]
    assert result.details["labels"] == shown
    assert result.details["confusion_matrix"] == confusion_matrix(y_true, y_pred, labels=shown).tolist()
    assert result.details["support"] == {label: y_true.count(label) for label in QUEUES}
    assert result.n == len(y_true)


def test_unparsed_is_a_wrong_answer_in_no_class() -> None:
    scorer = ClassifyScorer(["billing", "technical"])
    cases = [case("billing", "a"), case("billing", "b"), case("technical", "c")]
    scores = [score(scorer, "billing"), score(scorer, "???"), score(scorer, "technical")]
    metrics = scorer.aggregate(cases, scores).metrics
    assert metrics["accuracy"] == pytest.approx(2 / 3)
    assert metrics["precision.billing"] == 1.0  # the unparsed answer is no false positive of any class
    assert metrics["recall.billing"] == 0.5
    assert metrics["unparsed_rate"] == pytest.approx(1 / 3)


def test_without_unparsed_answers_the_matrix_has_only_the_labels() -> None:
    scorer = ClassifyScorer(["billing", "technical"])
    cases = [case("billing", "a"), case("technical", "b")]
    details = scorer.aggregate(cases, [score(scorer, "technical"), score(scorer, "technical")]).details
    assert details["labels"] == ["billing", "technical"]
    assert details["confusion_matrix"] == [[0, 1], [0, 1]]


def test_no_scored_case_makes_every_aggregate_none() -> None:
    scorer = ClassifyScorer(["billing", "technical"])
    result = scorer.aggregate([case("billing", "a"), case("technical", "b")], [None, None])
    assert result.metrics and all(value is None for value in result.metrics.values())
    assert "f1.technical" in result.metrics
    assert result.n == 0


def test_undefined_kappa_is_none_not_nan() -> None:
    scorer = ClassifyScorer(["billing", "technical"])
    cases = [case("billing", "a"), case("billing", "b")]
    metrics = scorer.aggregate(cases, [score(scorer, "billing"), score(scorer, "billing")]).metrics
    assert metrics["kappa"] is None
    assert metrics["accuracy"] == 1.0


def test_cases_whose_reference_is_no_label_are_left_out_of_aggregates() -> None:
    scorer = ClassifyScorer(["billing", "technical"])
    cases = [case("billing", "a"), case("sales", "b")]
    result = scorer.aggregate(cases, [score(scorer, "billing"), score(scorer, "billing", "sales")])
    assert result.n == 1
    assert result.metrics["accuracy"] == 1.0
