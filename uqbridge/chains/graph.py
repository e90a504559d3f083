"""Multiscale model graphs: stages (ForwardModels with a scale label) wired output → input, units checked.

A :class:`ChainModel` is a :class:`~uqbridge.model.ForwardModel`, so every analysis takes it unchanged;
it also keeps its stages, the scale at which each input enters and the stage that makes each output,
which per-scale attribution (:mod:`uqbridge.chains.shares`) and per-stage surrogates read.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, NoReturn

import numpy as np

from ..distributions import Distribution
from ..inputs import Input, InputSet
from ..model import ForwardModel, ModelContractError, Output

__all__ = ["GROUPINGS", "ChainModel", "ChainWarning", "Stage", "Wire", "Wired", "adapter", "chain", "check_units", "scale_groups"]

GROUPINGS = ("scale", "scale_kind")


@dataclass(frozen=True)
class Wired(Distribution):
    """Law of an adapter input: none of its own; inside a chain a wire feeds it, alone it must be given."""

    def _refuse(self, *_: Any, **__: Any) -> NoReturn:
        raise TypeError("an adapter input has no distribution of its own; it is fed by a wire in a chain")

    scipy = chaospy = pymc = ppf = cdf = pdf = _refuse

    def __str__(self) -> str:
        return "Wired(upstream)"


@dataclass(frozen=True, eq=False)
class Stage:
    """One stage of a chain: a forward model at a named scale, with its wiring.

    Parameters
    ----------
    model : ForwardModel
    scale : str, optional
        Scale label (e.g. ``"atomistic"``, ``"crystal"``, ``"part"``); default ``model.name``.
    wires : mapping ``{stage input: upstream output}``, optional
        Explicit renames: the stage input is fed by that output of an earlier stage. Inputs not
        listed are still wired when an earlier stage produces an output of the same name.
    rename : mapping ``{stage input or output: name in the chain}``, optional
        Chain-level names of unwired inputs and of outputs (to avoid clashes between stages).
    adapter : bool
        A deterministic stage whose inputs must all be wired (see :func:`adapter`).
    inherit_scale : bool
        Set by :func:`adapter` when no scale is given: :func:`chain` then labels the stage with the
        scale of the first later stage that reads its outputs (the stage it serves).

    Notes
    -----
    A wired input keeps whatever distribution the stage's model declares: it is used when the
    stage runs alone; inside the chain the wire feeds it.

    Examples
    --------
    >>> from uqbridge import Normal
    >>> m = ForwardModel("strut", lambda E: {"P": 2 * E}, [Input("E", Normal(200, 5), units="GPa")],
    ...                  [Output("P", "GPa")])
    >>> Stage(m, scale="component", wires={"E": "E_vrh"}).scale
    'component'
    """

    model: ForwardModel
    scale: str | None = None
    wires: Mapping[str, str] = field(default_factory=dict)
    rename: Mapping[str, str] = field(default_factory=dict)
    adapter: bool = False
    inherit_scale: bool = False  # an adapter given no scale takes that of the stage it serves (in chain)

    def __post_init__(self) -> None:
        if not isinstance(self.model, ForwardModel):
            raise TypeError(f"Stage: model must be a ForwardModel, got {type(self.model).__name__}")
        scale = self.model.name if self.scale is None else self.scale
        if not (isinstance(scale, str) and scale and "/" not in scale):
            raise ValueError(f"Stage {self.model.name!r}: scale must be a non-empty string without '/', got {scale!r}")
        object.__setattr__(self, "scale", scale)
        object.__setattr__(self, "wires", dict(self.wires))
        object.__setattr__(self, "rename", dict(self.rename))
        for target in self.wires:
            if target not in self.model.inputs.names:
                raise KeyError(
                    f"Stage {self.model.name!r}: wires names input {target!r}, which the model does not "
                    f"have; its inputs: {list(self.model.inputs.names)}"
                )
        for old, new in self.rename.items():
            if old not in self.model.inputs.names and old not in self.model.output_names:
                raise KeyError(
                    f"Stage {self.model.name!r}: rename names {old!r}, neither an input nor an output; "
                    f"inputs {list(self.model.inputs.names)}, outputs {list(self.model.output_names)}"
                )
            if old in self.wires:
                raise ValueError(f"Stage {self.model.name!r}: input {old!r} is both wired and renamed; keep one")
            if not (isinstance(new, str) and new.isidentifier()):
                raise ValueError(f"Stage {self.model.name!r}: rename {old!r} -> {new!r}: a Python identifier is needed")

    @property
    def name(self) -> str:
        return self.model.name


@dataclass(frozen=True)
class Wire:
    """One resolved connection: ``source`` output of stage ``source_stage`` feeds ``target`` of ``target_stage``."""

    source_stage: int
    source: str
    target_stage: int
    target: str
    source_units: str
    target_units: str


@dataclass(frozen=True, eq=False)
class _GraphFunction:
    """Picklable evaluation of the stages in order (NumPy, or tensors of ``xp``)."""

    stages: tuple[Stage, ...]
    arguments: tuple[tuple[tuple[str, str], ...], ...]  # per stage: (stage input, chain name)
    results: tuple[tuple[tuple[str, str], ...], ...]  # per stage: (stage output, chain name)

    def __call__(self, xp: Any = None, **values: Any) -> dict[str, Any]:
        return self.run(values, xp=xp)

    def run(self, values: Mapping[str, Any], *, xp: Any = None, stop: int | None = None) -> dict[str, Any]:
        """Chain outputs (all stages) or, with ``stop=k``, every value known before stage ``k`` runs."""
        known = dict(values)
        out: dict[str, Any] = {}
        for k, stage in enumerate(self.stages):
            if stop is not None and k == stop:
                return known
            args = {own: known[name] for own, name in self.arguments[k]}
            if xp is not None:
                result = stage.model.function(**args, xp=xp)
            else:
                result = _run_stage(stage, {own: _read_only(v) for own, v in args.items()})
            for own, name in self.results[k]:
                known[name] = out[name] = result[own]
        return out


def _read_only(value: Any) -> Any:
    """A read-only view of an array (other values as they are): every stage gets its wired inputs so,
    and an in-place edit cannot rewrite an earlier stage's recorded output."""
    if isinstance(value, np.ndarray):
        view = value.view()
        view.flags.writeable = False
        return view
    return value


