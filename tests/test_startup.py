"""Start-up cost (issue #31): ``uqbridge propagate ishigami -n 1000000000`` must refuse in under 2 s.

The figure itself is measured by ``benchmarks/cli_startup.py`` (wall time depends on the machine); these
tests pin its cause, deterministically: ``import uqbridge``, the CLI and a model declaration import none
of the heavy modules (SciPy's statistics ≈ 1 s, xarray + pandas ≈ 1 s, pint, the optional extras), which
are imported on first use instead (PEP 562 module ``__getattr__``), while the public API stays the same.
"""

import json
import subprocess
import sys
import types

import pytest

import uqbridge

# imported on first use only; scipy.special (≈ 0.3 s) too, as declaring inputs needs no special function
HEAVY = ["scipy.stats", "scipy.special", "xarray", "pandas", "pint", "netCDF4", "chaospy", "pymc", "arviz",
         "matplotlib", "ase", "SALib", "sklearn", "dask", "umbridge"]


def _run(code: str) -> dict:
    """Run ``code`` in a fresh interpreter; it prints one JSON object as its last line."""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _loaded(setup: str) -> dict:
    return _run(f"import json, sys\n{setup}\nprint(json.dumps({{'heavy': [m for m in {HEAVY!r} if m in sys.modules]}}))")


def test_import_and_ishigami_declaration_import_no_heavy_module():
    got = _loaded("import uqbridge, uqbridge.cli\nfrom uqbridge.registry import get_model\n"
                  "model = get_model('ishigami')\nassert model.inputs.names == ('x1', 'x2', 'x3')")
    assert got["heavy"] == []


def test_the_memory_refusal_path_imports_no_heavy_module(tmp_path):
    """The whole command: parse arguments, load the declaration, refuse (10^12 points: no machine has 30 TiB)."""
    got = _loaded("from uqbridge.cli import main\n"
                  "assert main(['propagate', 'ishigami', '-n', str(10**12)]) == 2\n"
                  f"assert main(['campaign', 'ishigami', '-n', str(10**12), '--store', {str(tmp_path / 'store')!r}]) == 2")
    assert got["heavy"] == []


def test_every_public_name_imports_from_a_fresh_interpreter():
    """Every name of ``__all__`` is there, in ``dir()`` and importable; ``uqbridge.propagate`` stays the
    function, also after the package's own modules import the submodule ``uqbridge.propagate``."""
    code = ("import json, uqbridge, uqbridge.chains\n"
            "import uqbridge.propagate as p, uqbridge.study\n"
            "missing = [n for n in uqbridge.__all__ if not hasattr(uqbridge, n)]\n"
            "missing += ['chains.' + n for n in uqbridge.chains.__all__ if not hasattr(uqbridge.chains, n)]\n"
            "exec('from uqbridge import ' + ', '.join(uqbridge.__all__))\n"
            "print(json.dumps({'missing': missing, 'dir': sorted(set(uqbridge.__all__) - set(dir(uqbridge))),\n"
            "                  'kinds': [type(x).__name__ for x in (uqbridge.propagate, p, propagate)]}))")
    got = _run(code)
    assert got == {"missing": [], "dir": [], "kinds": ["function", "function", "function"]}


def test_lazy_names_are_the_defining_modules_objects():
    from uqbridge.distributions import LogNormal
    from uqbridge.model import ForwardModel
    from uqbridge.propagate import propagate

    assert uqbridge.LogNormal is LogNormal and uqbridge.ForwardModel is ForwardModel
    assert uqbridge.propagate is propagate
    assert isinstance(uqbridge.chains, types.ModuleType)  # a submodule is still reachable as an attribute
    with pytest.raises(AttributeError, match="no attribute 'not_a_name'"):
        uqbridge.not_a_name  # noqa: B018


def test_lazy_tables_and_all_name_the_same_names():
    """Each lazy package lists its public names twice, as ``__all__`` (for linters) and as the table of
    their defining submodules (uqbridge._lazy): the two must agree."""
    import uqbridge
    import uqbridge.chains

    assert set(uqbridge.__all__) - {"__version__"} == set(uqbridge._LAZY)
    assert set(uqbridge.chains.__all__) == set(uqbridge.chains._LAZY)
