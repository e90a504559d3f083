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

from ..distributions import Gamma, LogNormal, Normal
from ..inputs import Input
from ..model import ForwardModel, Output
from .limit_state import LimitState, SeriesSystem

__all__ = ["ReliabilityProblem", "four_branch", "linear", "parabolic", "r_minus_s", "rprepo_collection"]


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


# ---- a collection of published benchmark problems ------------------------------------------------

_RPREPO = (
    "Rozsas & Slobbe (2019), RPrepo / Black-box reliability challenge 2019, https://rprepo.readthedocs.io "
    "(as transcribed in otbenchmark, Baudin et al.)"
)


def _lognormal(mean: float, std: float) -> LogNormal:
    s2 = math.log1p((std / mean) ** 2)
    return LogNormal(math.log(mean) - 0.5 * s2, math.sqrt(s2))


def _gumbel(mean: float, std: float) -> Any:
    from ..distributions import Gumbel

    scale = std * math.sqrt(6.0) / math.pi
    return Gumbel(mean - np.euler_gamma * scale, scale)


def _problem(name: str, function: Any, dists: list[Any], pf: float, source: str, differentiable: bool = True) -> ReliabilityProblem:
    inputs = [Input(f"x{k + 1}", dist, "aleatory") for k, dist in enumerate(dists)]
    model = ForwardModel(name, function, inputs, [Output("g", "", "limit-state value")],
                         description=f"reliability benchmark {name}", differentiable=differentiable)
    return ReliabilityProblem(name, LimitState(model, "g"), float(pf), source)


def _sum(x: dict[str, Any], k: int) -> Any:
    s = 0.0
    for i in range(1, k + 1):
        s = s + x[f"x{i}"]
    return s


