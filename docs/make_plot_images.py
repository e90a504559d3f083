"""Make the images of docs/api/plots.md: each plot function's own docstring example, run and saved.

Run from the repository root: ``python docs/make_plot_images.py`` (about a minute; writes
docs/images/plots/<function>.png). The examples are the doctests, so the images show exactly what the
documented call draws.
"""

from __future__ import annotations

import doctest
import importlib
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure, SubFigure  # noqa: E402

MODULES = ("propagation", "sensitivity", "reliability", "calibration")
OUT = Path(__file__).resolve().parent / "images" / "plots"


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name in MODULES:
        module = importlib.import_module(f"uqbridge.plots.{name}")
        for function in module.__all__:
            plt.close("all")
            namespace = dict(vars(module))
            for example in doctest.DocTestParser().get_examples(getattr(module, function).__doc__ or ""):
                exec(compile(example.source, f"{name}.{function}", "exec"), namespace)  # noqa: S102 - our docstrings
            figures = [v for v in namespace.values() if isinstance(v, (Figure, SubFigure))]
            figure = figures[-1] if figures else plt.gcf()
            figure = figure.figure if isinstance(figure, SubFigure) else figure
            figure.savefig(OUT / f"{function}.png", dpi=80, bbox_inches="tight")
            print(f"wrote {OUT / f'{function}.png'}")


if __name__ == "__main__":
    main()
