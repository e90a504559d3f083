"""Reference reliability problems with their exact failure probabilities (as OpenTURNS usecases).

Each problem is a :class:`ReliabilityProblem`: a limit state on a small closed-form model, the exact
Pf (closed form or one-dimensional quadrature) and the published source of the example.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import integrate, special, stats

from ..distributions import LogNormal, Normal
from ..inputs import Input
from ..model import ForwardModel, Output
from .limit_state import LimitState, SeriesSystem

__all__ = ["ReliabilityProblem", "linear", "four_branch", "parabolic", "r_minus_s"]


@dataclass(frozen=True, eq=False)
class ReliabilityProblem:
    """A limit state with its exact failure probability and the source of the example."""

    name: str
    limit_state: Any
    pf: float
    source: str

    @property
    def beta(self) -> float:
        """Generalised reliability index ``-Φ⁻¹(pf)`` of the exact Pf."""
        return float(-special.ndtri(self.pf))


def _standard_normals(d: int) -> list[Input]:
    return [Input(f"x{k + 1}", Normal(0.0, 1.0), "aleatory") for k in range(d)]


def linear(beta: float = 3.0, d: int = 2) -> ReliabilityProblem:
    """Linear limit state ``g = β − Σ x_i / √d`` in standard normal space; Pf = Φ(−β) exactly.

    FORM and SORM are exact for it (Hasofer & Lind 1974, J. Eng. Mech. Div. 100(1)).

    Examples
    --------
    >>> p = linear(4.75)
    >>> round(p.pf * 1e6, 3)
    1.017
    """
    beta = float(beta)

    def function(xp: Any = np, **x: Any) -> dict[str, Any]:
        s = 0.0
        for k in range(d):
            s = s + x[f"x{k + 1}"]
        return {"g": beta - s / math.sqrt(d)}

    model = ForwardModel(
        f"linear_beta{beta:g}", function, _standard_normals(d), [Output("g", "", "limit-state value")],
        description=f"linear limit state beta={beta:g} in {d} standard normals", differentiable=True,
    )
    return ReliabilityProblem(f"linear(beta={beta:g}, d={d})", LimitState(model, "g"), float(special.ndtr(-beta)),
                              "Hasofer & Lind (1974); exact Pf = Phi(-beta)")


def four_branch(k: float = 6.0) -> ReliabilityProblem:
    """Four-branch series system in two standard normals (Waarts 2000; Echard et al. 2011).

    ``g = min(3 + 0.1(x1−x2)² ∓ (x1+x2)/√2, ±(x1−x2) + k/√2)``, given here as a
    :class:`SeriesSystem` of the four branches (model outputs ``g1``…``g4``; ``g`` is the minimum).
    With ``v1 = (x1−x2)/√2`` and ``v2 = (x1+x2)/√2`` independent standard normals the safe domain is
    ``|v1| < k/2, |v2| < 3 + 0.2 v1²``, so the exact Pf is the 1-D integral
    ``1 − ∫_{−k/2}^{k/2} φ(v1) (2Φ(3 + 0.2 v1²) − 1) dv1``: 4.4573e-3 (k = 6) and 2.2228e-3 (k = 7),
    the published MC values being 4.46e-3 / 4.416e-3 and 2.22e-3 / 2.233e-3 (Schueremans & Van
    Gemert 2005, Struct. Saf. 27; Echard, Gayton & Lemaire 2011, Struct. Saf. 33, Table 1 and 2).

    Examples
    --------
    >>> round(four_branch(6).pf, 6), round(four_branch(7).pf, 6)
    (0.004457, 0.002223)
    """
    k = float(k)
    c = 1.0 / math.sqrt(2.0)

    def function(x1: Any, x2: Any, xp: Any = np) -> dict[str, Any]:
        quad = 3 + 0.1 * (x1 - x2) ** 2
        g1, g2 = quad - (x1 + x2) * c, quad + (x1 + x2) * c
        g3, g4 = (x1 - x2) + k * c, (x2 - x1) + k * c
        return {"g1": g1, "g2": g2, "g3": g3, "g4": g4,
                "g": xp.minimum(xp.minimum(g1, g2), xp.minimum(g3, g4))}

    model = ForwardModel(
        f"four_branch_k{k:g}", function, _standard_normals(2),
        [Output(f"g{j}", "", f"branch {j}") for j in range(1, 5)] + [Output("g", "", "minimum of the branches")],
        description=f"four-branch series system (k={k:g})", differentiable=True,
    )
    system = SeriesSystem([LimitState(model, f"g{j}") for j in range(1, 5)], name=f"four-branch k={k:g}")
    safe = integrate.quad(lambda v: stats.norm.pdf(v) * (2 * special.ndtr(3 + 0.2 * v * v) - 1), -k / 2, k / 2,
                          epsabs=1e-14, epsrel=1e-12)[0]
    return ReliabilityProblem(f"four_branch(k={k:g})", system, float(1.0 - safe),
                              "Waarts (2000); Echard, Gayton & Lemaire (2011) Struct. Saf. 33; exact by 1-D quadrature")


def parabolic(beta: float = 3.0, kappa: float = 0.5) -> ReliabilityProblem:
    """Parabolic limit state ``g = β − x2 + (κ/2) x1²`` in two standard normals.

    The paraboloid ``u_n = β + ½ Σ κ_i u_i²`` is the model surface of SORM (Breitung 1984,
    J. Eng. Mech. 110(3); Tvedt 1990, J. Eng. Mech. 116(6); Der Kiureghian 2005, *First- and
    second-order reliability methods*, ch. 14 of Engineering Design Reliability Handbook). FORM
    gives Φ(−β) whatever the curvature κ; the exact Pf is ``∫ φ(x1) Φ(−β − κ x1²/2) dx1``.

    Examples
    --------
    >>> p = parabolic(3.0, 0.5)
    >>> round(p.pf * 1e4, 4)
    8.2082
    """
    beta, kappa = float(beta), float(kappa)

    def function(x1: Any, x2: Any, xp: Any = np) -> dict[str, Any]:
        return {"g": beta - x2 + 0.5 * kappa * x1**2}

    model = ForwardModel(
        f"parabolic_beta{beta:g}_kappa{kappa:g}", function, _standard_normals(2), [Output("g", "", "limit-state value")],
        description=f"parabolic limit state beta={beta:g}, curvature={kappa:g}", differentiable=True,
    )
    pf = integrate.quad(lambda x: stats.norm.pdf(x) * special.ndtr(-beta - 0.5 * kappa * x * x), -np.inf, np.inf,
                        epsabs=1e-16, epsrel=1e-12)[0]
    return ReliabilityProblem(f"parabolic(beta={beta:g}, kappa={kappa:g})", LimitState(model, "g"), float(pf),
                              "Breitung (1984); Der Kiureghian (2005); exact by 1-D quadrature")


def r_minus_s(
    r_median: float = 10.0, r_cov: float = 0.1, s_mean: float = 6.0, s_std: float = 1.0
) -> ReliabilityProblem:
    """Capacity minus demand ``g = R − S`` with lognormal R and normal S.

    Exact ``Pf = P[R ≤ S] = ∫ F_R(s) f_S(s) ds`` by quadrature (the classical two-variable problem,
    e.g. Melchers & Beck 2018, *Structural Reliability Analysis and Prediction*, 3rd ed., §1.4).
    Defaults: median R = 10, CoV R = 0.1, S ~ N(6, 1): Pf = 1.4378e-3.

    Examples
    --------
    >>> round(r_minus_s().pf * 1e3, 4)
    1.4378
    """
    r = LogNormal.from_median_cov(r_median, r_cov)
    s = Normal(s_mean, s_std)

    def function(R: Any, S: Any, xp: Any = np) -> dict[str, Any]:
        return {"margin": R - S}

    model = ForwardModel(
        "r_minus_s", function,
        [Input("R", r, "aleatory", "kN", "capacity"), Input("S", s, "aleatory", "kN", "demand")],
        [Output("margin", "kN", "capacity minus demand")],
        description="capacity R (lognormal) minus demand S (normal)", differentiable=True,
    )
    rs, ss = r.scipy(), s.scipy()
    pf = integrate.quad(lambda x: rs.cdf(x) * ss.pdf(x), s_mean - 12 * s_std, s_mean + 12 * s_std,
                        points=[s_mean], epsabs=1e-16, epsrel=1e-12, limit=200)[0]
    return ReliabilityProblem("r_minus_s", LimitState(model, "margin"), float(pf),
                              "Melchers & Beck (2018) §1.4; exact by 1-D quadrature")
