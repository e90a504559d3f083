"""CONTRIBUTING.md's recipes run as written (issue #32): a new reliability method, sensitivity
estimator, model, chain stage/adapter and study analysis kind. The references each recipe checks
against are named in CONTRIBUTING.md next to the check (closed forms and a published mean)."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _recipes() -> dict[str, list[str]]:
    text = (ROOT / "CONTRIBUTING.md").read_text()
    found: dict[str, list[str]] = {}
    for name, code in re.findall(r"<!-- recipe: (\w+) -->\s*```python\n(.*?)```", text, flags=re.S):
        found.setdefault(name, []).append(code)
    return found


@pytest.fixture
def registries():
    """The registries a recipe extends, restored afterwards (a recipe adds at run time; a PR edits the dict)."""
    from uqbridge.reliability.registry import METHODS
    from uqbridge.report.headline import HEADLINES
    from uqbridge.report.study import SECTIONS
    from uqbridge.sensitivity.registry import ESTIMATORS
    from uqbridge.study import ANALYSES

    saved = [(d, dict(d)) for d in (METHODS, ESTIMATORS, ANALYSES, HEADLINES, SECTIONS)]
    yield
    for d, copy in saved:
        d.clear()
        d.update(copy)


def test_every_recipe_is_there():
    assert set(_recipes()) == {"reliability", "estimator", "model", "stage", "analysis"}


@pytest.mark.parametrize("name", ["reliability", "estimator", "model", "stage", "analysis"])
def test_recipe_runs_as_written(name, registries):
    namespace: dict = {"__name__": f"recipe_{name}"}
    for block in _recipes()[name]:
        exec(compile(block, f"CONTRIBUTING.md recipe {name}", "exec"), namespace)  # noqa: S102 - our own docs
