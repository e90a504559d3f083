"""Input declarations: name, distribution, kind (aleatory | epistemic | condition), units, and their joint law.

An :class:`InputSet` maps designs in the unit hypercube (or independent standard normals) to input
values through the marginals, a Gaussian copula and blocks of joint samples (e.g. a posterior).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from .distributions import Constant, Distribution, Empirical, distribution_from_dict

__all__ = ["KINDS", "Input", "InputSet"]

KINDS = ("aleatory", "epistemic", "condition")
Kind = Literal["aleatory", "epistemic", "condition"]


@dataclass(frozen=True)
class Input:
    """One model input: uncertain (aleatory or epistemic), fixed, or a controlled condition.

    Parameters
    ----------
    name : str
        Python identifier; the keyword the model function receives.
    distribution : Distribution, or a number for a condition
        Its probability law (``Constant`` for a fixed value).
    kind : {"aleatory", "epistemic", "condition"}
        Natural variability, lack of knowledge (what calibration updates), or a **condition**: a
        controlled setting of the experiment or of the study (strain, temperature, overpotential),
        not uncertain. A condition holds one value (a number or ``Constant``); analyses leave it at
        that value, a study or ``model.with_inputs(T=350.0)`` sets it, and calibration data give it
        per observation.
    units, description : str
        Shown by ``uqbridge describe`` and kept in every result's metadata.

    Examples
    --------
    >>> from uqbridge.distributions import Normal
    >>> Input("a", Normal(1.0, 0.1), "epistemic", units="nm").kind
    'epistemic'
    >>> Input("T", 300.0, "condition", units="K").distribution
    Constant(value=300.0)
    """

    name: str
    distribution: Distribution
    kind: Kind = "aleatory"
    units: str = ""
    description: str = ""

    def __post_init__(self) -> None:
        if not (isinstance(self.name, str) and self.name.isidentifier()):
            raise ValueError(f"input name must be a Python identifier, got {self.name!r}")
        if self.kind not in KINDS:
            raise ValueError(f"input {self.name!r}: kind must be one of {KINDS}, got {self.kind!r}")
        if self.kind == "condition":
            if isinstance(self.distribution, (int, float, np.integer, np.floating)) and not isinstance(self.distribution, bool):
                object.__setattr__(self, "distribution", Constant(float(self.distribution)))
            if isinstance(self.distribution, Distribution) and not self.distribution.is_constant:
                raise ValueError(
                    f"input {self.name!r} is a condition (controlled, not uncertain): give it a value, e.g. "
                    f"Input({self.name!r}, {self.distribution.mean:g}, 'condition'); to treat it as uncertain, "
                    "declare it aleatory or epistemic"
                )
        if not isinstance(self.distribution, Distribution):
            raise TypeError(
                f"input {self.name!r}: distribution must be a uqbridge Distribution "
                f"(e.g. Normal(0, 1)), got {type(self.distribution).__name__}"
            )

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "distribution": self.distribution.to_dict(),
            "kind": self.kind,
            "units": self.units,
            "description": self.description,
        }

    @classmethod
    def from_dict(cls, spec: Mapping[str, Any]) -> Input:
        spec = dict(spec)
        spec["distribution"] = distribution_from_dict(spec["distribution"])
        return cls(**spec)


@dataclass(frozen=True, eq=False)
class _JointBlock:
    """Inputs drawn together, row by row, from an array of joint samples (keeps correlations)."""

    names: tuple[str, ...]
    values: np.ndarray  # (m, len(names))


@dataclass(frozen=True, eq=False)
class InputSet:
    """The ordered inputs of a model and their dependence.

    Parameters
    ----------
    inputs : iterable of Input
    correlation : mapping ``{(name_a, name_b): rho}``, optional
        Gaussian-copula correlations (correlations of the underlying standard normals) between
        parametric uncertain inputs. Unlisted pairs are independent.

    Notes
    -----
    A design point ``u`` in the unit hypercube has one coordinate per *design dimension*: one per
    uncertain parametric input and one per block of joint samples. The map is
    ``z = Φ⁻¹(u)`` → ``z_c = L z`` (``L`` the Cholesky factor of the copula correlation) →
    ``x_i = F_i⁻¹(Φ(z_c,i))``; a joint block picks row ``⌊u·m⌋`` of its samples. This is the Nataf
    transform, used in reverse by FORM and polynomial chaos.

    Examples
    --------
    >>> from uqbridge.distributions import Normal, Uniform
    >>> s = InputSet([Input("a", Normal(0, 1)), Input("b", Uniform(0, 1), "epistemic")],
    ...              correlation={("a", "b"): 0.5})
    >>> s.names, s.epistemic
    (('a', 'b'), ('b',))
    >>> sorted(s.from_unit(np.array([[0.5, 0.5]])))
    ['a', 'b']
    """

    inputs: tuple[Input, ...]
    correlation: Mapping[tuple[str, str], float] | None = None
    joint: tuple[_JointBlock, ...] = field(default=(), repr=False)
    # Cholesky factor of the copula correlation, set by ``__post_init__``
    _chol: np.ndarray = field(init=False, repr=False, compare=False)

    if TYPE_CHECKING:
        # the constructor takes any iterable of inputs and ``__post_init__`` normalises it to a
        # tuple; this signature tells type checkers so (the runtime ``__init__`` is the one
        # ``dataclass`` generates)
        def __init__(
            self,
            inputs: Iterable[Input],
            correlation: Mapping[tuple[str, str], float] | None = None,
            joint: tuple[_JointBlock, ...] = (),
        ) -> None: ...

    def __post_init__(self) -> None:
        inputs = tuple(self.inputs)
        object.__setattr__(self, "inputs", inputs)
        names = [i.name for i in inputs]
        duplicated = sorted({n for n in names if names.count(n) > 1})
        if duplicated:
            raise ValueError(f"duplicate input names: {duplicated}")
        corr = dict(self.correlation or {})
        object.__setattr__(self, "correlation", corr)
        param = self._parametric_names()
        for (a, b), rho in corr.items():
            for n in (a, b):
                if n not in names:
                    raise KeyError(f"correlation names unknown input {n!r}; inputs are {names}")
                if n not in param:
                    raise ValueError(
                        f"correlation involves {n!r}, which is constant or drawn from joint "
                        "samples; only uncertain parametric inputs can be correlated"
                    )
            if a == b:
                raise ValueError(f"correlation of {a!r} with itself is 1 by definition; remove it")
            if not -1 < rho < 1:
                raise ValueError(f"correlation {a!r}-{b!r} must lie in (-1, 1), got {rho!r}")
        matrix = self.correlation_matrix()
        try:
            chol = np.linalg.cholesky(matrix)
        except np.linalg.LinAlgError:
            smallest = float(np.linalg.eigvalsh(matrix).min())
            raise ValueError(
                "correlation matrix is not positive definite (smallest eigenvalue "
                f"{smallest:.3g}); make the pairwise correlations mutually consistent"
            ) from None
        object.__setattr__(self, "_chol", chol)

    # ---- lookups -------------------------------------------------------------------------------
    @property
    def names(self) -> tuple[str, ...]:
        return tuple(i.name for i in self.inputs)

    def __iter__(self) -> Iterator[Input]:
        return iter(self.inputs)

    def __len__(self) -> int:
        return len(self.inputs)

    def __contains__(self, name: object) -> bool:
        return name in self.names

    def __getitem__(self, name: str) -> Input:
        for i in self.inputs:
            if i.name == name:
                return i
        raise KeyError(f"unknown input {name!r}; valid inputs: {list(self.names)}")

    @property
    def uncertain(self) -> tuple[str, ...]:
        """Names of the inputs that are not Constant."""
        return tuple(i.name for i in self.inputs if not i.distribution.is_constant)

    @property
    def aleatory(self) -> tuple[str, ...]:
        return tuple(n for n in self.uncertain if self[n].kind == "aleatory")

    @property
    def epistemic(self) -> tuple[str, ...]:
        return tuple(n for n in self.uncertain if self[n].kind == "epistemic")

    @property
    def conditions(self) -> tuple[str, ...]:
        """Names of the controlled conditions (kind ``"condition"``)."""
        return tuple(i.name for i in self.inputs if i.kind == "condition")

    def _joint_names(self) -> set[str]:
        return {n for block in self.joint for n in block.names}

    def _parametric_names(self) -> tuple[str, ...]:
        joint = self._joint_names()
        return tuple(n for n in self.uncertain if n not in joint)

    @property
    def dimension_names(self) -> tuple[str, ...]:
        """One label per design dimension: parametric inputs, then ``"a+b"`` per joint block."""
        return self._parametric_names() + tuple("+".join(b.names) for b in self.joint)

    @property
    def dimension(self) -> int:
        return len(self.dimension_names)

    @property
    def is_independent(self) -> bool:
        return not self.correlation and not self.joint

    def correlation_matrix(self) -> np.ndarray:
        """Gaussian-copula correlation over the parametric uncertain inputs (in their order)."""
        names = self._parametric_names()
        index = {n: k for k, n in enumerate(names)}
        matrix = np.eye(len(names))
        for (a, b), rho in (self.correlation or {}).items():
            matrix[index[a], index[b]] = matrix[index[b], index[a]] = rho
        return matrix

    # ---- transforms -------------------------------------------------------------------------------
    def from_standard_normal(self, z: np.ndarray) -> dict[str, np.ndarray]:
        """Map independent standard normals ``z`` (n, dimension) to input values.

        Joint blocks use their coordinate through Φ to pick a row. Tails are mapped through the
        survival function so that FORM design points at β ≈ 8 stay accurate.
        """
        from scipy import special  # imported on first use: declaring inputs needs none (issue #31)

        z = self._check_design(z)
        params = self._parametric_names()
        zc = z[:, : len(params)] @ self._chol.T
        values: dict[str, np.ndarray] = {}
        for k, name in enumerate(params):
            values[name] = _normal_to_marginal(self[name].distribution, zc[:, k])
        for j, block in enumerate(self.joint):
            u = special.ndtr(z[:, len(params) + j])
            values.update(self._block_rows(block, u))
        return self._with_constants(values, z.shape[0])

    def from_unit(self, u: np.ndarray) -> dict[str, np.ndarray]:
        """Map a design ``u`` in the open unit hypercube (n, dimension) to input values."""
        u = self._check_design(u)
        if u.size and not (u.min() > 0 and u.max() < 1):
            u = np.clip(u, 1e-16, 1 - 1e-16)
        if self.correlation:
            from scipy import special

            return self.from_standard_normal(special.ndtri(u))
        params = self._parametric_names()
        values: dict[str, np.ndarray] = {}
        for k, name in enumerate(params):
            values[name] = np.asarray(self[name].distribution.ppf(u[:, k]), dtype=float)
        for j, block in enumerate(self.joint):
            values.update(self._block_rows(block, u[:, len(params) + j]))
        return self._with_constants(values, u.shape[0])

    def to_standard_normal(self, values: Mapping[str, np.ndarray]) -> np.ndarray:
        """Inverse of :meth:`from_standard_normal` (parametric inputs only)."""
        if self.joint:
            raise ValueError(
                "inputs given as joint samples have no standard-normal transform; fit a parametric "
                "distribution or use a sampling-based method"
            )
        from scipy import special

        params = self._parametric_names()
        cols = []
        for name in params:
            dist = self[name].distribution
            x = np.asarray(values[name], dtype=float)
            cols.append(special.ndtri(np.clip(dist.cdf(x), 1e-300, 1 - 1e-16)))
        zc = np.stack(cols, axis=-1) if cols else np.zeros((len(np.atleast_1d(0)), 0))
        return np.linalg.solve(self._chol, zc.T).T

    def _check_design(self, u: np.ndarray) -> np.ndarray:
        u = np.atleast_2d(np.asarray(u, dtype=float))
        if u.shape[1] != self.dimension:
            raise ValueError(
                f"design has {u.shape[1]} columns but the inputs have {self.dimension} design "
                f"dimensions {list(self.dimension_names)}"
            )
        return u

    @staticmethod
    def _block_rows(block: _JointBlock, u: np.ndarray) -> dict[str, np.ndarray]:
        m = block.values.shape[0]
        rows = np.minimum((np.asarray(u) * m).astype(np.int64), m - 1)
        return {n: block.values[rows, k] for k, n in enumerate(block.names)}

    def _with_constants(self, values: dict[str, np.ndarray], n: int) -> dict[str, np.ndarray]:
        for i in self.inputs:
            if i.distribution.is_constant:
                # a constant distribution (Constant) carries its ``value``; ``is_constant`` is the protocol
                values[i.name] = np.full(n, float(i.distribution.value))  # type: ignore[attr-defined]
        return {name: values[name] for name in self.names}

    # ---- derived sets --------------------------------------------------------------------------
    def replace(self, **changes: Distribution | Input | float) -> InputSet:
        """Return a copy with some inputs replaced: a Distribution, a whole Input, or a number (fixed).

        Examples
        --------
        >>> from uqbridge.distributions import Normal
        >>> s = InputSet([Input("a", Normal(0, 1))]).replace(a=2.0)
        >>> s["a"].distribution
        Constant(value=2.0)
        """
        new = []
        for name in changes:
            self[name]  # raises a clear KeyError for an unknown name
        for i in self.inputs:
            if i.name not in changes:
                new.append(i)
                continue
            change = changes[i.name]
            if isinstance(change, Input):
                new.append(change)
            elif isinstance(change, Distribution):
                new.append(replace(i, distribution=change))
            elif isinstance(change, (int, float, np.floating, np.integer)):
                new.append(replace(i, distribution=Constant(float(change))))
            else:
                raise TypeError(
                    f"input {i.name!r}: give a Distribution, an Input or a number, "
                    f"got {type(change).__name__}"
                )
        keep = {
            pair: rho
            for pair, rho in (self.correlation or {}).items()
            if all(not isinstance(changes.get(n), (int, float, Input)) for n in pair)
        }
        joint = tuple(b for b in self.joint if not set(b.names) & set(changes))
        return InputSet(new, correlation=keep, joint=joint)

    def with_joint_samples(self, samples: Mapping[str, Any]) -> InputSet:
        """Replace several inputs by joint samples (e.g. posterior draws), keeping their correlation.

        Each named input gets an :class:`Empirical` marginal (for display and moments) and the
        inputs are drawn together, row by row, in every design.

        Examples
        --------
        >>> from uqbridge.distributions import Normal
        >>> s = InputSet([Input("a", Normal(0, 1), "epistemic"), Input("b", Normal(0, 1))])
        >>> rng = np.random.default_rng(0)
        >>> post = {"a": rng.normal(size=100), "b": rng.normal(size=100)}
        >>> s.with_joint_samples(post).dimension_names
        ('a+b',)
        """
        names = tuple(samples)
        for n in names:
            self[n]
        columns = [np.asarray(samples[n], dtype=float).ravel() for n in names]
        if len({c.size for c in columns}) != 1:
            sizes = {n: c.size for n, c in zip(names, columns)}
            raise ValueError(f"joint samples must have equal lengths, got {sizes}")
        values = np.stack(columns, axis=-1)
        base = self.replace(**{n: Empirical(values[:, k]) for k, n in enumerate(names)})
        # the joint samples carry their own dependence: drop copula pairs that involve them
        correlation = {p: r for p, r in (base.correlation or {}).items() if not set(p) & set(names)}
        return InputSet(base.inputs, correlation=correlation, joint=base.joint + (_JointBlock(names, values),))

    # ---- serialisation --------------------------------------------------------------------------
    def to_json(self) -> str:
        """JSON text of the full specification (stored in every result's attributes)."""
        return json.dumps(
            {
                "inputs": [i.to_dict() for i in self.inputs],
                "correlation": [[a, b, rho] for (a, b), rho in (self.correlation or {}).items()],
                "joint": [{"names": list(b.names), "values": b.values.tolist()} for b in self.joint],
            }
        )

    @classmethod
    def from_json(cls, text: str) -> InputSet:
        spec = json.loads(text)
        return cls(
            [Input.from_dict(i) for i in spec["inputs"]],
            correlation={(a, b): rho for a, b, rho in spec.get("correlation", [])},
            joint=tuple(
                _JointBlock(tuple(b["names"]), np.asarray(b["values"], dtype=float))
                for b in spec.get("joint", [])
            ),
        )

    def table(self) -> list[dict[str, str]]:
        """Rows (name, kind, distribution, units, description) for display."""
        return [
            {
                "name": i.name,
                "kind": i.kind if i.kind == "condition" or not i.distribution.is_constant else "fixed",
                "distribution": str(i.distribution),
                "units": i.units,
                "description": i.description,
            }
            for i in self.inputs
        ]

    @classmethod
    def concat(cls, sets: Iterable[InputSet]) -> InputSet:
        """Union of input sets; an input shared by several sets must be declared identically."""
        merged: dict[str, Input] = {}
        correlation: dict[tuple[str, str], float] = {}
        joint: list[_JointBlock] = []
        for s in sets:
            for i in s.inputs:
                if i.name in merged and merged[i.name].to_dict() != i.to_dict():
                    raise ValueError(
                        f"input {i.name!r} is declared differently by two models: "
                        f"{merged[i.name].distribution} vs {i.distribution}; override one of them"
                    )
                merged.setdefault(i.name, i)
            correlation.update(s.correlation or {})
            joint.extend(b for b in s.joint if all(b is not j for j in joint))
        return cls(tuple(merged.values()), correlation=correlation, joint=tuple(joint))


def _normal_to_marginal(dist: Distribution, z: np.ndarray) -> np.ndarray:
    """x = F⁻¹(Φ(z)), through the survival function in the upper tail for accuracy."""
    from scipy import special

    if isinstance(dist, Empirical):
        return dist.ppf(special.ndtr(z))
    upper = z > 0
    out = np.empty_like(z, dtype=float)
    out[~upper] = dist.ppf(special.ndtr(z[~upper]))
    out[upper] = dist.isf(special.ndtr(-z[upper]))
    return out
