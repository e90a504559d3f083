"""The model library's docstring examples, run under the package name users import (``uqbridge_models``).

pytest's ``--doctest-modules`` would import ``models/*.py`` as ``models.<module>`` (a second copy of each
module, which ``models/__init__.py`` refuses), so the examples are collected here instead.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import uqbridge_models

MODULES = sorted(m.name for m in pkgutil.iter_modules(uqbridge_models.__path__, "uqbridge_models."))


@pytest.mark.parametrize("name", ["uqbridge_models", *MODULES])
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for test in finder.find(module, name):  # each example sees its module's globals
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples in {name} failed (see the output above)"


def test_the_folder_is_not_importable_under_a_second_name(monkeypatch):
    import sys
    from pathlib import Path

    monkeypatch.syspath_prepend(str(Path(uqbridge_models.__file__).resolve().parents[1]))
    monkeypatch.delitem(sys.modules, "models", raising=False)
    with pytest.raises(ImportError, match="uqbridge_models"):
        importlib.import_module("models")