def _run_stage(stage: Stage, args: dict[str, Any]) -> Any:
    try:
        return stage.model.function(**args)
    except ValueError as err:
        if "read-only" not in str(err):
            raise
        raise ModelContractError(
            f"stage {stage.name!r} modified one of its inputs {sorted(args)} in place ({err}); wired inputs are "
            "read-only so that the recorded intermediates stay true: compute into a new array (x = x * 2, not x *= 2)"
        ) from None


@dataclass(frozen=True, eq=False, repr=False)  # ForwardModel's one-line repr
class ChainModel(ForwardModel):
    """A ForwardModel made of stages (see :func:`chain`); the stage structure stays readable."""

    stages: tuple[Stage, ...] = ()
    wires: tuple[Wire, ...] = ()
    surrogate_reports: tuple[Any, ...] = ()  # held-out reports of stages replaced by surrogates

    @property
    def _graph(self) -> _GraphFunction:
        if not isinstance(self.function, _GraphFunction):  # e.g. a copy with a replaced function
            raise TypeError(f"chain {self.name!r} lost its stage function; rebuild it with uqbridge.chain")
        return self.function

    @property
    def scales(self) -> tuple[str, ...]:
        """Scale labels in stage order (first appearance), micro to macro."""
        return tuple(dict.fromkeys(s.scale for s in self.stages))  # type: ignore[misc]

    @property
    def input_scale(self) -> dict[str, str]:
        """``{chain input: scale of the first stage that reads it}``."""
        where: dict[str, str] = {}
        for stage, args in zip(self.stages, self._graph.arguments):
            for _, name in args:
                if name in self.inputs.names:
                    where.setdefault(name, stage.scale)  # type: ignore[arg-type]
        return {n: where[n] for n in self.inputs.names}

    @property
    def output_stage(self) -> dict[str, str]:
        """``{chain output: scale of the stage that produces it}`` (intermediates included)."""
        return {name: stage.scale for stage, res in zip(self.stages, self._graph.results) for _, name in res}  # type: ignore[misc]

    @property
    def input_reach(self) -> dict[str, frozenset[str]]:
        """``{chain output: chain inputs that can change it}`` read from the wiring (stage granularity:
        a stage's outputs depend on all its inputs and, through its wires, on everything upstream of
        them). Attribution uses it: an input that cannot reach an output has exactly zero share there.

        Examples
        --------
        >>> from uqbridge import Normal
        >>> a = ForwardModel("micro", lambda x: {"b": x}, [Input("x", Normal(0, 1))], [Output("b")])
        >>> b = ForwardModel("macro", lambda b, c: {"y": b + c}, [Input("b", Normal(0, 1)), Input("c", Normal(0, 1))], [Output("y")])
        >>> {k: sorted(v) for k, v in chain(a, b).input_reach.items()}
        {'b': ['x'], 'y': ['c', 'x']}
        """
        inputs = set(self.inputs.names)
        depends: dict[str, frozenset[str]] = {n: frozenset({n}) for n in inputs}
        out: dict[str, frozenset[str]] = {}
        for args, res in zip(self._graph.arguments, self._graph.results):
            reach = frozenset().union(*(depends.get(name, frozenset()) for _, name in args))
            for _, name in res:
                depends[name] = out[name] = reach
        return out

    def stage_index(self, stage: int | str) -> int:
        """Index of a stage given by position, model name or (unique) scale label."""
        if isinstance(stage, (int, np.integer)):
            if not -len(self.stages) <= stage < len(self.stages):
                raise IndexError(f"chain {self.name!r} has {len(self.stages)} stages, got stage={stage}")
            return int(stage) % len(self.stages)
        by_name = [k for k, s in enumerate(self.stages) if s.name == stage]
        by_scale = [k for k, s in enumerate(self.stages) if s.scale == stage]
        hits = by_name or by_scale
        if len(hits) != 1:
            choices = [f"{s.name} ({s.scale})" for s in self.stages]
            raise KeyError(f"stage {stage!r} names {len(hits)} stages of chain {self.name!r}; give a model name or index of {choices}")
        return hits[0]

    def stage_inputs(self, stage: int | str) -> tuple[tuple[str, str], ...]:
        """``((stage input, chain name), ...)`` for one stage: what feeds it."""
        return self._graph.arguments[self.stage_index(stage)]

    def stage_outputs(self, stage: int | str) -> tuple[tuple[str, str], ...]:
        return self._graph.results[self.stage_index(stage)]

    def upstream_values(self, values: Mapping[str, Any], stage: int | str) -> dict[str, np.ndarray]:
        """Run the stages before ``stage`` on ``values`` (chain inputs, fixed ones may be omitted);
        returns every chain value known at that point (inputs and upstream outputs)."""
        full = self.complete(values)
        return self._graph.run(full, stop=self.stage_index(stage))

    def describe(self) -> str:
        """The scale ladder: stages in order with their scale, where each input enters, the wires.

        Examples
        --------
        >>> from uqbridge import Normal
        >>> a = ForwardModel("micro", lambda x: {"b": x + 1}, [Input("x", Normal(0, 1), units="m")],
        ...                  [Output("b", "m")])
        >>> b = ForwardModel("macro", lambda b, c: {"y": b * c},
        ...                  [Input("b", Normal(0, 1), units="m"), Input("c", Normal(1, 0.1))], [Output("y", "m")])
        >>> for line in chain(a, Stage(b, scale="part"), name="demo").describe().splitlines()[2:8]:
        ...     print(line)
        scale ladder (micro -> macro):
          1. micro  micro  in: x
               out: b
          2. part   macro  in: c
               <- b [m] from micro -> b [m]
               out: y
        """
        lines = [f"{self.name}: {self.description}".rstrip(": "), "", "scale ladder (micro -> macro):"]
        swidth = max(len(s.scale) for s in self.stages)  # type: ignore[arg-type]
        mwidth = max(len(s.name) for s in self.stages)
        for k, (stage, args, res) in enumerate(zip(self.stages, self._graph.arguments, self._graph.results)):
            own = [name for _, name in args if name in self.inputs.names]
            tag = " (adapter)" if stage.adapter else ""
            lines.append(
                f"  {k + 1}. {stage.scale:<{swidth}}  {stage.name:<{mwidth}}{tag}  in: {', '.join(own) or '-'}"
            )
            for w in self.wires:
                if w.target_stage == k:
                    lines.append(
                        f"       <- {w.source} [{w.source_units or '-'}] from {self.stages[w.source_stage].scale}"
                        f" -> {w.target} [{w.target_units or '-'}]"
                    )
            lines.append(f"       out: {', '.join(name for _, name in res)}")
        lines += ["", *self._io_lines(self.input_scale, self.output_stage)]
        return "\n".join(line.rstrip() for line in lines)


