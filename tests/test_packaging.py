"""Packaging: the core imports no heavy optional dependency; a feature without its extra says which to install;
the model library is installed under a name that cannot clash with a user's `models` package."""

import subprocess
import sys

import pytest

from uqbridge._optional import require

HEAVY = ["pymc", "arviz", "pytensor", "chaospy", "SALib", "sklearn", "matplotlib", "ase", "umbridge", "h5netcdf"]


def test_core_import_pulls_no_optional_dependency():
    code = f"import sys, uqbridge; print([m for m in {HEAVY!r} if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True).stdout
    assert out.strip() == "[]"


def test_a_missing_extra_is_named_with_the_install_command():
    with pytest.raises(ImportError, match=r"uqbridge.calibration needs not_a_module_xyz: pip install 'uqbridge\[calibration\]'"):
        require("uqbridge.calibration", "calibration", "not_a_module_xyz")


def test_model_library_installs_as_uqbridge_models(tmp_path):
    """Outside the repository `import models` finds nothing of ours; `uqbridge_models` is the library."""
    code = "import importlib.util as u; print(u.find_spec('models') is None, u.find_spec('uqbridge_models') is not None)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=tmp_path,
                         check=True).stdout
    assert out.split() == ["True", "True"]