def rprepo_collection(full: bool = False) -> list[ReliabilityProblem]:
    """Published reliability benchmark problems with their reference Pf (2–20 inputs).

    The RPrepo set of the Black-box reliability challenge 2019 (Rozsas & Slobbe 2019), with the
    reference probabilities published there (crude Monte Carlo or exact), plus the four-branch
    system (Waarts 2000). ``full=True`` adds RP63 (100 inputs). Each problem's ``source`` names the
    RP number. Problems whose reference is exact here are computed (RP8 and RP28 by the
    distribution of a sum/product as OpenTURNS' otbenchmark does: RP8 lognormal sum → reference
    from the publication; RP54 from the Gamma(20, 1) CDF; RP107 = Φ(−5)).

    Examples
    --------
    >>> ps = rprepo_collection()
    >>> len(ps), min(p.pf for p in ps) < 1e-6 < 0.5 < max(p.pf for p in ps)
    (21, True)
    """
    from ..distributions import Uniform

    N = Normal(0.0, 1.0)
    out = [
        _problem("RP8", lambda xp=np, **x: {"g": x["x1"] + 2 * x["x2"] + 2 * x["x3"] + x["x4"] - 5 * x["x5"] - 5 * x["x6"]},
                 [_lognormal(120, 12)] * 4 + [_lognormal(50, 10), _lognormal(40, 8)], 7.84e-4, f"RP8; {_RPREPO}"),
        _problem("RP14", lambda xp=np, **x: {"g": x["x1"] - 32 / (math.pi * x["x2"] ** 3) * xp.sqrt(x["x3"] ** 2 * x["x4"] ** 2 / 16 + x["x5"] ** 2)},
                 [Uniform(70, 80), Normal(39, 0.1), _gumbel(1500, 350), Normal(400, 0.1), Normal(250000, 35000)],
                 7.7285e-4, f"RP14; {_RPREPO}"),
        _problem("RP22", lambda x1, x2, xp=np: {"g": 2.5 - (x1 + x2) / math.sqrt(2) + 0.1 * (x1 - x2) ** 2}, [N, N],
                 4.2073e-3, f"RP22; {_RPREPO}"),
        _problem("RP24", lambda x1, x2, xp=np: {"g": 2.5 - 0.2357 * (x1 - x2) + 0.00463 * (x1 + x2 - 20) ** 4},
                 [Normal(10, 3), Normal(10, 3)], 2.86e-3, f"RP24; {_RPREPO}"),
        _problem("RP25", lambda x1, x2, xp=np: {"g": xp.maximum(x1**2 - 8 * x2 + 16, -16 * x1 + x2 + 32)}, [N, N],
                 4.1486e-5, f"RP25; {_RPREPO}"),
        _problem("RP28", lambda x1, x2, xp=np: {"g": x1 * x2 - 146.14}, [Normal(78064, 11710), Normal(0.0104, 0.00156)],
                 1.46e-7, f"RP28; {_RPREPO}"),
        _problem("RP31", lambda x1, x2, xp=np: {"g": 2 - x2 + 256 * x1**4}, [N, N], 3.2267e-3, f"RP31; {_RPREPO}"),
        _problem("RP33", lambda x1, x2, x3, xp=np: {"g": xp.minimum(-x1 - x2 - x3 + 3 * math.sqrt(3), -x3 + 3)}, [N, N, N],
                 2.57e-3, f"RP33; {_RPREPO}"),
        _problem("RP35", lambda x1, x2, xp=np: {"g": xp.minimum(2 - x2 + xp.exp(-0.1 * x1**2) + (0.2 * x1) ** 4, 4.5 - x1 * x2)},
                 [N, N], 3.4789e-3, f"RP35; {_RPREPO}"),
        _problem("RP38", lambda xp=np, **x: {"g": 15.59e4 - x["x1"] * x["x2"] ** 3 / (2 * x["x3"] ** 3) * (
                     (x["x4"] ** 2 - 4 * x["x5"] * x["x6"] * x["x7"] ** 2 + x["x4"] * (x["x6"] + 4 * x["x5"] + 2 * x["x6"] * x["x7"]))
                     / (x["x4"] * x["x5"] * (x["x4"] + x["x6"] + 2 * x["x6"] * x["x7"])))},
                 [Normal(350, 35), Normal(50.8, 5.08), Normal(3.81, 0.381), Normal(173, 17.3), Normal(9.38, 0.938),
                  Normal(33.1, 3.31), Normal(0.036, 0.0036)], 8.1e-3, f"RP38; {_RPREPO}"),
        _problem("RP53", lambda x1, x2, xp=np: {"g": xp.sin(5 * x1 / 2) + 2 - (x1 * x1 + 4) * (x2 - 1) / 20},
                 [Normal(1.5, 1), Normal(2.5, 1)], 3.13e-2, f"RP53; {_RPREPO}"),
        _problem("RP54", lambda xp=np, **x: {"g": _sum(x, 20) - 8.951}, [Gamma(1.0, 1.0)] * 20,
                 float(special.gammainc(20, 8.951)), f"RP54 (published 9.98e-4; exact Gamma(20, 1) CDF here); {_RPREPO}"),
        _problem("RP55", lambda x1, x2, xp=np: {"g": xp.minimum(
                     xp.minimum(0.2 + 0.6 * (x1 - x2) ** 4 - (x1 - x2) / math.sqrt(2), 0.2 + 0.6 * (x1 - x2) ** 4 + (x1 - x2) / math.sqrt(2)),
                     xp.minimum((x1 - x2) + 5 / math.sqrt(2) - 2.2, (x2 - x1) + 5 / math.sqrt(2) - 2.2))},
                 [Uniform(-1, 1), Uniform(-1, 1)], 0.560014, f"RP55; {_RPREPO}"),
        _problem("RP57", lambda x1, x2, xp=np: {"g": xp.minimum(xp.maximum(-x1**2 + x2**3 + 3, 2 - x1 - 8 * x2),
                                                                (x1 + 3) ** 2 + (x2 + 3) ** 2 - 4)}, [N, N],
                 2.84e-2, f"RP57; {_RPREPO}"),
        _problem("RP75", lambda x1, x2, xp=np: {"g": 3 - x1 * x2}, [N, N], 9.8193e-3, f"RP75; {_RPREPO}"),
        _problem("RP77", lambda x1, x2, x3, xp=np: {"g": np.where(x3 <= 5.0, x1 - x2 - x3, x3 - x2)},
                 [Normal(10, 0.5), N, Normal(4, 1)], 2.87e-7, f"RP77; {_RPREPO}", differentiable=False),
        _problem("RP89", lambda x1, x2, xp=np: {"g": xp.minimum(-x1**2 - x2 + 8, -x1 / 5 - x2 + 6)}, [N, N],
                 5.43e-3, f"RP89; {_RPREPO}"),
        _problem("RP107", lambda xp=np, **x: {"g": 5 * math.sqrt(10) - _sum(x, 10)}, [N] * 10,
                 float(special.ndtr(-5.0)), f"RP107 (published 2.92e-7; exact Phi(-5) here); {_RPREPO}"),
        _problem("RP110", lambda x1, x2, xp=np: {"g": np.minimum(np.where(x1 <= 3.5, 0.85 - 0.1 * x1, 4 - x1),
                                                                 np.where(x2 <= 2.0, 2.3 - x2, 0.5 - 0.1 * x2))}, [N, N],
                 3.19e-5, f"RP110; {_RPREPO}", differentiable=False),
        _problem("RP111", lambda x1, x2, xp=np: {"g": 12.5 - xp.abs(x1 * x2)}, [N, N], 7.65e-7, f"RP111; {_RPREPO}"),
        four_branch(6.0),
    ]
    if full:
        def rp63(xp: Any = np, **x: Any) -> dict[str, Any]:
            s = 0.0
            for i in range(2, 101):
                s = s + x[f"x{i}"] ** 2
            return {"g": 0.1 * s - 4.5 - x["x1"]}

        out.append(_problem("RP63", rp63, [N] * 100, 3.79e-4, f"RP63; {_RPREPO}"))
    return out