def chain(
    *stages: Stage | ForwardModel, name: str | None = None, description: str = ""
) -> ChainModel:
    """Compose stages micro → macro: outputs of earlier stages feed inputs of later ones.

    Each argument is a :class:`Stage` or a plain ForwardModel (its scale is then its name). A
    stage input is fed by an upstream output when the stage's ``wires`` say so, or when an upstream
    output has the same name; every other input becomes an input of the chain (declared as the
    stage declares it; an input read by several stages must be declared identically). The chain's
    outputs are all stages' outputs, intermediates included.

    Units are checked at every wire: equal strings, or the same unit spelled differently (pint),
    pass; convertible units with a factor other than 1 (GPa → Pa) are refused with the factor in
    the message — convert explicitly with an :func:`adapter` stage, so that the ladder shows it.

    Examples
    --------
    >>> from uqbridge.distributions import Normal
    >>> micro = ForwardModel("micro", lambda a: {"b": a + 1}, [Input("a", Normal(0, 1))], [Output("b")])
    >>> macro = ForwardModel("macro", lambda b, c: {"y": b * c},
    ...                      [Input("b", Normal(0, 1)), Input("c", Normal(1, 0.1))], [Output("y")])
    >>> both = chain(micro, macro)
    >>> both.inputs.names, both.output_names
    (('a', 'c'), ('b', 'y'))
    >>> both(a=1.0, c=2.0)["y"]
    array([4.])
    >>> both.input_scale, both.output_stage
    ({'a': 'micro', 'c': 'macro'}, {'b': 'micro', 'y': 'macro'})
    """
    if len(stages) < 2:
        raise ValueError("chain needs at least two stages (Stage or ForwardModel)")
    flat: list[Stage] = []
    overrides: dict[str, Input] = {}
    for s in stages:
        if isinstance(s, ChainModel) and not s.inputs.joint:
            flat.extend(s.stages)
            overrides.update({i.name: i for i in s.inputs})  # the sub-chain's own declarations win
        elif isinstance(s, Stage):
            flat.append(s)
        elif isinstance(s, ForwardModel):
            flat.append(Stage(s))
        else:
            raise TypeError(f"chain: each stage must be a Stage or a ForwardModel, got {type(s).__name__}")
    flat = _inherit_scales(flat)
    produced: dict[str, tuple[int, Output]] = {}
    sets: list[InputSet] = []
    arguments, results, wires = [], [], []
    for k, st in enumerate(flat):
        m = st.model
        args, own = [], []
        for i in m.inputs:
            if i.name in st.wires:
                source = st.wires[i.name]
                if source not in produced:
                    raise KeyError(
                        f"chain: stage {m.name!r} ({st.scale}) wires input {i.name!r} to {source!r}, which no "
                        f"earlier stage produces; upstream outputs: {sorted(produced)}"
                    )
            else:
                source = st.rename.get(i.name, i.name)
            if source in produced:
                k_src, out = produced[source]
                check_units(out.units, i.units, name=source, reader=m.name, target_name=i.name, where=(
                    f"chain: wire {flat[k_src].scale} -> {st.scale} (input {i.name!r})"
                ))
                wires.append(Wire(k_src, source, k, i.name, out.units, i.units))
            else:
                if st.adapter:
                    raise ValueError(
                        f"chain: adapter {m.name!r} input {i.name!r} is not fed by any upstream output "
                        f"(upstream outputs: {sorted(produced)}); wire it with wires={{{i.name!r}: <output>}}"
                    )
                own.append(Input(source, i.distribution, i.kind, i.units, i.description) if source != i.name else i)
            args.append((i.name, source))
        own_names = {i.name for i in own}
        ren = st.rename.get
        corr = {
            (ren(a, a), ren(b, b)): r
            for (a, b), r in (m.inputs.correlation or {}).items()
            if ren(a, a) in own_names and ren(b, b) in own_names
        }
        if m.inputs.joint and any(n not in own_names for blk in m.inputs.joint for n in blk.names):
            raise ValueError(f"chain: stage {m.name!r} draws wired or renamed inputs from joint samples; give it parametric inputs")
        sets.append(InputSet(tuple(own), correlation=corr, joint=m.inputs.joint))
        res = []
        for o in m.outputs:
            cname = st.rename.get(o.name, o.name)
            if cname in produced:
                raise ValueError(
                    f"chain: output {cname!r} is produced by stages {flat[produced[cname][0]].name!r} and "
                    f"{m.name!r}; rename one with Stage(..., rename={{{o.name!r}: 'new_name'}})"
                )
            produced[cname] = (k, Output(cname, o.units, o.description) if cname != o.name else o)
            res.append((o.name, cname))
        arguments.append(tuple(args))
        results.append(tuple(res))
    inputs = InputSet.concat(sets)
    late = sorted(set(inputs.names) & set(produced))
    if late:
        raise ValueError(
            f"chain: {late} are inputs of an early stage and outputs of a later one; order the stages micro -> macro"
        )
    if overrides:
        inputs = inputs.replace(**{n: i for n, i in overrides.items() if n in inputs.names})
    _wiring_warnings(flat, wires)
    function = _GraphFunction(tuple(flat), tuple(arguments), tuple(results))
    return ChainModel(
        name=name or "+".join(s.name for s in flat),
        function=function,
        inputs=inputs,
        outputs=tuple(o for _, o in produced.values()),
        description=description or " -> ".join(f"{s.name} [{s.scale}]" for s in flat),
        differentiable=all(s.model.differentiable for s in flat),
        stages=tuple(flat),
        wires=tuple(wires),
    )


