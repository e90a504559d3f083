"""A fitted polynomial chaos expansion: moments, Sobol indices and conditional variances read from its
coefficients, its use as a forward model (NumPy and PyTensor), and netCDF save / load.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import xarray as xr

from ..inputs import InputSet
from ..model import ForwardModel, Output
from ..results import load, provenance, save
from .basis import Germ, GermMap, basis_matrix

__all__ = ["SOBOL_KINDS", "PolynomialChaos", "load_pce"]

SOBOL_KINDS = ("closed", "total", "interaction")


@dataclass(frozen=True, eq=False)
class PolynomialChaos:
    """A fitted expansion ``Y_o ≈ Σ_t c_ot Ψ_t(ξ)`` over orthonormal polynomials of independent germs.

    Made by :func:`uqbridge.pce.fit_pce` or :func:`load_pce`; all attributes are learned state.

    Attributes
    ----------
    name : str
        Name of the model it replaces.
    germ_map : GermMap
        The inputs and their germs (see :mod:`uqbridge.pce.basis`).
    outputs : tuple of Output
    indices : ndarray (n_terms, n_germs)
        Multi-indices; row 0 is the constant term.
    coefficients : ndarray (n_outputs, n_terms)
        Zero where a term was not selected for that output.
    validation : xarray.Dataset
        ``loo_error`` and ``corrected_loo_error`` (relative to the output variance), ``holdout_error``
        if a hold-out design was evaluated, ``coefficient_norm`` by total ``degree``, and the
        selected ``degree``, ``q_norm`` and ``n_terms`` per output.
    n_runs, n_failed : int
        Model runs used for the fit, and failed runs dropped from it.
    method : str
    """

    name: str
    germ_map: GermMap
    outputs: tuple[Output, ...]
    indices: np.ndarray = field(repr=False)
    coefficients: np.ndarray = field(repr=False)
    validation: xr.Dataset = field(repr=False)
    n_runs: int = 0
    n_failed: int = 0
    method: str = ""

    def __post_init__(self) -> None:
        if self.indices.shape[0] == 0 or np.any(self.indices[0] != 0):
            raise ValueError("the first multi-index must be the constant term (all zeros)")
        if self.coefficients.shape != (len(self.outputs), self.indices.shape[0]):
            raise ValueError(
                f"coefficients have shape {self.coefficients.shape}, expected "
                f"({len(self.outputs)}, {self.indices.shape[0]})"
            )

    # ---- labels ----------------------------------------------------------------------------------
    @property
    def inputs(self) -> InputSet:
        return self.germ_map.inputs

    @property
    def output_names(self) -> tuple[str, ...]:
        return tuple(o.name for o in self.outputs)

    @property
    def germ_names(self) -> tuple[str, ...]:
        return self.germ_map.names

    def _da(self, values: np.ndarray, what: str) -> xr.DataArray:
        return xr.DataArray(values, dims=("output",), coords={"output": list(self.output_names)}, name=what)

    # ---- evaluation ------------------------------------------------------------------------------
    def _evaluate(self, xp: Any = np, **values: Any) -> dict[str, Any]:
        xi = self.germ_map.to_germ(values, xp)
        psi = basis_matrix(xi, self.germ_map.germs, self.indices, xp)
        return {name: psi @ self.coefficients[k] for k, name in enumerate(self.output_names)}

    @property
    def model(self) -> ForwardModel:
        """The expansion as a :class:`ForwardModel` with the same inputs and outputs (``<name>_pce``).

        Differentiable (runs on ``pytensor.tensor``) when the germ map is xp-writable: always for
        independent inputs, and for correlated Normal / LogNormal / Uniform marginals.
        """
        return ForwardModel(
            f"{self.name}_pce",
            self._evaluate,
            self.inputs,
            self.outputs,
            description=f"polynomial chaos surrogate of {self.name} ({self.method}, {self.n_runs} runs)",
            differentiable=self.germ_map.xp_writable,
        )

    # ---- moments and indices ---------------------------------------------------------------------
    def mean(self) -> xr.DataArray:
        """Mean of each output (the constant coefficient).

        Examples
        --------
        >>> from uqbridge.pce import Quadrature, fit_pce
        >>> from uqbridge import ForwardModel, Input, Output, Normal
        >>> m = ForwardModel("q", lambda x: {"y": x**2}, [Input("x", Normal(0, 1))], [Output("y")])
        >>> round(float(fit_pce(m, method=Quadrature(level=3)).mean().sel(output="y")), 12)
        1.0
        """
        return self._da(self.coefficients[:, 0].copy(), "mean")

    def variance(self) -> xr.DataArray:
        """Variance of each output (sum of squared non-constant coefficients)."""
        return self._da(np.sum(self.coefficients[:, 1:] ** 2, axis=1), "variance")

    def _germ_positions(self, subset: Iterable[str] | str, argument: str) -> np.ndarray:
        if isinstance(subset, str):
            subset = [subset]
        subset = list(subset)
        names = list(self.germ_names)
        unknown = [s for s in subset if s not in names]
        if unknown or not subset:
            raise KeyError(f"{argument}: unknown or empty input group {subset!r}; uncertain inputs: {names}")
        mask = np.zeros(len(names), bool)
        mask[[names.index(s) for s in subset]] = True
        return mask

    def _partial_variances(self, mask: np.ndarray, kind: str) -> np.ndarray:
        """Sum of c² over the terms whose support is inside / meets / equals the germ set ``mask``."""
        if kind not in SOBOL_KINDS:
            raise ValueError(f"kind must be one of {SOBOL_KINDS}, got {kind!r}")
        support = self.indices > 0
        inside = ~np.any(support & ~mask, axis=1)
        nonconstant = np.any(support, axis=1)
        if kind == "closed":
            terms = inside & nonconstant
        elif kind == "total":
            terms = np.any(support & mask, axis=1)
        else:
            terms = inside & np.all(support | ~mask, axis=1)
        return self.coefficients[:, terms] ** 2 @ np.ones(int(terms.sum()))

    def _ratio(self, partial: np.ndarray) -> np.ndarray:
        var = np.sum(self.coefficients[:, 1:] ** 2, axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(var > 0, partial / np.where(var > 0, var, 1.0), np.nan)

    def sobol_index(self, subset: Sequence[str] | str, kind: str = "closed") -> xr.DataArray:
        """Sobol index of a set of inputs, over ``output``.

        ``kind="closed"``: Var(E[Y | X_u]) / Var Y (sum of all indices of subsets of u);
        ``"total"``: share of variance involving any input of u; ``"interaction"``: the index of
        exactly u (e.g. S13 for ``["x1", "x3"]``).

        Examples
        --------
        >>> from uqbridge.pce import Quadrature, fit_pce
        >>> from uqbridge import ForwardModel, Input, Output, Normal
        >>> m = ForwardModel("p", lambda a, b: {"y": a + a * b},
        ...                  [Input("a", Normal(0, 1)), Input("b", Normal(0, 1))], [Output("y")])
        >>> p = fit_pce(m, method=Quadrature(level=2))
        >>> round(float(p.sobol_index(["a", "b"], "interaction").sel(output="y")), 12)
        0.5
        """
        mask = self._germ_positions(subset, "subset")
        return self._da(self._ratio(self._partial_variances(mask, kind)), f"sobol_{kind}")

    def sobol_indices(self) -> xr.Dataset:
        """First-order and total Sobol indices of every uncertain input, computed from the coefficients.

        Returns
        -------
        xarray.Dataset
            ``first`` and ``total`` over (``output``, ``input``). For correlated inputs these are the
            indices of the independent Nataf germs labelled by input name.
        """
        support = self.indices > 0
        order = support.sum(axis=1)
        c2 = self.coefficients**2
        first = c2 @ (support & (order == 1)[:, None])
        total = c2 @ support
        var = np.sum(c2[:, 1:], axis=1)[:, None]
        with np.errstate(invalid="ignore", divide="ignore"):
            # a shallow copy of a labelled template: building the coordinate indexes anew costs
            # ~10x the arithmetic, and this is called inside loops
            ds = self._indices_template.copy(deep=False, data={"first": first / var, "total": total / var})
        ds.attrs = provenance(None, "pce_sobol", dependent_inputs=int(self.germ_map.dependent))
        ds.attrs["model"] = self.name
        return ds

    @functools.cached_property
    def _indices_template(self) -> xr.Dataset:
        dims = ("output", "input")
        empty = np.zeros((len(self.outputs), len(self.germ_names)))
        coords = {"output": list(self.output_names), "input": list(self.germ_names)}
        return xr.Dataset({"first": (dims, empty), "total": (dims, empty)}, coords=coords)

    def grouped_indices(self, groups: Mapping[str, Sequence[str]]) -> xr.Dataset:
        """Closed and total Sobol indices of groups of inputs, over (``output``, ``group``).

        Examples
        --------
        >>> from uqbridge.pce import Quadrature, fit_pce
        >>> from uqbridge import ForwardModel, Input, Output, Normal
        >>> m = ForwardModel("s", lambda a, b, c: {"y": a + b + c},
        ...                  [Input(n, Normal(0, 1)) for n in "abc"], [Output("y")])
        >>> g = fit_pce(m, method=Quadrature(level=1)).grouped_indices({"ab": ["a", "b"], "c": ["c"]})
        >>> [round(float(v), 6) for v in g["closed"].sel(output="y")]
        [0.666667, 0.333333]
        """
        if not groups:
            raise ValueError("groups must name at least one group, e.g. {'micro': ['a', 'b']}")
        closed, total = [], []
        for label, members in groups.items():
            mask = self._germ_positions(members, f"groups[{label!r}]")
            closed.append(self._ratio(self._partial_variances(mask, "closed")))
            total.append(self._ratio(self._partial_variances(mask, "total")))
        coords = {"output": list(self.output_names), "group": list(groups)}
        ds = xr.Dataset(
            {"closed": (("output", "group"), np.stack(closed, -1)), "total": (("output", "group"), np.stack(total, -1))},
            coords=coords,
        )
        ds.attrs = provenance(None, "pce_grouped_sobol", groups={k: list(v) for k, v in groups.items()})
        ds.attrs["model"] = self.name
        return ds

    def conditional_variance(self, group: Sequence[str] | str) -> xr.DataArray:
        """Var(E[Y | X_group]) of each output (in output units squared), from the coefficients."""
        mask = self._germ_positions(group, "group")
        return self._da(self._partial_variances(mask, "closed"), "conditional_variance")

    # ---- persistence -----------------------------------------------------------------------------
    def to_dataset(self) -> xr.Dataset:
        """Coefficients, multi-indices, germs, validation and input specs as one netCDF-ready Dataset."""
        germs = self.germ_map.germs
        order = max(g.alpha.size for g in germs)
        pad = lambda a: np.concatenate([a, np.full(order - a.size, np.nan)])  # noqa: E731
        ds = xr.Dataset(
            {
                "coefficients": (("output", "term"), self.coefficients),
                "multi_indices": (("term", "germ"), self.indices),
                "germ_kind": ("germ", [g.kind for g in germs]),
                "germ_family": ("germ", [g.family for g in germs]),
                "germ_loc": ("germ", [g.loc for g in germs]),
                "germ_scale": ("germ", [g.scale for g in germs]),
                "recurrence_alpha": (("germ", "recurrence_order"), np.stack([pad(g.alpha) for g in germs])),
                "recurrence_beta": (("germ", "recurrence_order"), np.stack([pad(g.beta) for g in germs])),
            },
            coords={"output": list(self.output_names), "germ": list(self.germ_names)},
        )
        for key, var in self.validation.data_vars.items():
            ds[f"validation_{key}"] = var
        ds.attrs = provenance(
            None,
            "pce",
            inputs=self.inputs.to_json(),
            outputs=json.dumps([[o.name, o.units, o.description] for o in self.outputs]),
            fit_method=self.method,
            n_runs=self.n_runs,
            n_failed=self.n_failed,
        )
        ds.attrs["model"] = self.name
        return ds

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write :meth:`to_dataset` to netCDF; :func:`load_pce` gives back the same predictions."""
        save(self.to_dataset(), path)


