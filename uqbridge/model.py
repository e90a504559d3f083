"""Forward models: a vectorised function of named arrays plus the declaration of its inputs and outputs.

Chains of models across scales are built in :mod:`uqbridge.chains` (a chain is a ForwardModel too).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from .distributions import Distribution
from .inputs import Input, InputSet

__all__ = ["ForwardModel", "ModelContractError", "Output", "pointwise"]


class ModelContractError(ValueError):
    """A model broke its declaration for a whole call (wrong output length, complex output, an input
    modified in place); evaluation records this as a failure of every point of the call, never splits
    the call to "repair" it."""


@dataclass(frozen=True)
class Output:
    """A declared model output (one value per sample).

    Examples
    --------
    >>> Output("C11", "GPa", "elastic constant").units
    'GPa'
    """

    name: str
    units: str = ""
    description: str = ""

    def __post_init__(self) -> None:
        if not (isinstance(self.name, str) and self.name.isidentifier()):
            raise ValueError(f"output name must be a Python identifier, got {self.name!r}")


@dataclass(frozen=True, eq=False, repr=False)
class ForwardModel:
    """A micro-to-macro map: ``function(**inputs) -> {output: array}``, vectorised over samples.

    Parameters
    ----------
    name : str
        Short identifier used in results and the CLI.
    function : callable
        Called with one keyword per input, each a 1-D array of the same length ``n``; returns a
        mapping from output name to an array broadcastable to ``(n,)``. If ``differentiable`` is
        true it also accepts ``xp=``, an array namespace (``numpy`` or ``pytensor.tensor``), and
        uses only ``xp`` functions, so that PyMC gets gradients through the same code.
    inputs : InputSet or iterable of Input
    outputs : iterable of Output
    description : str
    differentiable : bool

    Examples
    --------
    >>> from uqbridge.distributions import Normal
    >>> m = ForwardModel("double", lambda x: {"y": 2 * x},
    ...                  [Input("x", Normal(0, 1))], [Output("y")])
    >>> m(x=np.array([1.0, 2.0]))["y"]
    array([2., 4.])
    """

    name: str
    function: Callable[..., Mapping[str, Any]]
    inputs: InputSet
    outputs: tuple[Output, ...]
    description: str = ""
    differentiable: bool = False

    if TYPE_CHECKING:
        # the constructor takes any iterable of inputs/outputs and ``__post_init__`` normalises them to
        # ``InputSet`` / a tuple; this signature tells type checkers so (the runtime ``__init__`` is
        # the one ``dataclass`` generates)
        def __init__(
            self,
            name: str,
            function: Callable[..., Mapping[str, Any]],
            inputs: InputSet | Iterable[Input],
            outputs: Iterable[Output],
            description: str = "",
            differentiable: bool = False,
        ) -> None: ...

    def __post_init__(self) -> None:
        if not isinstance(self.inputs, InputSet):
            object.__setattr__(self, "inputs", InputSet(tuple(self.inputs)))
        outputs = tuple(self.outputs)
        object.__setattr__(self, "outputs", outputs)
        if not outputs:
            raise ValueError(f"model {self.name!r} declares no outputs")
        names = [o.name for o in outputs]
        clash = sorted(set(names) & set(self.inputs.names))
        if clash or len(set(names)) != len(names):
            raise ValueError(f"model {self.name!r}: output names must be unique and differ from inputs: {names}")

    @property
    def output_names(self) -> tuple[str, ...]:
        return tuple(o.name for o in self.outputs)

    @property
    def stages(self) -> tuple[Any, ...]:
        """The stages of a chain (:class:`uqbridge.chains.graph.Stage`); empty for a single map."""
        return ()

    @property
    def input_scale(self) -> dict[str, str]:
        """``{input: scale where it enters}``; a single map is one scale, named after the model."""
        return {n: self.name for n in self.inputs.names}

    @property
    def output_stage(self) -> dict[str, str]:
        """``{output: scale of the stage that produces it}``; a single map is one scale."""
        return {o: self.name for o in self.output_names}

    def output(self, name: str) -> Output:
        for o in self.outputs:
            if o.name == name:
                return o
        raise KeyError(f"model {self.name!r} has no output {name!r}; outputs: {list(self.output_names)}")

    def complete(self, values: Mapping[str, Any]) -> dict[str, np.ndarray]:
        """Check names, fill fixed inputs and broadcast everything to 1-D float arrays of length n."""
        unknown = sorted(set(values) - set(self.inputs.names))
        if unknown:
            raise KeyError(
                f"model {self.name!r} has no input(s) {unknown}; valid inputs: {list(self.inputs.names)}"
            )
        arrays = {k: np.atleast_1d(np.asarray(v, dtype=float)) for k, v in values.items()}
        n = max((a.shape[0] for a in arrays.values()), default=1)
        full: dict[str, np.ndarray] = {}
        for i in self.inputs:
            if i.name in arrays:
                a = arrays[i.name]
                full[i.name] = a if a.shape == (n,) else np.broadcast_to(a, (n,)).copy()
            elif i.distribution.is_constant:
                full[i.name] = np.full(n, i.distribution.mean)
            else:
                raise KeyError(
                    f"model {self.name!r}: missing value for uncertain input {i.name!r}; "
                    "give it, or fix it with model.with_inputs(name=value)"
                )
        return full

    def __call__(self, **values: Any) -> dict[str, np.ndarray]:
        """Evaluate on NumPy arrays (fixed inputs may be omitted); returns ``{output: (n,) array}``.

        The function receives read-only views of the inputs, so a model that modifies an input in
        place (``x *= 2``) fails with :class:`ModelContractError` naming the input instead of
        silently changing the recorded samples.
        """
        full = self.complete(values)
        n = next(iter(full.values())).shape[0] if full else 1
        frozen = {k: _read_only(v) for k, v in full.items()}
        try:
            raw = self.function(**frozen)
        except ValueError as err:
            if "read-only" not in str(err):
                raise
            raise ModelContractError(self._mutation_message(full, err)) from None
        return self._check_outputs(raw, n)

    def _mutation_message(self, full: Mapping[str, np.ndarray], err: Exception) -> str:
        # name the culprit: run once more on private copies and see which of them changed
        copies = {k: v.copy() for k, v in full.items()}
        try:
            with np.errstate(all="ignore"):
                self.function(**copies)
            changed = [k for k in full if not np.array_equal(copies[k], full[k], equal_nan=True)]
        except Exception:  # noqa: BLE001 - only used to name the input
            changed = [k for k in full if not np.array_equal(copies[k], full[k], equal_nan=True)]
        which = f"input(s) {changed}" if changed else "an input array"
        return (
            f"model {self.name!r} modified {which} in place ({err}); inputs are read-only so that the "
            "recorded samples stay true: compute into a new array (e.g. x = x * 2, not x *= 2)"
        )

    def evaluate_tensor(self, xp: Any, **values: Any) -> dict[str, Any]:
        """Evaluate on tensors of the array namespace ``xp`` (e.g. ``pytensor.tensor``)."""
        if not self.differentiable:
            raise TypeError(
                f"model {self.name!r} is not differentiable (runs on NumPy only); use the black-box "
                "or the surrogate path"
            )
        for i in self.inputs:
            if i.name not in values:
                if not i.distribution.is_constant:
                    raise KeyError(f"model {self.name!r}: missing tensor for input {i.name!r}")
                values[i.name] = i.distribution.mean
        unknown = sorted(set(values) - set(self.inputs.names))
        if unknown:
            raise KeyError(f"model {self.name!r} has no input(s) {unknown}")
        return dict(self.function(**values, xp=xp))

    def _check_outputs(self, raw: Mapping[str, Any], n: int) -> dict[str, np.ndarray]:
        if not isinstance(raw, Mapping):
            raise TypeError(f"model {self.name!r} must return a dict of outputs, got {type(raw).__name__}")
        missing = [o for o in self.output_names if o not in raw]
        if missing:
            raise ValueError(
                f"model {self.name!r} did not return declared output(s) {missing}; it returned {sorted(raw)}"
            )
        out = {}
        for name in self.output_names:
            value = np.asarray(raw[name])
            if np.iscomplexobj(value):
                raise ModelContractError(
                    f"model {self.name!r}: output {name!r} is complex; return a real quantity "
                    "(e.g. its .real, abs() or a separate output for the imaginary part)"
                )
            try:
                value = value.astype(float, copy=False)
            except (TypeError, ValueError):
                raise ModelContractError(
                    f"model {self.name!r}: output {name!r} is not numeric (dtype {value.dtype})"
                ) from None
            if value.shape == (n,):
                out[name] = value
            elif value.ndim == 0 and n == 1:  # one point: a scalar answer is unambiguous
                out[name] = np.full(1, float(value))
            else:
                # a scalar for n > 1 points is usually a reduction (float(np.sum(x))), never broadcast
                raise ModelContractError(
                    f"model {self.name!r}: output {name!r} has shape {value.shape}, expected ({n},) "
                    "(one value per sample; a constant output is written np.full_like(x, c)); "
                    "the call's points are recorded as failed"
                )
        return out

    def with_inputs(self, **changes: Distribution | Input | float) -> ForwardModel:
        """Copy with some inputs replaced (a Distribution, an Input, or a number to fix the input).

        Examples
        --------
        >>> from uqbridge.distributions import Normal, Uniform
        >>> m = ForwardModel("id", lambda x: {"y": x}, [Input("x", Normal(0, 1))], [Output("y")])
        >>> m.with_inputs(x=Uniform(0, 2)).inputs["x"].distribution
        Uniform(lower=0, upper=2)
        """
        return replace(self, inputs=self.inputs.replace(**changes))

    def with_joint_samples(self, samples: Mapping[str, Any]) -> ForwardModel:
        """Copy whose named inputs are drawn jointly from ``samples`` (e.g. posterior draws)."""
        return replace(self, inputs=self.inputs.with_joint_samples(samples))

    def __repr__(self) -> str:
        """One short line: the kind, the name and the counts; :meth:`describe` (and ``str``) give the tables.

        Examples
        --------
        >>> from uqbridge.distributions import Normal
        >>> ForwardModel("double", lambda x: {"y": 2 * x}, [Input("x", Normal(0, 1))], [Output("y")])
        <ForwardModel 'double': 1 input -> 1 output>
        """
        name = self.name if len(self.name) <= 60 else self.name[:57] + "..."
        stages = f"{len(self.stages)} stages, " if self.stages else ""
        return (f"<{type(self).__name__} {name!r}: {stages}{_count(len(self.inputs.names), 'input')} -> "
                f"{_count(len(self.outputs), 'output')}>")

    def __str__(self) -> str:
        """The full description, as :meth:`describe`."""
        return self.describe()

    def describe(self) -> str:
        """Plain-text table of the inputs (kind, distribution, units) and outputs."""
        return "\n".join([f"{self.name}: {self.description}".rstrip(": "), "", *self._io_lines()])

    def _io_lines(self, input_scale: Mapping[str, str] | None = None, output_scale: Mapping[str, str] | None = None) -> list[str]:
        """The inputs and outputs tables of :meth:`describe`, with a scale column when given (chains)."""
        rows = self.inputs.table()
        for r in rows:  # in the input's own units: a log-normal by its median and 90 % range (issue #30)
            r["distribution"] = self.inputs[r["name"]].distribution.natural(r["units"])
        width = max((len(r["name"]) for r in rows), default=0)  # a model may have no inputs
        dwidth = max((len(r["distribution"]) for r in rows), default=0)
        scales = [*(input_scale or {}).values(), *(output_scale or {}).values()]
        swidth = max(map(len, scales), default=0)

        def scale(where: Mapping[str, str] | None, name: str) -> str:
            return f"{where[name]:<{swidth}}  " if where is not None else ""

        lines = ["inputs (scale where they enter):" if input_scale is not None else "inputs:"]
        for r in rows:
            lines.append(
                f"  {r['name']:<{width}}  {scale(input_scale, r['name'])}{r['kind']:<9}  {r['distribution']:<{dwidth}}  "
                f"{r['units'] or '-':<10} {r['description']}"
            )
        lines.append("outputs (scale that produces them):" if output_scale is not None else "outputs:")
        owidth = max(len(o.name) for o in self.outputs)
        for o in self.outputs:
            lines.append(f"  {o.name:<{owidth}}  {scale(output_scale, o.name)}{o.units or '-':<10} {o.description}")
        return lines


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _read_only(a: np.ndarray) -> np.ndarray:
    view = a.view()
    view.flags.writeable = False
    return view


def pointwise(function: Callable[..., Mapping[str, float]]) -> Callable[..., dict[str, np.ndarray]]:
    """Wrap a function of scalars into a vectorised one (a loop: use only for solvers).

    Examples
    --------
    >>> f = pointwise(lambda x: {"y": float(x) ** 2})
    >>> f(x=np.array([1.0, 3.0]))["y"]
    array([1., 9.])
    """

    def vectorised(**values: np.ndarray) -> dict[str, np.ndarray]:
        arrays = {k: np.atleast_1d(v) for k, v in values.items()}
        n = max(a.shape[0] for a in arrays.values())
        rows = [function(**{k: a[j] if a.shape[0] > 1 else a[0] for k, a in arrays.items()}) for j in range(n)]
        return {key: np.array([r[key] for r in rows], dtype=float) for key in rows[0]}

    vectorised.__wrapped__ = function  # type: ignore[attr-defined]
    return vectorised