class ChainWarning(UserWarning):
    """A chain that builds but is probably not wired as meant (a stage feeding nothing, one fed nothing)."""


def _inherit_scales(flat: list[Stage]) -> list[Stage]:
    """Adapters built without a scale take the scale of the first later stage reading one of their outputs."""
    out = list(flat)
    for k, st in enumerate(flat):
        if not (st.adapter and st.inherit_scale):
            continue
        names = {st.rename.get(o, o) for o in st.model.output_names}
        for later in flat[k + 1 :]:
            reads = {later.wires.get(i, later.rename.get(i, i)) for i in later.model.inputs.names}
            if names & reads:
                out[k] = Stage(st.model, scale=later.scale, wires=st.wires, rename=st.rename, adapter=True)
                break
    return out


def _wiring_warnings(flat: list[Stage], wires: list[Wire]) -> None:
    """Warn about a non-final stage whose outputs feed no later stage and a later stage fed by no wire:
    both usually mean a misspelled wire (the input then silently becomes a chain input with the
    downstream stage's prior, and the upstream scale's share reads 0)."""
    import warnings

    fed = {w.target_stage for w in wires}
    feeding = {w.source_stage for w in wires}
    for k, st in enumerate(flat):
        if k < len(flat) - 1 and k not in feeding:
            warnings.warn(
                f"chain: stage {st.name!r} ({st.scale}) feeds no later stage; its outputs "
                f"{list(st.model.output_names)} are only chain outputs. If a later stage should read one, wire it "
                "with Stage(model, wires={input: output})", ChainWarning, stacklevel=3,
            )
        if k > 0 and k not in fed:
            warnings.warn(
                f"chain: stage {st.name!r} ({st.scale}) receives no wire; all its inputs "
                f"{list(st.model.inputs.names)} are chain inputs with the priors it declares. If one should come "
                "from an upstream output, wire it with Stage(model, wires={input: output})", ChainWarning, stacklevel=3,
            )


