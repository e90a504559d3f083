"""Simulator wrapping that works as written (issue #30): the README's example runs verbatim, relative
paths resolve against the file that makes the model, support files are copied or linked into every
sample's folder, a study keeps work folders under its output, a broken wrapper stops on its first batch.

Reference (analytic): heat_rod.py solves -k T'' = q on [0, L] with T(0) = T(L) = T0; the peak is
T0 + q L^2 / (8 k) (tests/external/heat_rod.py's docstring), reproduced exactly at the nodes.
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import uqbridge as uq
from uqbridge.external import command_model, json_file
from uqbridge.external.command import FirstBatchFailed, regex

ROOT = Path(__file__).resolve().parents[2]
SOLVER = ROOT / "tests" / "external" / "heat_rod.py"


def _readme_block(heading: str) -> str:
    text = (ROOT / "README.md").read_text()
    section = text.split(heading, 1)[1]
    return re.search(r"```python\n(.*?)```", section, flags=re.S).group(1)


def _env():
    root = str(Path(uq.__file__).parents[1])
    return {**os.environ, "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")])}


def test_readme_simulator_example_runs_verbatim_with_no_failed_point(tmp_path):
    (tmp_path / "tests" / "external").mkdir(parents=True)
    shutil.copy(SOLVER, tmp_path / "tests" / "external" / "heat_rod.py")
    script = tmp_path / "example.py"
    script.write_text(_readme_block("## Models that are not Python functions"))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    # run from another folder: the script path resolves against example.py's folder, not the cwd
    proc = subprocess.run([sys.executable, os.fspath(script)], cwd=elsewhere, capture_output=True, text=True,
                          timeout=300, env=_env())
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "0 of 16 points failed" in proc.stdout


@pytest.mark.slow  # 64 solver processes
def test_tutorial_example_runs_with_the_solver_beside_it(tmp_path):
    shutil.copy(SOLVER, tmp_path / "heat_rod.py")
    block = re.search(r"```python\n(.*?)```", (ROOT / "docs" / "tutorials" / "external.md").read_text(), flags=re.S).group(1)
    (tmp_path / "tutorial.py").write_text(block + "\nprint('failed', int(ds.attrs['n_failed']))\n")
    proc = subprocess.run([sys.executable, "tutorial.py"], cwd=tmp_path, capture_output=True, text=True, timeout=300,
                          env=_env())
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "failed 0" in proc.stdout


def test_copy_and_link_files_reach_every_sample(tmp_path):
    (tmp_path / "material.txt").write_text("k = 20\nL = 0.5\nT0 = 300\n")
    (tmp_path / "mesh").mkdir()
    (tmp_path / "mesh" / "n.txt").write_text("n = 32\n")
    # the command assembles input.txt from the copied card, the linked mesh folder and the sample's q
    script = ("import pathlib, runpy; read = lambda f: pathlib.Path(f).read_text(); "
              "pathlib.Path('input.txt').write_text(read('material.txt') + read('mesh/n.txt') + read('q.txt')); "
              "runpy.run_path('heat_rod.py', run_name='__main__')")
    model = command_model(
        "rod", [sys.executable, "-c", script], [uq.Input("q", uq.Uniform(1e4, 1e5))], [uq.Output("T_max")],
        files={"q.txt": "q = $q\n"}, parse=json_file("result.json", {"T_max": "T_max"}),
        copy_files=["material.txt", SOLVER], link_files=["mesh"], base=tmp_path)
    q = np.array([2e4, 8e4])
    out = model(q=q)
    np.testing.assert_allclose(out["T_max"], 300 + q * 0.5**2 / (8 * 20), rtol=1e-9)
    with pytest.raises(FileNotFoundError, match="copy_files: 'nothing.txt' not found"):
        command_model("rod", ["true"], [uq.Input("q", uq.Uniform(0, 1))], [uq.Output("y")], parse=regex({"y": "(1)"}),
                      copy_files=["nothing.txt"], base=tmp_path)


def test_a_wrapper_failing_on_its_whole_first_batch_stops_with_the_first_stderr(tmp_path):
    broken = command_model("broken", [sys.executable, "no_such_solver.py"], [uq.Input("x", uq.Uniform(0, 1))],
                           [uq.Output("y")], parse=regex({"y": r"y = (\S+)"}), workdir=tmp_path / "work")
    with pytest.raises(FirstBatchFailed, match="all 8 points of its first batch failed.*no_such_solver.py"):
        uq.propagate(broken, 64, rng=0, batch_size=8)
    assert len(list((tmp_path / "work").iterdir())) == 8  # the first batch's folders, kept for inspection


def test_cli_reports_the_early_stop_as_one_line(tmp_path, capsys):
    from uqbridge.cli import error_line

    assert error_line(FirstBatchFailed("command model 'x': all 4 points failed")).startswith("command model 'x'")


@pytest.mark.slow  # a whole study run with its report
def test_a_study_keeps_work_folders_under_its_output(tmp_path, monkeypatch):
    (tmp_path / "rod.py").write_text(
        "import sys\nimport uqbridge as uq\nfrom uqbridge.external import command_model, json_file\n"
        "def build():\n"
        "    return command_model('rod', [sys.executable, 'heat_rod.py'], [uq.Input('k', uq.Uniform(10, 50)),"
        " uq.Input('q', uq.Uniform(1e4, 1e5))], [uq.Output('T_max', 'K')], files={'input.txt': "
        "'k = $k\\nq = $q\\nL = 0.5\\nT0 = 300\\n'}, parse=json_file('result.json', {'T_max': 'T_max'}), keep='all')\n")
    shutil.copy(SOLVER, tmp_path / "heat_rod.py")
    (tmp_path / "s.toml").write_text('[study]\nname = "rod"\nseed = 1\n[model]\npath = "rod.py:build"\n'
                                     '[[analyses]]\nkind = "propagate"\nn = 8\n')
    monkeypatch.chdir(tmp_path)
    from uqbridge.study import load_study, run_study

    results = run_study(load_study("s.toml"), progress=None)
    assert int(results["propagate"].attrs["n_failed"]) == 0
    assert len(list((tmp_path / "results" / "rod" / "work").iterdir())) == 8
    assert "UQBRIDGE_WORKDIR" not in os.environ
