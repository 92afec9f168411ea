"""The report's charts: inline SVG that shows names as they are, never runs anything, and never changes."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace

from fixtures.sample import sample_results

from evalkit.records.jobs import TrainingRecord
from evalkit.report.charts import Band, Heatmap, Line, checkpoint_curve_svg, confusion_svg
from evalkit.report.figures import curve_charts

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = '<script>alert(1)</script> $x^2$ "quoted" & --> <!--'


def texts(svg: str) -> list[str]:
    root = ET.fromstring(svg)
    return ["".join(node.itertext()) for node in root.iter(f"{SVG}text")]


def test_names_are_drawn_as_plain_text_and_nothing_can_run() -> None:
    svg = confusion_svg([Heatmap(HOSTILE, ["billing", HOSTILE[:12]], [[3, 1], [0, 2]])])
    root = ET.fromstring(svg)  # well-formed: nothing in a name broke out of its element
    tags = {node.tag.removeprefix(SVG) for node in root.iter()}
    assert not tags & {"script", "foreignObject", "a", "image", "style"}
    assert not [name for node in root.iter() for name in node.attrib if name.startswith("on")]
    assert HOSTILE in texts(svg)  # mathtext off: "$x^2$" is not typeset
    assert "<script>" not in svg and "<!--" not in svg


def test_charts_are_deterministic_and_sized_by_css() -> None:
    line = Line("exact", [0, 10, 20], [0.2, None, 0.7], band=Band([0.1, None, 0.6], [0.3, None, 0.8]),
                marks=["s", "", "D"])
    loss = Line("train loss", [1, 2, 3], [2.0, 1.5, 1.2])
    first = checkpoint_curve_svg([line], [loss], best_step=20, ident="a")
    assert first == checkpoint_curve_svg([line], [loss], best_step=20, ident="a")
    root = ET.fromstring(first)
    assert "width" not in root.attrib and root.attrib["class"] == "chart" and "viewBox" in root.attrib
    assert {"exact", "train loss", "best", "training step", "loss"} <= set(texts(first))
    ids = [node.attrib["id"] for node in root.iter() if "id" in node.attrib]
    assert ids and all(i.startswith("curve-a-") for i in ids)


def test_the_final_model_without_a_step_sits_at_the_last_training_step() -> None:
    run = sample_results(cases=8, checkpoints=2)
    run.targets = [replace(t, step=None) if t.role == "final" else t for t in run.targets]
    run.training = [TrainingRecord(step=s, train_loss=1.0 / s) for s in range(1, 101)]
    [chart] = curve_charts(run)
    assert "100" in texts(chart["svg"])  # the x axis reaches the last training step


def test_no_curve_without_steps_or_training() -> None:
    run = sample_results(cases=8, checkpoints=2)
    run.training, run.jobs = [], []
    run.targets = [replace(t, role="model", step=None) for t in run.targets]
    assert curve_charts(run) == []