def adapter(
    name: str,
    function: Callable[..., Mapping[str, Any]],
    *,
    inputs: Mapping[str, str],
    outputs: Mapping[str, str],
    scale: str | None = None,
    wires: Mapping[str, str] | None = None,
    differentiable: bool = True,
    description: str = "",
) -> Stage:
    """A deterministic stage (unit conversion, an average such as Voigt–Reuss–Hill) whose inputs are all wired.

    Parameters
    ----------
    name : str
    function : callable
        ``function(**inputs) -> {output: array}``; if ``differentiable`` it also takes ``xp=``.
    inputs, outputs : mapping ``{name: units}``
        Inputs are fed by upstream outputs (same name, or ``wires``); they have no stand-alone prior.
    scale : str, optional
        Scale label; default: inside a chain, the scale of the stage it serves (the first later stage
        reading its outputs), so that a unit conversion does not become a scale of its own.

    Examples
    --------
    >>> from uqbridge.distributions import Normal
    >>> gpa = ForwardModel("gpa", lambda x: {"E": 200 + x}, [Input("x", Normal(0, 1))], [Output("E", "GPa")])
    >>> to_pa = adapter("to_pa", lambda E, xp=None: {"E_Pa": E * 1e9}, inputs={"E": "GPa"}, outputs={"E_Pa": "Pa"})
    >>> float(chain(gpa, to_pa)(x=0.0)["E_Pa"][0])
    200000000000.0
    """
    if not inputs or not outputs:
        raise ValueError(f"adapter {name!r}: give at least one input and one output as {{name: units}}")
    model = ForwardModel(
        name,
        function,
        [Input(n, Wired(), "aleatory", u, "wired from an upstream stage") for n, u in inputs.items()],
        [Output(n, u) for n, u in outputs.items()],
        description=description or f"adapter {name}",
        differentiable=differentiable,
    )
    return Stage(model, scale=scale, wires=dict(wires or {}), adapter=True, inherit_scale=scale is None)


