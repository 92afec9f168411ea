"""The report's charts: plain series in, inline ``<svg>`` text out, drawn by matplotlib's SVG backend.

Output is deterministic (a fixed hash salt, text kept as ``<text>``, no date or creator), ready to sit
inline in the page: no XML prolog, metadata or comments, element ids prefixed per chart so several
charts can share one page, and the size left to CSS. matplotlib escapes every text it writes and never
reads labels as mathtext here, so a target or label name is shown as it is. matplotlib is imported only
when a chart is drawn.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["Band", "Heatmap", "Line", "checkpoint_curve_svg", "confusion_svg"]

_RC: dict[str, Any] = {
    "svg.hashsalt": "evalkit",
    "svg.fonttype": "none",
    "text.parse_math": False,
    "text.usetex": False,
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans"],
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": "#8c959f",
    "axes.labelcolor": "#1f2328",
    "xtick.color": "#57606a",
    "ytick.color": "#57606a",
    "axes.grid": True,
    "grid.color": "#e6e9ed",
    "grid.linewidth": 0.6,
    "legend.frameon": False,
    "legend.fontsize": 8,
    "figure.dpi": 72,
}
METRIC_COLOURS = ("#0969da", "#8250df", "#1a7f37", "#bc4c00")
LOSS_COLOURS = {"train_loss": "#afb8c1", "valid_loss": "#cf222e", "full_valid_loss": "#9a6700"}
_PROLOG = re.compile(r"\A.*?(?=<svg\b)", re.DOTALL)
_DROP = re.compile(r"<metadata>.*?</metadata>|<!--.*?-->|<style[^>]*>.*?</style>", re.DOTALL)
_SIZE = re.compile(r'<svg([^>]*?) width="([\d.]+)pt" height="([\d.]+)pt"')
_IDS = re.compile(r'(\bid="|url\(#|href="#)([^")]+)')


@dataclass(frozen=True, slots=True)
class Band:
    """A 95% interval drawn as a shaded band around a line."""

    low: Sequence[float | None]
    """Lower bound per point (None where unknown)."""
    high: Sequence[float | None]
    """Upper bound per point."""


@dataclass(frozen=True, slots=True)
class Line:
    """One named series of (x, y) points."""

    label: str
    """Legend text."""
    x: Sequence[float]
    """Positions along the x axis."""
    y: Sequence[float | None]
    """Values (None leaves a gap)."""
    band: Band | None = None
    """Its confidence band, if any."""
    colour: str | None = None
    """Fixed colour; the palette's next one otherwise."""
    marks: Sequence[str] = field(default_factory=tuple)
    """Per point a marker style ("o", "D", …) or "" for the line's default."""


def checkpoint_curve_svg(
    metrics: Sequence[Line],
    losses: Sequence[Line],
    *,
    best_step: float | None = None,
    best_label: str = "best",
    ident: str = "0",
) -> str:
    """Eval metrics per training step with CI bands (left axis), losses on a second axis (right)."""
    with _style():
        fig, ax = _figure(8.4, 3.6)
        for colour, line in zip(_cycle(METRIC_COLOURS), metrics, strict=False):
            _draw_metric(ax, line, line.colour or colour)
        ax.set_xlabel("training step")
        ax.set_ylabel("score")
        if best_step is not None:
            ax.axvline(best_step, color="#1a7f37", linestyle=(0, (4, 3)), linewidth=1)
            ax.annotate(best_label, (best_step, 1.0), xycoords=("data", "axes fraction"), xytext=(-4, -4),
                        textcoords="offset points", color="#1a7f37", fontsize=8, ha="right", va="top")
        handles, labels = ax.get_legend_handles_labels()
        if losses:
            loss_ax = ax.twinx()
            loss_ax.grid(False)
            loss_ax.spines["right"].set_visible(True)
            for line in losses:
                loss_ax.plot(line.x, _gaps(line.y), color=line.colour or "#57606a", linewidth=1, label=line.label)
            loss_ax.set_ylabel("loss")
            more_handles, more_labels = loss_ax.get_legend_handles_labels()
            handles, labels = handles + more_handles, labels + more_labels
        if handles:
            ax.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, -0.17), ncols=min(len(labels), 5))
        return _svg(fig, f"curve-{ident}")


@dataclass(frozen=True, slots=True)
class Heatmap:
    """One confusion matrix: rows the true label, columns the predicted one."""

    title: str
    """Shown above it (the target's name)."""
    labels: Sequence[str]
    """Row and column labels, in order."""
    matrix: Sequence[Sequence[int]]
    """Counts: ``matrix[true][predicted]``."""


