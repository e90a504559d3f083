"""Matplotlib figures of uqbridge result Datasets (one module per analysis).

Figures are built on ``matplotlib.figure.Figure`` without pyplot, so they work headless and in reports.
"""

from .._optional import require

require("uqbridge.plots (figures and reports)", "reports", "matplotlib")


__all__: list[str] = []