def scale_groups(model: ForwardModel, by: str = "scale") -> dict[str, list[str]]:
    """Groups of uncertain inputs by the scale where they enter (``"scale"``) or by scale × kind.

    A plain ForwardModel is one scale (its name). Fixed inputs are left out; empty groups omitted.

    Examples
    --------
    >>> from uqbridge.distributions import Normal
    >>> a = ForwardModel("micro", lambda x: {"b": x}, [Input("x", Normal(0, 1), "epistemic")], [Output("b")])
    >>> b = ForwardModel("macro", lambda b, c: {"y": b + c}, [Input("b", Normal(0, 1)), Input("c", Normal(0, 1))], [Output("y")])
    >>> scale_groups(chain(a, b), "scale_kind")
    {'micro/epistemic': ['x'], 'macro/aleatory': ['c']}
    """
    if by not in GROUPINGS:
        raise ValueError(f"groups={by!r} is not a grouping; valid: {list(GROUPINGS)} or a mapping {{group: [inputs]}}")
    where = model.input_scale
    groups: dict[str, list[str]] = {}
    for n in model.inputs.uncertain:
        key = where[n] if by == "scale" else f"{where[n]}/{model.inputs[n].kind}"
        groups.setdefault(key, []).append(n)
    order = list(dict.fromkeys(where.values()))
    rank = {s: k for k, s in enumerate(order)}
    kinds = {"epistemic": 0, "aleatory": 1}
    return dict(sorted(groups.items(), key=lambda kv: (rank[kv[0].split("/")[0]], kinds.get(kv[0].partition("/")[2], 0))))


# ---- units ------------------------------------------------------------------------------------------
_EXPONENT = re.compile(r"(?<=[A-Za-zµÅ])(-?\d+(?:\.\d+)?)(?![\w.])")