def confusion_svg(panels: Sequence[Heatmap], *, per_row: int = 5) -> str:
    """Confusion matrices side by side as heatmaps (shaded by row share, counts written in), one figure."""
    columns = max(1, min(per_row, len(panels)))
    rows = -(-len(panels) // columns)
    size = max((len(panel.labels) for panel in panels), default=2)
    shared = all(list(panel.labels) == list(panels[0].labels) for panel in panels)
    side = 0.9 + 0.38 * max(size, 2)
    with _style():
        fig, axes = _grid(columns * side + 0.8, rows * (side + 0.5), rows, columns)
        for index, ax in enumerate(axes):
            if index >= len(panels):
                ax.set_visible(False)
                continue
            _heatmap(ax, panels[index], labels_left=index % columns == 0 or not shared)
        return _svg(fig, "confusion")


def prepare() -> None:
    """Draw a small chart now, so that matplotlib has loaded its fonts and renderers before the first real
    one (once per process: the CLI's sidecar does it while the calls are in flight)."""
    confusion_svg([Heatmap("", ["a", "b"], [[1, 0], [0, 1]])])


def _heatmap(ax: Axes, panel: Heatmap, *, labels_left: bool) -> None:
    size = len(panel.labels)
    shares = [[count / max(sum(row), 1) for count in row] for row in panel.matrix]
    ax.pcolormesh(shares, cmap="Blues", vmin=0.0, vmax=1.0, edgecolors="#ffffff", linewidth=0.5)
    ax.set_aspect("equal")
    ax.invert_yaxis()
    ax.grid(False)
    names = [_short(str(label)) for label in panel.labels]
    centres = [i + 0.5 for i in range(size)]
    ax.set_xticks(centres, names, rotation=45, ha="right")
    ax.set_yticks(centres, names if labels_left else [""] * size)
    ax.set_xlabel("predicted")
    if labels_left:
        ax.set_ylabel("true")
    ax.set_title(panel.title, fontsize=9, loc="left", pad=8)
    for (i, j), count in _cells(panel.matrix):
        colour = "#ffffff" if shares[i][j] > 0.55 else "#1f2328"
        ax.text(j + 0.5, i + 0.5, str(count), ha="center", va="center", color=colour, fontsize=8 if size <= 8 else 6)


@contextmanager
def _style() -> Iterator[None]:
    import matplotlib

    with matplotlib.rc_context(cast(Any, _RC)):  # matplotlib types rc keys as a closed Literal set
        yield


def _figure(width: float, height: float) -> tuple[Figure, Axes]:
    fig, axes = _grid(width, height, 1, 1)
    return fig, axes[0]


def _grid(width: float, height: float, rows: int, columns: int) -> tuple[Figure, list[Axes]]:
    from matplotlib.figure import Figure  # no pyplot: no global state, no GUI backend

    fig = Figure(figsize=(width, height), layout="constrained")
    fig.get_layout_engine().set(w_pad=0.06, h_pad=0.1)  # type: ignore[union-attr, call-arg]
    axes = fig.subplots(rows, columns, squeeze=False)
    return fig, [ax for row in axes for ax in row]


def _draw_metric(ax: Axes, line: Line, colour: str) -> None:
    ys = _gaps(line.y)
    ax.plot(line.x, ys, color=colour, linewidth=1.6, marker="o", markersize=4, label=line.label)
    for x, y, mark in zip(line.x, ys, line.marks, strict=False):
        if mark:
            ax.plot([x], [y], linestyle="none", marker=mark, markersize=7, color=colour,
                    markeredgecolor="#ffffff")
    if line.band is not None:
        lows, highs = _gaps(line.band.low), _gaps(line.band.high)
        ax.fill_between(line.x, lows, highs, color=colour, alpha=0.10, linewidth=0)


def _gaps(values: Sequence[float | None]) -> list[float]:
    return [float("nan") if value is None else float(value) for value in values]


def _cycle(colours: Sequence[str]) -> Iterator[str]:
    while True:
        yield from colours


def _cells(matrix: Sequence[Sequence[int]]) -> Iterator[tuple[tuple[int, int], int]]:
    for i, row in enumerate(matrix):
        for j, count in enumerate(row):
            yield (i, j), count


def _short(label: str, limit: int = 18) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


def _svg(fig: Figure, prefix: str) -> str:
    """The figure as inline SVG text: no prolog, metadata, comments or style; ids prefixed; CSS-sized."""
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    text = _DROP.sub("", _PROLOG.sub("", buffer.getvalue(), count=1))
    safe_prefix = re.sub(r"[^A-Za-z0-9_-]", "_", prefix)
    text = _IDS.sub(lambda m: f"{m.group(1)}{safe_prefix}-{m.group(2)}", text)
    return _SIZE.sub(
        lambda m: f'<svg{m.group(1)} class="chart" role="img" style="max-width: {float(m.group(2)) * 4 / 3:.0f}px"',
        text,
        count=1,
    ).strip()
