"""The classify scorer's figures over many bootstrap resamples at once, without a loop per resample.

Cases with the same (true, predicted) classes are interchangeable, so a resample is a tally of how many
cases of each kind it drew (``evalkit.analysis.stats.bootstrap_tallies``); ``confusions`` turns a matrix of tallies
into one confusion matrix per resample with one matrix product, and ``figures`` computes every figure
from those matrices with array arithmetic, following ``sklearn.metrics`` exactly (``labels=`` the
scorer's labels, ``zero_division=0``; kappa over the labels plus ``unparsed``, NaN when undefined). The
last class index is ``unparsed``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from evalkit.analysis.cases import CLASSIFY_FIGURES, PER_LABEL

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray


def kinds_of(*columns: NDArray[np.integer[Any]]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """The distinct rows of the given per-case columns (e.g. true and predicted class), one column each,
    and how many cases share each row: the kinds of case a bootstrap draws from."""
    import numpy as np

    stacked = np.stack([np.asarray(column, dtype=np.int64) for column in columns], axis=1)
    distinct, counts = np.unique(stacked, axis=0, return_counts=True)
    return distinct, counts


def confusions(
    tallies: NDArray[np.float64],
    true: NDArray[np.int64],
    predicted: NDArray[np.int64],
    classes: int,
) -> NDArray[np.float64]:
    """One confusion matrix (rows: true class, columns: predicted) per row of ``tallies`` (cases drawn
    of each kind; kind k has classes ``true[k]``, ``predicted[k]``): shape (rows, classes, classes)."""
    import numpy as np

    cells = np.zeros((true.size, classes * classes))
    cells[np.arange(true.size), true * classes + predicted] = 1.0
    return (tallies @ cells).reshape(tallies.shape[0], classes, classes)


def figures(confusion: NDArray[np.float64], labels: Sequence[str]) -> dict[str, NDArray[np.float64]]:
    """Every classify figure (``accuracy``, ``macro_f1``, …, ``f1.<label>``, ``unparsed_rate``) of each
    confusion matrix, as arrays of shape (rows,)."""
    import numpy as np

    matrix = np.asarray(confusion, dtype=np.float64)
    count = len(labels)
    total = matrix.sum(axis=(1, 2))
    diagonal = np.diagonal(matrix, axis1=1, axis2=2)
    true_sum = matrix.sum(axis=2)[:, :count]
    predicted_sum = matrix.sum(axis=1)[:, :count]
    hits = diagonal[:, :count]
    precision = _divide(hits, predicted_sum)
    recall = _divide(hits, true_sum)
    f1 = _divide(2.0 * hits, true_sum + predicted_sum)
    found: dict[str, NDArray[np.float64]] = {
        "accuracy": diagonal.sum(axis=1) / total,
        "macro_f1": f1.mean(axis=1),
        "weighted_f1": _divide((f1 * true_sum).sum(axis=1), true_sum.sum(axis=1)),
        "macro_precision": precision.mean(axis=1),
        "macro_recall": recall.mean(axis=1),
        "kappa": _kappa(matrix, diagonal, total),
    }
    assert set(found) == set(CLASSIFY_FIGURES)
    for kind, values in zip(PER_LABEL, (precision, recall, f1), strict=True):
        found.update({f"{kind}.{label}": values[:, i] for i, label in enumerate(labels)})
    found["unparsed_rate"] = matrix[:, :, count].sum(axis=1) / total
    return found


def _kappa(
    matrix: NDArray[np.float64], diagonal: NDArray[np.float64], total: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Cohen's kappa as sklearn computes it: 1 − observed disagreement / disagreement expected by chance."""
    import numpy as np

    chance = (matrix.sum(axis=2) * matrix.sum(axis=1)).sum(axis=1) / total
    disagreement = total - diagonal.sum(axis=1)
    expected = total - chance
    with np.errstate(divide="ignore", invalid="ignore"):
        kappa = 1.0 - disagreement / expected
    return np.where(expected == 0, np.nan, kappa)


def _divide(numerator: NDArray[np.float64], denominator: NDArray[np.float64]) -> NDArray[np.float64]:
    """numerator / denominator, 0 where the denominator is 0 (sklearn's ``zero_division=0``)."""
    import numpy as np

    safe = np.where(denominator == 0, 1.0, denominator)
    return np.where(denominator == 0, 0.0, numerator / safe)