@functools.cache
def _registry() -> Any:
    import pint

    return pint.UnitRegistry()


@functools.lru_cache(maxsize=512)
def _to_base(units: str) -> tuple[float, str] | None:
    """``(factor, base-unit text)`` of a unit string, or None when pint cannot read it."""
    text = units.strip()
    if text in ("", "-", "1", "dimensionless"):
        return 1.0, "dimensionless"
    text = _EXPONENT.sub(r"**\1", text.replace("^", "**").replace("·", "*"))
    try:
        q = _registry().Quantity(1.0, text).to_base_units()
    except Exception:  # noqa: BLE001 - pint missing or any parse failure: compare as text
        return None
    return float(q.magnitude), str(q.units)


def _conversion(source: str, target: str) -> tuple[float, float] | None:
    """``(factor, offset)`` with ``target = factor · source + offset`` (pint; offset units such as °C), or None."""
    text = [_EXPONENT.sub(r"**\1", u.strip().replace("^", "**").replace("·", "*")) for u in (source, target)]
    try:
        q = _registry().Quantity
        zero = float(q(0.0, text[0]).to(text[1]).magnitude)
        one = float(q(1.0, text[0]).to(text[1]).magnitude)
    except Exception:  # noqa: BLE001 - pint missing or any parse failure
        return None
    return one - zero, zero


def check_units(
    source: str, target: str, *, name: str = "value", reader: str = "the next stage", where: str = "chain",
    target_name: str | None = None,
) -> None:
    """Refuse a wire whose units differ (beyond spelling); give a paste-able adapter doing the conversion.

    Examples
    --------
    >>> check_units("m^2", "m2")
    >>> check_units("GPa", "Pa", name="E", reader="strut")
    Traceback (most recent call last):
    ...
    ValueError: chain: 'E' is produced in 'GPa' but model 'strut' expects 'Pa' (1 GPa = 1e+09 Pa); convert explicitly with an adapter stage placed between them, e.g. uqbridge.adapter('E_to_Pa', lambda E, xp=None: {'E_Pa': E * 1000000000}, inputs={'E': 'GPa'}, outputs={'E_Pa': 'Pa'}), and feed model 'strut' with Stage(strut_model, wires={'E': 'E_Pa'})
    >>> check_units("degC", "K", name="T", reader="creep")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: chain: 'T' is produced in 'degC' but model 'creep' expects 'K' (K = degC + 273.15); ... lambda T, xp=None: {'T_K': T + 273.15}, ...
    """
    if source == target:
        return
    a, b = _to_base(source), _to_base(target)
    head = f"{where}: {name!r} is produced in {source!r} but model {reader!r} expects {target!r}"
    if a is not None and b is not None and a[1] == b[1]:
        conv = _conversion(source, target)
        factor, offset = conv if conv is not None else (a[0] / b[0], 0.0)
        if abs(factor - 1.0) <= 1e-12 and offset == 0.0:
            return
        ident = re.sub(r"\W", "_", target) or "1"
        new = f"{name}_{ident}"
        expr = name if abs(factor - 1.0) <= 1e-12 else f"{name} * {factor:.10g}"
        if offset:
            expr += f" {'+' if offset > 0 else '-'} {abs(offset):.10g}"
        relation = (f"1 {source or '1'} = {factor:.6g} {target or '1'}" if not offset
                    else f"{target or '1'} = {expr.replace(name, source)}")
        model_var = f"{reader}_model" if reader.isidentifier() else "model"
        raise ValueError(
            f"{head} ({relation}); convert explicitly with an adapter stage placed between them, "
            f"e.g. uqbridge.adapter({name + '_to_' + ident!r}, lambda {name}, xp=None: {{{new!r}: {expr}}}, "
            f"inputs={{{name!r}: {source!r}}}, outputs={{{new!r}: {target!r}}}), and feed model {reader!r} with "
            f"Stage({model_var}, wires={{{(target_name or name)!r}: {new!r}}})"
        )
    raise ValueError(
        f"{head}: not the same quantity{'' if a and b else ' (or not units pint can read)'}; "
        "fix the declaration of one of the stages"
    )