def from_dataset(ds: xr.Dataset) -> PolynomialChaos:
    """Rebuild a :class:`PolynomialChaos` from :meth:`PolynomialChaos.to_dataset`."""
    for key in ("coefficients", "multi_indices", "recurrence_alpha"):
        if key not in ds:
            raise KeyError(f"dataset has no {key!r} variable; is it a saved polynomial chaos expansion?")
    inputs = InputSet.from_json(ds.attrs["inputs"])
    germs = []
    for k, name in enumerate(ds["germ"].values.tolist()):
        alpha = ds["recurrence_alpha"].values[k]
        beta = ds["recurrence_beta"].values[k]
        keep = ~np.isnan(alpha)
        germs.append(
            Germ(
                str(name), str(ds["germ_kind"].values[k]), float(ds["germ_loc"].values[k]),
                float(ds["germ_scale"].values[k]), str(ds["germ_family"].values[k]), alpha[keep], beta[keep],
            )
        )
    validation = xr.Dataset(
        {str(key)[len("validation_"):]: var for key, var in ds.data_vars.items() if str(key).startswith("validation_")}
    )
    outputs = tuple(Output(*row) for row in json.loads(ds.attrs["outputs"]))
    return PolynomialChaos(
        name=str(ds.attrs["model"]),
        germ_map=GermMap(inputs, tuple(germs)),
        outputs=outputs,
        indices=np.asarray(ds["multi_indices"].values, dtype=np.int64),
        coefficients=np.asarray(ds["coefficients"].values, dtype=float),
        validation=validation,
        n_runs=int(ds.attrs.get("n_runs", 0)),
        n_failed=int(ds.attrs.get("n_failed", 0)),
        method=str(ds.attrs.get("fit_method", "")),
    )


def load_pce(path: str | os.PathLike[str]) -> PolynomialChaos:
    """Read an expansion written by :meth:`PolynomialChaos.save`.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from uqbridge.pce import Quadrature, fit_pce
    >>> from uqbridge import ForwardModel, Input, Output, Normal
    >>> m = ForwardModel("c", lambda x: {"y": x**3}, [Input("x", Normal(0, 1))], [Output("y")])
    >>> p = fit_pce(m, method=Quadrature(level=3))
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "c.nc"
    >>> p.save(path)
    >>> round(float(load_pce(path).model(x=2.0)["y"][0]), 10)
    8.0
    """
    return from_dataset(load(path))
