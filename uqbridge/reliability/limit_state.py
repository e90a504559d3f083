"""Limit states declared on model outputs, and series/parallel systems of them.

A limit state ``g`` is negative (or zero) in the failure domain: ``g = output − threshold`` when failure
is the output falling below the threshold, ``g = threshold − output`` when it rises above it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from ..inputs import InputSet
from ..model import ForwardModel

if TYPE_CHECKING:
    from ..execution.batch import Backend

__all__ = ["FAILURE_SIDES", "LimitState", "ParallelSystem", "SeriesSystem"]

FAILURE_SIDES = ("below", "above")


@dataclass(frozen=True, eq=False)
class LimitState:
    """Failure when a model output crosses a threshold.

    Parameters
    ----------
    model : ForwardModel
        The model whose uncertain inputs span the reliability problem.
    output : str
        Name of the model output the limit state is declared on.
    threshold : float
        Allowable value of the output (in the output's units).
    failure : {"below", "above"}
        Failure when ``output ≤ threshold`` ("below", e.g. a capacity margin or a conductivity
        below spec) or ``output ≥ threshold`` ("above", e.g. a flow stress above an allowable).
    name : str
        Label used in results (defaults to ``"<output> <failure> <threshold>"``).

    Notes
    -----
    ``g = output − threshold`` ("below") or ``threshold − output`` ("above"), so ``g ≤ 0`` is
    failure in both cases and ``g`` keeps the output's units.

    Examples
    --------
    >>> from uqbridge import ForwardModel, Input, Normal, Output
    >>> m = ForwardModel("margin", lambda r, s: {"z": r - s},
    ...                  [Input("r", Normal(5, 1)), Input("s", Normal(2, 1))], [Output("z")])
    >>> ls = LimitState(m, "z")
    >>> ls.g({"r": np.array([5.0, 1.0]), "s": np.array([2.0, 2.0])})
    array([ 3., -1.])
    >>> LimitState(m, "z", threshold=4.0, failure="above").g({"r": 5.0, "s": 0.0})
    array([-1.])
    """

    model: ForwardModel
    output: str
    threshold: float = 0.0
    failure: Literal["below", "above"] = "below"
    name: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.model, ForwardModel):
            raise TypeError(f"LimitState: model must be a ForwardModel, got {type(self.model).__name__}")
        self.model.output(self.output)  # raises KeyError naming the valid outputs
        if self.failure not in FAILURE_SIDES:
            raise ValueError(f"LimitState: failure must be one of {FAILURE_SIDES}, got {self.failure!r}")
        try:
            threshold = float(self.threshold)
        except (TypeError, ValueError):
            raise TypeError(f"LimitState: threshold must be a number, got {self.threshold!r}") from None
        if not np.isfinite(threshold):
            raise ValueError(f"LimitState: threshold must be finite, got {self.threshold!r}")
        object.__setattr__(self, "threshold", threshold)
        if not self.name:
            object.__setattr__(self, "name", f"{self.output} {self.failure} {threshold:g}")

    # ---- the common protocol of limit states and systems --------------------------------------
    @property
    def inputs(self) -> InputSet:
        """The input set spanning the standard-normal space of the problem."""
        return self.model.inputs

    @property
    def models(self) -> tuple[ForwardModel, ...]:
        """Distinct models evaluated per point (one run per point and model)."""
        return (self.model,)

    @property
    def components(self) -> tuple[LimitState, ...]:
        """The elementary limit states (itself)."""
        return (self,)

    @property
    def is_system(self) -> bool:
        return False

    @property
    def units(self) -> str:
        return self.model.output(self.output).units

    def g_from_outputs(self, outputs: Mapping[int, Mapping[str, Any]], xp: Any = np) -> Any:
        """``g`` from the outputs of each model (keyed by ``id(model)``)."""
        y = outputs[id(self.model)][self.output]
        return y - self.threshold if self.failure == "below" else self.threshold - y

    def g(self, values: Mapping[str, Any]) -> np.ndarray:
        """Evaluate ``g`` at input values (fixed inputs may be omitted); shape ``(n,)``.

        Points where the model raises or returns a non-finite output give NaN (the other points
        keep their values); the reliability methods count and report such points as failed runs.
        """
        return _evaluate(self, values)

    def replace_model(self, old: ForwardModel, new: ForwardModel) -> LimitState:
        """Copy with ``old`` replaced by ``new`` (used to fix epistemic inputs)."""
        return replace(self, model=new) if self.model is old else self


@dataclass(frozen=True, eq=False)
class _System:
    components: tuple[LimitState | _System, ...]
    name: str = ""

    kind = ""  # "series": fails when any component fails (min g); "parallel": when all fail (max g)

    def __post_init__(self) -> None:
        comps = tuple(self.components) if isinstance(self.components, Iterable) else None
        if not comps:
            raise ValueError(f"{type(self).__name__}: give a non-empty sequence of limit states, got {self.components!r}")
        for c in comps:
            if not isinstance(c, (LimitState, _System)):
                raise TypeError(
                    f"{type(self).__name__}: components must be LimitState, SeriesSystem or ParallelSystem, "
                    f"got {type(c).__name__}"
                )
        object.__setattr__(self, "components", comps)
        specs = {m.inputs.to_json() for c in comps for m in c.models}
        if len(specs) != 1:
            raise ValueError(
                f"{type(self).__name__}: all component models must declare the same inputs (one probability "
                "space); build them on the same InputSet"
            )
        if not self.name:
            object.__setattr__(self, "name", f"{self.kind}(" + ", ".join(c.name for c in comps) + ")")

    @property
    def inputs(self) -> InputSet:
        return self.models[0].inputs

    @property
    def models(self) -> tuple[ForwardModel, ...]:
        seen: dict[int, ForwardModel] = {}
        for c in self.components:
            for m in c.models:
                seen.setdefault(id(m), m)
        return tuple(seen.values())

    @property
    def is_system(self) -> bool:
        return True

    @property
    def units(self) -> str:
        units = {c.units for c in self.components}
        return units.pop() if len(units) == 1 else "mixed"

    def g_from_outputs(self, outputs: Mapping[int, Mapping[str, Any]], xp: Any = np) -> Any:
        combine = xp.minimum if self.kind == "series" else xp.maximum
        gs = self.component_g(outputs, xp)
        out = gs[0]
        for g in gs[1:]:
            out = combine(out, g)
        return out

    def component_g(self, outputs: Mapping[int, Mapping[str, Any]], xp: Any = np) -> list[Any]:
        return [c.g_from_outputs(outputs, xp) for c in self.components]

    def g(self, values: Mapping[str, Any]) -> np.ndarray:
        return _evaluate(self, values)

    def replace_model(self, old: ForwardModel, new: ForwardModel) -> Any:
        return replace(self, components=tuple(c.replace_model(old, new) for c in self.components))


@dataclass(frozen=True, eq=False)
class SeriesSystem(_System):
    """A system that fails when any component fails: ``g_sys = min_k g_k``.

    Examples
    --------
    >>> from uqbridge import ForwardModel, Input, Normal, Output
    >>> m = ForwardModel("two", lambda a: {"y1": 1 - a, "y2": 1 + a}, [Input("a", Normal(0, 1))],
    ...                  [Output("y1"), Output("y2")])
    >>> SeriesSystem([LimitState(m, "y1"), LimitState(m, "y2")]).g({"a": np.array([0.0, 2.0])})
    array([ 1., -1.])
    """

    kind = "series"

    if TYPE_CHECKING:  # any iterable of components (normalised to a tuple); runtime __init__ is dataclass's
        def __init__(self, components: Iterable[LimitState | _System], name: str = "") -> None: ...


@dataclass(frozen=True, eq=False)
class ParallelSystem(_System):
    """A system that fails only when all components fail: ``g_sys = max_k g_k``.

    Examples
    --------
    >>> from uqbridge import ForwardModel, Input, Normal, Output
    >>> m = ForwardModel("two", lambda a: {"y1": 1 - a, "y2": 3 - a}, [Input("a", Normal(0, 1))],
    ...                  [Output("y1"), Output("y2")])
    >>> ParallelSystem([LimitState(m, "y1"), LimitState(m, "y2")]).g({"a": np.array([2.0, 4.0])})
    array([ 1., -1.])
    """

    kind = "parallel"

    if TYPE_CHECKING:  # any iterable of components (normalised to a tuple); runtime __init__ is dataclass's
        def __init__(self, components: Iterable[LimitState | _System], name: str = "") -> None: ...


AnyLimitState = LimitState | SeriesSystem | ParallelSystem


def _evaluate(ls: Any, values: Mapping[str, Any]) -> np.ndarray:
    return evaluate_isolated(ls, values)[0]


def evaluate_isolated(
    ls: AnyLimitState, values: Mapping[str, Any], backend: Backend | None = None, cache: dict[Any, Any] | None = None
) -> tuple[np.ndarray, np.ndarray, int]:
    """``g`` at ``values`` with per-point failure isolation, a message per point ("" where fine), and
    the number of model runs made.

    Every model is evaluated by :func:`uqbridge.execution.evaluate_batch` (or, with a ``backend``,
    :func:`uqbridge.execution.evaluate` on it): a model that raises on some points (or returns
    non-finite outputs there) gives NaN at those points only, with the model's own message; the
    other points keep their values. With a ``cache`` (a dict the caller keeps), a model is never run
    twice at the same input values: searches that revisit a point, and the component searches of a
    system, reuse its outputs.
    """
    # the execution layer imports the model layer, not this one
    from ..execution.batch import evaluate, evaluate_batch

    def run(m: ForwardModel, own: dict[str, np.ndarray]) -> Any:
        return evaluate_batch(m, own) if backend is None else evaluate(m, own, backend=backend, progress=False)

    outputs = {}
    messages: np.ndarray | None = None
    runs = 0
    for m in ls.models:
        own = m.complete({k: v for k, v in values.items() if k in m.inputs.names})
        if cache is None:
            batch = run(m, own)
            out, status, message = batch.outputs, batch.status, batch.message
            runs += status.size
        else:
            out, status, message, made = _cached(m, own, cache.setdefault(id(m), {}), run)
            runs += made
        outputs[id(m)] = out
        if np.any(status != 0):
            text = np.where(status != 0, f"model {m.name!r}: " + np.asarray(message).astype(object), "")
            messages = text if messages is None else np.where(messages == "", text, messages)
    g = np.asarray(ls.g_from_outputs(outputs), dtype=float)
    if messages is None:
        messages = np.full(g.shape, "", dtype=object)
    return g, messages, runs


def _cached(m: ForwardModel, own: dict[str, np.ndarray], store: dict[bytes, tuple[Any, ...]], run: Any) -> tuple[Any, ...]:
    """Outputs, status and messages of ``m`` at ``own``, running only the points ``store`` lacks."""
    rows = np.column_stack([own[k] for k in m.inputs.names])
    keys = [r.tobytes() for r in rows]
    first: dict[bytes, int] = {}
    for i, k in enumerate(keys):
        if k not in store:
            first.setdefault(k, i)  # each new point once, in order
    fresh = list(first)
    if fresh:
        where = list(first.values())
        batch = run(m, {k: v[where] for k, v in own.items()})
        for j, key in enumerate(fresh):
            store[key] = ({o: batch.outputs[o][j] for o in m.output_names}, batch.status[j], batch.message[j])
    got = [store[k] for k in keys]
    outputs = {o: np.array([r[0][o] for r in got], dtype=float) for o in m.output_names}
    return outputs, np.array([r[1] for r in got]), np.array([r[2] for r in got], dtype=object), len(fresh)


def check_limit_state(ls: Any, where: str) -> None:
    """Raise a TypeError unless ``ls`` is a limit state or a system."""
    if not isinstance(ls, (LimitState, _System)):
        raise TypeError(
            f"{where}: expected a LimitState, SeriesSystem or ParallelSystem, got {type(ls).__name__}"
        )
    if ls.inputs.dimension == 0:
        raise ValueError(f"{where}: the limit state {ls.name!r} has no uncertain inputs")


def leaves(ls: Any) -> Sequence[LimitState]:
    """All elementary limit states of a (possibly nested) system."""
    if isinstance(ls, LimitState):
        return [ls]
    return [leaf for c in ls.components for leaf in leaves(c)]
