"""Validation registry of the model library: each registered model against references it was not fitted to,
as data that a script turns into a table, with every reference labelled by what it is.

An entry is one :class:`Validation`: the model, what is compared, a function computing the model's value
(at its defaults, with only the reference's condition set), the reference value (or a measured range), its
source, its **kind** and, when an accuracy is claimed, the **basis** of that tolerance (written from the
reference's own spread, before comparing). ``benchmarks/validation_table.py`` writes ``docs/validation.md``.

Only rows of kind ``measured`` or ``published model`` with a tolerance *and* a written basis count toward
"met"; every other row is shown with its kind and never counted (:func:`summary`).

Adding a reference is one item: append a :class:`Validation` to ``VALIDATIONS`` here, or define a
module-level ``VALIDATIONS`` list in the model's own module (a per-model hook). Hook entries of a model
replace the fallback entries kept here for it; each row's kind, tolerance and basis are set where the row
is written.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "COUNTED_KINDS",
    "KINDS",
    "VALIDATIONS",
    "Validation",
    "at_defaults",
    "collect",
    "summary",
    "to_markdown",
    "validation_table",
]

#: What the reference is. ``measured``: data from experiments on the real system; ``published model``: a
#: published exact/numerical solution or closed form of the same idealised problem (e.g. a multipole table,
#: a lubrication limit); ``handbook fit``: a fitted law quoted by a handbook (not raw data); ``rule of thumb``:
#: an order-of-magnitude guide; ``code check``: the model evaluating a formula it implements (a test function's
#: moment, a definition such as a Tafel slope at a fixed symmetry factor); ``self-reference``: the project's own
#: output, a baseline run inside the project on the project's own synthetic truth, or a reference the model's
#: inputs were set from; ``none``: no external reference yet.
KINDS = ("measured", "published model", "handbook fit", "rule of thumb", "code check", "self-reference", "none")
#: Kinds that count as validation (the only rows counted in "met").
COUNTED_KINDS = ("measured", "published model")
# Earlier labels, still accepted from hook modules: both were published solutions of the idealised problem
_LEGACY_KINDS = {"published numerical": "published model", "published closed form": "published model"}


@dataclass(frozen=True)
class Validation:
    """One reference for one registered model.

    Parameters
    ----------
    model : str
        Registry name (``models.REGISTRY``).
    quantity : str
        What is compared, with the condition (e.g. ``"D_rel, square array, solid fraction 0.4"``).
    compute : callable
        No-argument function returning the model's value (float) at its defaults and that condition.
    reference : float, callable or None
        The reference value, or a no-argument function giving it (when it depends on the model's
        default parameters, e.g. a closed form evaluated at them); ``None``: no external reference yet.
    units : str
    source : str
        Full citation of the reference (and of the table/equation used).
    validity : str
        Range in which the model claims validity (from its description).
    kind : str
        One of :data:`KINDS` (``"published numerical"`` / ``"published closed form"`` are read as
        ``"published model"``).
    tolerance : float, optional
        Relative error the model claims at this point (``None``: reported, not claimed). With
        ``reference_range`` it widens the range by that fraction on each side (0: the range itself).
    note : str
        What a reader must know (e.g. the model's defaults were anchored near this reference).
    basis : str
        Where the tolerance comes from (the reference's stated uncertainty, its inter-laboratory spread, a
        reading error, the truncation of a series), written before comparing. A claimed tolerance without a
        basis is shown but not counted.
    reference_range : (float, float), optional
        Conflicting data sets or an inter-laboratory spread: the comparison is against the range, shown as
        such; ``reference`` is then a representative value inside it (for the relative error).

    Examples
    --------
    >>> v = Validation("ishigami", "variance", lambda: 13.84, 13.8446, "", "Ishigami & Homma 1990", "all",
    ...                "code check", 0.01)
    >>> validation_table([v])["status"].iloc[0]
    'not counted'
    """

    model: str
    quantity: str
    compute: Callable[[], float]
    reference: float | Callable[[], float] | None
    units: str
    source: str
    validity: str
    kind: str = "measured"
    tolerance: float | None = None
    note: str = ""
    basis: str = ""
    reference_range: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", _LEGACY_KINDS.get(self.kind, self.kind))
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {self.kind!r}")
        if (self.reference is None) != (self.kind == "none"):
            raise ValueError(f"{self.model}: reference None goes with kind 'none' (and only then), got {self.kind!r}")
        if self.reference_range is not None:
            lo, hi = self.reference_range
            if not lo <= hi:
                raise ValueError(f"{self.model}: reference_range must be (low, high) with low <= high, got {self.reference_range!r}")


def at_defaults(model: str, output: str, **conditions: Any) -> float:
    """The registered model's ``output`` with every input at its median and ``conditions`` set.

    Examples
    --------
    >>> round(at_defaults("porous_diffusion_bruggeman", "D_rel", porosity=0.5), 6)
    0.25
    """
    import uqbridge as uq

    m = uq.get_model(model)
    unknown = sorted(set(conditions) - set(m.inputs.names))
    if unknown:
        raise KeyError(f"{model}: no inputs {unknown}; inputs are {list(m.inputs.names)}")
    values = {i.name: conditions.get(i.name, float(i.distribution.ppf(0.5))) for i in m.inputs}
    return float(np.asarray(m(**values)[output])[0])


# --------------------------------------------------------------------------------------------- helpers


def _porous_cell(f: float) -> float:
    return at_defaults_geometry("square_cylinders", porosity=1.0 - f)


def at_defaults_geometry(geometry: str, **conditions: float) -> float:
    """``D_rel`` of ``porous_diffusion(geometry)`` (the registered model with another geometry option)."""
    from uqbridge_models.porous_diffusion import porous_diffusion

    m = porous_diffusion(geometry)
    values = {i.name: conditions.get(i.name, float(i.distribution.ppf(0.5))) for i in m.inputs}
    return float(m(**values)["D_rel"][0])


def _qmc_moment(model: str, moment: str, n: int = 2**16) -> float:
    import uqbridge as uq
    from uqbridge.designs import sample_inputs

    m = uq.get_model(model)
    y = np.asarray(m(**sample_inputs(m.inputs, n, "sobol", rng=0))["y"])
    return float(y.mean() if moment == "mean" else y.var(ddof=1))


def _hashin_g12(v_f: float, g_m: float, g_f: float) -> float:
    # Hashin & Rosen (1964) composite cylinders, longitudinal shear (exact for that assemblage)
    return g_m * ((1 + v_f) * g_f + (1 - v_f) * g_m) / ((1 - v_f) * g_f + (1 + v_f) * g_m)


def _fe2_reference() -> float:
    import uqbridge as uq

    m = uq.get_model("fe2_homogenization")
    med = {i.name: float(i.distribution.ppf(0.5)) for i in m.inputs}
    return _hashin_g12(0.4, med["G_m"], med["G_f"])


def _kic_from_fracture() -> float:
    import uqbridge as uq

    gamma = at_defaults("fracture", "Gamma")
    m = uq.get_model("fracture")
    med = {i.name: float(i.distribution.ppf(0.5)) for i in m.inputs}
    e, nu = med["E"], med["nu"]
    # plane-strain K_IC = sqrt(E' Γ), E' = E/(1 − ν²); E in GPa, Γ in J/m² → MPa √m
    return math.sqrt(e * 1e9 / (1 - nu**2) * gamma) / 1e6


def _phonon_peak_temperature() -> float:
    from uqbridge_models.phonon_conductivity import SI_DEFAULTS, si_conductivity_function

    T = np.geomspace(5.0, 100.0, 2000)
    return float(T[np.argmax(si_conductivity_function(T, **SI_DEFAULTS)["k"])])


_SI_VALIDITY = "20-1000 K, bulk natural Si (below the peak k depends on sample size)"
_PD_VALIDITY = "2-D fibre bed, transport across fibres; impermeable solid; porosity above percolation"

# --------------------------------------------------------------------------------------------- entries

VALIDATIONS: list[Validation] = [
    # ---- porous diffusion (cell problem, square-array geometry of the registered model)
    Validation(
        "porous_diffusion", "D_rel, square array of cylinders, solid fraction 0.4 (geometry='square_cylinders')",
        lambda: _porous_cell(0.4), 1.0 / 2.351, "",
        "Perrins, McKenzie & McPhedran (1979), Proc. R. Soc. Lond. A 369, 207, Table 1 (sigma = 2.351 for "
        "perfectly conducting cylinders) with Keller's reciprocity D_rel = 1/sigma", _PD_VALIDITY,
        "published model", 0.015,
        basis="the multipole value is exact to its 4 digits (+-0.05 %); +-1.5 % is the cell's own discretisation "
        "error at its default grid, stated in the porous_diffusion description",
    ),
    Validation(
        "porous_diffusion", "D_rel, square array, solid fraction 0.6 (geometry='square_cylinders')",
        lambda: _porous_cell(0.6), 1.0 / 4.3408, "",
        "Perrins et al. (1979) eq. (6), their formula fitted to the multipole solution (~0.1 %)", _PD_VALIDITY,
        "published model", 0.015,
        basis="formula within 0.1 % of the multipole solution; +-1.5 % is the cell's stated discretisation error",
    ),
    # ---- Bruggeman closed form (2-D)
    Validation(
        "porous_diffusion_bruggeman", "D_rel at porosity 0.95 (dilute cylinders)",
        lambda: at_defaults("porous_diffusion_bruggeman", "D_rel", porosity=0.95), 0.95 / 1.05, "",
        "Rayleigh (1892), Phil. Mag. 34, 481: dilute insulating cylinders D_rel = (1 - f)/(1 + f) + O(f^4) "
        "(square array; the O(f) term -2f is universal)", "dilute to moderate random cylinder beds",
        "published model", 0.005,
        basis="Rayleigh's truncation O(f^4) is 6e-6 at f = 0.05; +-0.5 % admits the O(f^2) term (0.25 %) in "
        "which random and square arrays may differ",
    ),
    Validation(
        "porous_diffusion_bruggeman", "D_rel at porosity 0.6 vs the square array (model-form error)",
        lambda: at_defaults("porous_diffusion_bruggeman", "D_rel", porosity=0.6), 1.0 / 2.351, "",
        "Perrins et al. (1979) Table 1, f = 0.4", "random (not ordered) cylinder beds", "published model",
        note="DEM eps^2 is a random-medium law; ordered arrays follow Maxwell/Rayleigh: expected to be low",
    ),
    # ---- phonon conductivity (Si): points not used in the fit (fit: Glassbrenner & Slack 100-1000 K)
    Validation(
        "phonon_conductivity", "k at 50 K (held out of the fit)",
        lambda: at_defaults("phonon_conductivity", "k", T=50.0), 2600.0, "W/m/K",
        "Glassbrenner & Slack (1964), Phys. Rev. 134, A1058 (models/data/si_thermal_conductivity_"
        "glassbrenner_slack1964.csv)", _SI_VALIDITY, "measured", None,
        note="reported, not claimed: no measurement uncertainty of this point at hand (the former +-12 % sat just "
        "above the observed +11 %, with no written basis)",
    ),
    Validation(
        "phonon_conductivity", "temperature of the conductivity maximum",
        _phonon_peak_temperature, 22.5, "K",
        "Glassbrenner & Slack (1964), Fig. 1: Si maximum at about 20-25 K (midpoint quoted)", _SI_VALIDITY,
        "measured", 0.11, note="read from a figure, not a table",
        basis="reading of the figure: +-2.5 K of 22.5 K (11 %)",
    ),
    Validation(
        "phonon_conductivity", "k at 303 K (independent dataset)",
        lambda: at_defaults("phonon_conductivity", "k", T=303.15), 125.0, "W/m/K",
        "Morris & Hust (1961), Phys. Rev. 124, 1426 (abstract: 1.25 +- 0.19 W/cm/K at 30 C)", _SI_VALIDITY,
        "measured", 0.15, basis="Morris & Hust's own stated uncertainty, +-0.19 of 1.25 W/cm/K (15 %)",
        note="Glassbrenner & Slack give 156 W/m/K at 300 K, but their data were used in the fit (not independent)",
    ),
    Validation(
        "phonon_conductivity", "k at 698 K (independent dataset)",
        lambda: at_defaults("phonon_conductivity", "k", T=698.15), 46.0, "W/m/K",
        "Morris & Hust (1961), Phys. Rev. 124, 1426 (abstract: 0.46 +- 0.07 W/cm/K at 425 C)", _SI_VALIDITY,
        "measured", 0.15, basis="Morris & Hust's own stated uncertainty, +-0.07 of 0.46 W/cm/K (15 %)",
    ),
    # ---- electrochemistry
    Validation(
        "electrochemistry", "cathodic Tafel slope at the default symmetry factor",
        lambda: at_defaults("electrochemistry", "tafel_slope_c"), 118.0, "mV/decade",
        "HER on mercury in acid, discharge (Volmer) rate-determining: b = 0.118-0.120 V/decade "
        "(Bockris & Reddy, Modern Electrochemistry 2A, 2nd ed., 2000)",
        "one-electron rate-determining step, 298 K", "code check", None,
        note="a tautology, not a validation: at the default symmetry factor alpha = 0.5 the slope is "
        "2.303 RT/(alpha F) = 118 mV by definition; the measured 118-120 mV confirms alpha = 0.5, not the model",
    ),
    Validation(
        "electrochemistry", "exchange current density j0 at the defaults (Pt-group HER)",
        lambda: at_defaults("electrochemistry", "j0_eff"), 10 ** (-3.1) * 1e4, "A/m^2",
        "Pt, HER in acid: log10 i0 = -3.1 (A/cm^2), Trasatti (1972), J. Electroanal. Chem. 39, 163, the "
        "experimental axis of the volcano of Norskov et al. (2005), J. Electrochem. Soc. 152, J23",
        "one-electron step; |i| << mass-transport limit", "self-reference", None,
        note="not a validation: the default mean barrier (0.75 eV) was chosen to give Pt-group "
        "magnitudes; the epistemic DFT shift (0.1 eV) alone spans a factor 50",
    ),
    # ---- models owned elsewhere: fallback entries (a module-level VALIDATIONS hook replaces them)
    Validation(
        "stokes_permeability", "K/a^2, square array, solid fraction 0.1",
        lambda: at_defaults("stokes_permeability", "K_rel", porosity=0.9), 1.2662, "",
        "Drummond & Tahir (1984), Int. J. Multiphase Flow 10, 515 (= Sangani & Acrivos 1982 dilute series)",
        "transverse flow through aligned fibres, porosity 0.45-0.9", "published model", 0.01,
        basis="series truncation at c = 0.1 is O(c^4) (< 0.1 %); +-1 % is the cell's discretisation error at its "
        "default 48^2 grid (measured against finer grids, tests/models/test_stokes_permeability.py)",
    ),
    Validation(
        "fe2_homogenization", "apparent longitudinal shear modulus G12 at V_f = 0.4",
        lambda: at_defaults("fe2_homogenization", "G_apparent"), _fe2_reference, "GPa",
        "Hashin & Rosen (1964), J. Appl. Mech. 31, 223: composite cylinders G12 (E-glass/epoxy medians)",
        "unidirectional fibre composite", "published model", 0.03,
        basis="composite-cylinder value exact for that assemblage; +-3 % is the RVE's stated resolution error",
    ),
    Validation(
        "fracture", "K_IC = sqrt(E' Gamma) at the defaults",
        _kic_from_fracture, 0.75, "MPa m^0.5",
        "Wiederhorn (1969), J. Am. Ceram. Soc. 52, 99: soda-lime glass, K_IC ~ 0.75 MPa m^0.5",
        "brittle glass, small-scale yielding", "self-reference", None,
        note="input-level check: the default cohesive law was set from this range, so it is not a prediction",
    ),
    Validation(
        "cauchy_born_lj", "cubic lattice constant a0 (static lattice)",
        lambda: at_defaults("cauchy_born_lj", "a0"), math.sqrt(2) * 3.76, "angstrom",
        "Solid argon, nearest-neighbour distance 3.76 A (Kittel, Introduction to Solid State Physics, 8th ed., "
        "Table 3.1); LJ parameters from the gas phase (epsilon = 0.0104 eV, sigma = 3.40 A, same table)",
        "pair potential: C12 = C44; no zero-point motion", "measured", 0.02,
        note="the +-2 % is the model's own claim (static lattice, no zero-point expansion), not a spread of the "
        "reference (precise to ~0.1 %): shown, not counted until a basis is written",
    ),
    Validation(
        "cauchy_born_lj", "cohesive energy per atom (static lattice)",
        lambda: at_defaults("cauchy_born_lj", "cohesive_energy"), 0.080, "eV",
        "Solid argon, 7.74 kJ/mol = 0.080 eV/atom (Kittel, 8th ed., Table 3.1)",
        "pair potential; no zero-point energy (it lowers the measured value ~10 %)", "measured", 0.15,
        note="the +-15 % is the model's own claim (zero-point energy), not a spread of the reference: shown, "
        "not counted until a basis is written",
    ),
    Validation(
        "cauchy_born_morse", "C44 of Cu",
        lambda: at_defaults("cauchy_born_morse", "C44"), 81.8, "GPa",
        "Overton & Gaffney (1955), Phys. Rev. 98, 969: Cu at 0 K, C11 = 176.2, C12 = 124.9, C44 = 81.8 GPa",
        "pair potential: C12 = C44 (Cauchy relation), which Cu violates", "measured", None,
        note="Girifalco & Weizer (1959) fitted a0, cohesive energy and compressibility, not C44",
    ),
    Validation(
        "kocks_mecking", "hardening rate h at the default strain vs stage II",
        lambda: at_defaults("kocks_mecking", "h"), 42100.0 / 300.0, "MPa",
        "stage-II hardening of fcc single crystals theta_II ~ mu/300 (Kocks & Mecking 2003, Prog. Mater. "
        "Sci. 48, 171), mu = 42.1 GPa (model default)", "Cu single crystal, resolved shear", "rule of thumb", None,
        note="a rule of thumb (mu/200-mu/300), not a measurement of this crystal",
    ),
    Validation(
        "ishigami", "output variance (a = 7, b = 0.1), 2^16 Sobol points",
        lambda: _qmc_moment("ishigami", "variance"), 49 / 8 + 0.1 * math.pi**4 / 5 + 0.01 * math.pi**8 / 18 + 0.5,
        "", "Ishigami & Homma (1990), Proc. ISUMA '90, 398: V = a^2/8 + b pi^4/5 + b^2 pi^8/18 + 1/2",
        "test function", "code check", 0.005,
        note="checks the test function's code and the QMC estimate against its own closed form, not a model",
    ),
    Validation(
        "sobol_g", "output variance (a = 0, 1, 4.5, 9, 99 x4), 2^16 Sobol points",
        lambda: _qmc_moment("sobol_g", "variance"),
        float(np.prod([1 + 1 / (3 * (1 + a) ** 2) for a in (0.0, 1.0, 4.5, 9.0, 99.0, 99.0, 99.0, 99.0)]) - 1),
        "", "Saltelli et al. (2008), Global Sensitivity Analysis: The Primer, G-function V = prod(1 + V_i) - 1",
        "test function", "code check", 0.01,
        note="checks the test function's code and the QMC estimate against its own closed form, not a model",
    ),
]

_NO_REFERENCE = {
    "borehole": "a closed-form test function (Harper & Gupta 1983): its definition is the reference; no "
    "published statistic of its output at hand",
    "concurrent_coupling": "the exact reference is the full atomistic solution of the same chain (a "
    "verification inside the code, not external data)",
    "message_passing": "a synthetic multiresolution benchmark: no published value",
}
VALIDATIONS += [
    Validation(name, "-", lambda: math.nan, None, "", "-", "-", "none", note=why) for name, why in _NO_REFERENCE.items()
]


def collect(validations: Sequence[Validation] | None = None, *, hooks: bool = True) -> list[Validation]:
    """All entries: ``validations`` (default ``VALIDATIONS``), with per-model hooks replacing the fallbacks.

    A hook is a module-level ``VALIDATIONS`` list of :class:`Validation` in a registered model's module.

    Examples
    --------
    >>> from uqbridge_models import REGISTRY
    >>> set(REGISTRY) <= {v.model for v in collect()}
    True
    """
    entries = list(VALIDATIONS if validations is None else validations)
    if hooks:
        from uqbridge_models import REGISTRY

        hooked: dict[str, list[Validation]] = {}
        for target in sorted({path.split(":")[0] for path in REGISTRY.values()}):
            module = importlib.import_module(target)
            for v in getattr(module, "VALIDATIONS", ()):
                # by shape, not class identity: doctests import this module a second time under its folder name
                if type(v).__name__ != "Validation" or not all(hasattr(v, a) for a in ("model", "compute", "reference")):
                    raise TypeError(f"{target}.VALIDATIONS must hold uqbridge_models.validation.Validation, got {type(v)}")
                hooked.setdefault(v.model, []).append(v)
        entries = [v for v in entries if v.model not in hooked] + [v for vs in hooked.values() for v in vs]
    return entries


def _status(kind: str, tolerance: float | None, basis: str, within: bool | None, reference_ok: bool) -> str:
    if kind == "none":
        return "no reference"
    if not reference_ok:
        return "failed to compute"
    if kind not in COUNTED_KINDS:
        return "not counted"
    if tolerance is None:
        return "reported"
    if not basis:
        return "no basis (not counted)"
    return "met" if within else "NOT met"


def validation_table(validations: Iterable[Validation] | None = None, *, models: Iterable[str] | None = None) -> pd.DataFrame:
    """Compute every entry: model value, reference (or range), relative error, status.

    ``status`` is ``met`` / ``NOT met`` only for rows of a counted kind (:data:`COUNTED_KINDS`) with a
    tolerance and its written basis; otherwise ``reported``, ``no basis (not counted)``,
    ``not counted`` (a kind that is not validation), ``no reference`` or ``failed to compute``. ``counted`` marks the rows that
    count toward "met". A failing ``compute`` gives a row with ``value`` NaN and the error in ``note``.

    Examples
    --------
    >>> v = Validation("m", "q", lambda: 131.0, 127.0, "GPa", "s", "v", "measured", 0.0,
    ...                basis="inter-laboratory spread", reference_range=(124.0, 130.0))
    >>> validation_table([v])[["status", "counted"]].values.tolist()
    [['NOT met', True]]
    """
    entries = collect() if validations is None else list(validations)
    wanted = None if models is None else set(models)
    rows = []
    for v in entries:
        if wanted is not None and v.model not in wanted:
            continue
        kind = _LEGACY_KINDS.get(v.kind, v.kind)
        basis = getattr(v, "basis", "")
        ref_range = getattr(v, "reference_range", None)
        note, value, reference = v.note, math.nan, math.nan
        if v.reference is not None:
            try:
                reference = float(v.reference() if callable(v.reference) else v.reference)
                value = float(v.compute())
            except Exception as error:  # noqa: BLE001 - a broken model must not hide the other rows
                note = f"{note}; compute failed: {type(error).__name__}: {error}".lstrip("; ")
        ok = bool(np.isfinite(value) and np.isfinite(reference))
        rel = value / reference - 1 if ok and reference != 0 else math.nan
        within = None
        if v.tolerance is not None and ok:
            if ref_range is not None:
                lo, hi = ref_range
                within = bool(lo * (1 - v.tolerance) <= value <= hi * (1 + v.tolerance))
            else:
                within = bool(abs(rel) <= v.tolerance)
        status = _status(kind, v.tolerance, basis, within, ok)
        rows.append({
            "model": v.model, "quantity": v.quantity, "value": value,
            "reference": reference, "range_low": math.nan if ref_range is None else float(ref_range[0]),
            "range_high": math.nan if ref_range is None else float(ref_range[1]), "units": v.units,
            "rel_error": rel, "tolerance": v.tolerance, "within": within, "kind": kind, "status": status,
            "counted": status in ("met", "NOT met"), "basis": basis, "validity": v.validity,
            "source": v.source, "note": note,
        })
    return pd.DataFrame(rows)


def summary(table: pd.DataFrame) -> dict[str, Any]:
    """Counts of a :func:`validation_table`: rows, counted rows (measured/published with a tolerance and its
    basis), met among them, rows per kind, and the models with no counted or reported measured/published row.

    Examples
    --------
    >>> v = [Validation("a", "q", lambda: 1.0, 1.0, "", "s", "v", "code check", 0.1),
    ...      Validation("b", "q", lambda: 1.0, 1.05, "", "s", "v", "measured", 0.1, basis="stated +-10 %")]
    >>> s = summary(validation_table(v)); s["counted"], s["met"]
    (1, 1)
    """
    counted = table[table["counted"]]
    external = table[table["kind"].isin(COUNTED_KINDS)]
    return {
        "rows": len(table),
        "counted": len(counted),
        "met": int((counted["status"] == "met").sum()),
        "kinds": {k: int((table["kind"] == k).sum()) for k in KINDS if (table["kind"] == k).any()},
        "models_without_external_reference": sorted(set(table["model"]) - set(external["model"])),
    }


def _fmt(x: Any) -> str:
    if x is None or (isinstance(x, float) and not np.isfinite(x)):
        return "-"
    return f"{x:.4g}"


def to_markdown(table: pd.DataFrame) -> str:
    """A Markdown table (one row per entry, 8 narrow columns) followed by the validity, sources, tolerance
    bases and notes, numbered. Units go with the values; a measured range is shown as ``low-high``."""
    lines = [
        "| # | model | compared | model | reference | error | claim | kind |",
        "|---|---|---|---|---|---|---|---|",
    ]
    notes = []
    for k, r in enumerate(table.itertuples(), 1):
        units = f" {r.units}" if r.units and r.units not in ("-", "") else ""
        ref = _fmt(r.reference)
        if np.isfinite(r.range_low):
            ref = f"{_fmt(r.range_low)}–{_fmt(r.range_high)}"
        rel = "-" if not np.isfinite(r.rel_error) else f"{100 * r.rel_error:+.1f} %"
        tol = "" if r.tolerance is None or not np.isfinite(r.tolerance) else (
            "in range" if np.isfinite(r.range_low) and r.tolerance == 0 else f"±{100 * r.tolerance:g} %")
        claim = f"{tol}: **{r.status}**" if tol and r.status in ("met", "NOT met") else (
            f"{tol}; {r.status}" if tol else r.status)
        value = "-" if not np.isfinite(r.value) else f"{_fmt(r.value)}{units}"
        reference = "-" if ref == "-" else f"{ref}{units}"
        lines.append(f"| {k} | `{r.model}` | {r.quantity} | {value} | {reference} | {rel} | {claim} | {r.kind} |")
        text = f"{k}. {r.source.rstrip('.')}."
        if r.validity and r.validity != "-":
            text += f" Validity: {r.validity}."
        if r.basis:
            text += f" Tolerance basis: {r.basis}."
        if r.note:
            text += f" — *{r.note}*"
        notes.append(text)
    return "\n".join(lines) + "\n\nSources, validity, tolerance bases and notes:\n\n" + "\n".join(notes) + "\n"
