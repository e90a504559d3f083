"""Matplotlib figures of uqbridge result Datasets (one module per analysis).

Figures are built on ``matplotlib.figure.Figure`` without pyplot, so they work headless and in reports.
"""

__all__: list[str] = []
