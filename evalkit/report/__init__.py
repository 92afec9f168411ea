"""The human-facing outputs of a run, rendered from the results.json dict alone (no model calls).

html.py     report.html — one self-contained page: verdict, metrics, targets, every case
junit.py    junit.xml — one test case per gate rule, for CI systems
summary.py  summary.md — verdict and headline metrics in Markdown (e.g. a CI job summary)
"""

from __future__ import annotations

from evalkit.report.html import render_html
from evalkit.report.junit import render_junit
from evalkit.report.summary import headline_metrics, render_summary

__all__ = ["headline_metrics", "render_html", "render_junit", "render_summary"]
