"""Standard UQ test functions with analytic references: Ishigami, Sobol' G, borehole.

They are not physics; they check the methods. Analytic moments and Sobol' indices are given by
:func:`ishigami_reference` and :func:`sobol_g_reference`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from uqbridge import ForwardModel, Input, LogNormal, Normal, Output, Uniform

__all__ = ["borehole", "ishigami", "ishigami_reference", "sobol_g", "sobol_g_reference"]


def ishigami(a: float = 7.0, b: float = 0.1) -> ForwardModel:
    """Ishigami function ``sin x1 + a sin² x2 + b x3⁴ sin x1`` with ``x_i ~ U(-π, π)``.

    Source: Ishigami & Homma (1990), *An importance quantification technique in uncertainty
    analysis for computer models*, ISUMA '90. ``x2`` is tagged epistemic, ``x1`` and ``x3``
    aleatory (an arbitrary tagging for testing the law-of-total-variance split).

    Examples
    --------
    >>> m = ishigami()
    >>> float(m(x1=np.pi / 2, x2=np.pi / 2, x3=0.0)["y"][0])
    8.0
    """

    def function(x1, x2, x3, xp: Any = np):
        return {"y": xp.sin(x1) + a * xp.sin(x2) ** 2 + b * x3**4 * xp.sin(x1)}

    box = Uniform(-math.pi, math.pi)
    return ForwardModel(
        "ishigami",
        function,
        [Input("x1", box, "aleatory"), Input("x2", box, "epistemic"), Input("x3", box, "aleatory")],
        [Output("y", "", "Ishigami function value")],
        description=f"Ishigami test function (a={a}, b={b})",
        differentiable=True,
    )


def ishigami_reference(a: float = 7.0, b: float = 0.1) -> dict[str, Any]:
    """Analytic mean, variance and Sobol' indices of the Ishigami function.

    Source: Sobol' & Levitan (1999); also Saltelli et al., *Global Sensitivity Analysis: The
    Primer* (2008), and the UQLab/OpenTURNS benchmark pages.

    Examples
    --------
    >>> r = ishigami_reference()
    >>> round(r["variance"], 4), round(float(r["S1"][0]), 4)
    (13.8446, 0.3139)
    """
    pi = math.pi
    v1 = 0.5 * (1 + b * pi**4 / 5) ** 2
    v2 = a**2 / 8
    v13 = b**2 * pi**8 * (1 / 18 - 1 / 50)
    var = v1 + v2 + v13
    return {
        "mean": a / 2,
        "variance": var,
        "S1": np.array([v1, v2, 0.0]) / var,
        "ST": np.array([v1 + v13, v2, v13]) / var,
        "S13": v13 / var,
        "S12": 0.0,
        "S23": 0.0,
    }


def sobol_g(a: Sequence[float] = (0.0, 1.0, 4.5, 9.0, 99.0, 99.0, 99.0, 99.0)) -> ForwardModel:
    """Sobol' G-function ``Π (|4x_i − 2| + a_i) / (1 + a_i)`` with ``x_i ~ U(0, 1)``.

    Source: Saltelli & Sobol' (1995), *About the use of rank transformation in sensitivity
    analysis of model output*, Reliab. Eng. Syst. Saf. 50. Small ``a_i`` = important input.
    Odd-numbered inputs are tagged epistemic.

    Examples
    --------
    >>> float(sobol_g((0.0, 1.0))(x1=0.5, x2=0.5)["y"][0])
    0.0
    """
    a = tuple(float(v) for v in a)
    names = [f"x{k + 1}" for k in range(len(a))]

    def function(xp: Any = np, **x):
        y = 1.0
        for name, ak in zip(names, a):
            y = y * (xp.abs(4 * x[name] - 2) + ak) / (1 + ak)
        return {"y": y}

    return ForwardModel(
        "sobol_g",
        function,
        [Input(n, Uniform(0.0, 1.0), "epistemic" if k % 2 == 0 else "aleatory") for k, n in enumerate(names)],
        [Output("y", "", "G-function value")],
        description=f"Sobol' G-function (a={list(a)})",
        differentiable=True,
    )


def sobol_g_reference(a: Sequence[float] = (0.0, 1.0, 4.5, 9.0, 99.0, 99.0, 99.0, 99.0)) -> dict[str, Any]:
    """Analytic mean (1), variance and first/total Sobol' indices of the G-function.

    ``V_i = 1 / (3 (1 + a_i)²)``, ``Var = Π (1 + V_i) − 1`` (Saltelli & Sobol' 1995).

    Examples
    --------
    >>> round(float(sobol_g_reference([0.0])["S1"][0]), 12)
    1.0
    """
    vi = 1.0 / (3.0 * (1.0 + np.asarray(a, dtype=float)) ** 2)
    var = float(np.prod(1 + vi) - 1)
    st = np.array([vi[k] * np.prod(np.delete(1 + vi, k)) for k in range(vi.size)]) / var
    return {"mean": 1.0, "variance": var, "S1": vi / var, "ST": st}


def borehole() -> ForwardModel:
    """Borehole water-flow function (m³/yr) with its standard input distributions.

    Source: Harper & Gupta (1983), NUREG/CR-3328; distributions as in Surjanovic & Bingham,
    *Virtual Library of Simulation Experiments* (SFU), and Morris, Mitchell & Ylvisaker (1993).

    Examples
    --------
    >>> m = borehole()
    >>> y = m(rw=0.1, r=1000.0, Tu=89335.0, Hu=1050.0, Tl=89.55, Hl=760.0, L=1400.0, Kw=10950.0)["y"]
    >>> round(float(y[0]), 3)
    70.972
    """

    def function(rw, r, Tu, Hu, Tl, Hl, L, Kw, xp: Any = np):
        log_ratio = xp.log(r / rw)
        return {"y": 2 * math.pi * Tu * (Hu - Hl) / (log_ratio * (1 + 2 * L * Tu / (log_ratio * rw**2 * Kw) + Tu / Tl))}

    return ForwardModel(
        "borehole",
        function,
        [
            Input("rw", Normal(0.10, 0.0161812), "aleatory", "m", "radius of borehole"),
            Input("r", LogNormal(7.71, 1.0056), "aleatory", "m", "radius of influence"),
            Input("Tu", Uniform(63070.0, 115600.0), "epistemic", "m^2/yr", "transmissivity of upper aquifer"),
            Input("Hu", Uniform(990.0, 1110.0), "aleatory", "m", "potentiometric head of upper aquifer"),
            Input("Tl", Uniform(63.1, 116.0), "epistemic", "m^2/yr", "transmissivity of lower aquifer"),
            Input("Hl", Uniform(700.0, 820.0), "aleatory", "m", "potentiometric head of lower aquifer"),
            Input("L", Uniform(1120.0, 1680.0), "aleatory", "m", "length of borehole"),
            Input("Kw", Uniform(9855.0, 12045.0), "epistemic", "m/yr", "hydraulic conductivity of borehole"),
        ],
        [Output("y", "m^3/yr", "water flow rate")],
        description="Borehole water-flow function (Harper & Gupta 1983)",
        differentiable=True,
    )
