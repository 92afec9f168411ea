"""Benchmark: render report.html for a large run (default 10,000 cases × 5 targets); print time and size.

    .venv/bin/python bench/render_report.py [--cases N] [--checkpoints K] [--out FILE]

The run is ``fixtures.sample``'s synthetic ticket-triage job (base, K checkpoints, final), so the
page has every section: metrics with CIs, the checkpoint curve, confusion heatmaps, flips and the cases.
Rendering is timed from the run's ``RunResults`` to the written file, as ``evalkit report`` does it after
reading results.json. Exits 1 when the render is over the budget (15 s, 25 MB), so CI can run it as a check.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

TESTS_DIR = Path(__file__).resolve().parents[1] / "tests"
if str(TESTS_DIR) not in sys.path:
    sys.path.insert(0, str(TESTS_DIR))  # ``fixtures`` lives in the repo's tests/

from fixtures.sample import sample_results

from evalkit.report import render_html

BUDGET_SECONDS = 15.0
BUDGET_BYTES = 25 * 1024 * 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--checkpoints", type=int, default=3, help="targets = checkpoints + 2 (base, final)")
    parser.add_argument("--out", type=Path, help="where to write the report (default: a temporary file)")
    args = parser.parse_args(argv)

    results = sample_results(cases=args.cases, checkpoints=args.checkpoints)
    targets = len(results.targets)
    with tempfile.TemporaryDirectory() as scratch:
        out = args.out or Path(scratch) / "report.html"
        start = time.perf_counter()
        out.write_text(render_html(results), encoding="utf-8")
        seconds = time.perf_counter() - start
        size = out.stat().st_size
    print(f"{args.cases:,} cases × {targets} targets: rendered in {seconds:.2f} s, {size / 1024 / 1024:.1f} MB")
    print(f"budget: {BUDGET_SECONDS:.0f} s, {BUDGET_BYTES / 1024 / 1024:.0f} MB")
    over = seconds > BUDGET_SECONDS or size > BUDGET_BYTES
    if over:
        print("over budget", file=sys.stderr)
    return 1 if over else 0


if __name__ == "__main__":
    raise SystemExit(main())
