"""Bring your own model (issue #30): a chain in a user's .py file, not registered, reaches the CLI and
study files through ``path/to/file.py:object``.

Reference (analytic): the chain y = (a + 1) * c with a ~ N(0, 1), c ~ N(2, 0.1) has mean
E[a + 1] E[c] = 1 * 2 = 2 (independent inputs).
"""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import uqbridge as uq
from uqbridge.cli import main
from uqbridge.registry import load_model, model_from_file
from uqbridge.study import StudyError, load_study

CHAIN = textwrap.dedent('''
    """A user's own two-scale chain, in a file of their project."""
    from uqbridge import ForwardModel, Input, Normal, Output, Stage, chain


    def _micro(a):
        return {"b": a + 1.0}


    def _macro(b, c):
        return {"y": b * c}


    def build(c_mean=2.0):
        micro = ForwardModel("micro", _micro, [Input("a", Normal(0, 1), kind="epistemic")], [Output("b", units="m")])
        macro = ForwardModel("macro", _macro, [Input("b", Normal(0, 1), units="m"),
                                               Input("c", Normal(c_mean, 0.1))], [Output("y", units="m")])
        return chain(Stage(micro, scale="micro"), Stage(macro, scale="macro"), name="my_chain")


    my_chain = build()
''')

STUDY = textwrap.dedent('''
    [study]
    name = "mine"
    seed = 11
    [model]
    path = "code/my_chain.py:build"
    options = { c_mean = 2.0 }
    [[analyses]]
    kind = "propagate"
    n = 1024
    [[analyses]]
    kind = "decompose"
    groups = "scale"
    n = 128
''')


@pytest.fixture
def project(tmp_path):
    (tmp_path / "code").mkdir()
    (tmp_path / "code" / "my_chain.py").write_text(CHAIN)
    (tmp_path / "study.toml").write_text(STUDY)
    return tmp_path


def test_a_chain_in_a_users_file_runs_as_a_study_with_path(project, monkeypatch, capsys):
    monkeypatch.chdir(project)
    assert main(["run", "study.toml", "--out", "results"]) == 0  # path is relative to the study file
    summary = json.loads((project / "results" / "mine" / "summary.json").read_text())
    assert next(iter(summary)) == "summary"
    mean = summary["results"]["propagate"]["outputs"]["y"]
    # analytic mean 2; tolerance 4 standard errors of the Sobol' estimate (its se overstates a QMC error)
    assert abs(mean["mean"] - 2.0) < 4 * mean["mean_se"]
    assert set(summary["results"]["decompose"]["groups"]["y"]) == {"micro", "macro"}


def test_describe_and_propagate_take_a_file_spec(project, monkeypatch, capsys):
    monkeypatch.chdir(project)
    assert main(["describe", "code/my_chain.py:my_chain"]) == 0
    out = capsys.readouterr().out
    assert "my_chain" in out and "micro" in out and "macro" in out
    assert main(["propagate", "code/my_chain.py:build", "-n", "64", "--seed", "1"]) == 0
    assert main(["describe", "code/my_chain.py:nothing"]) == 2
    err = capsys.readouterr().err
    assert "has no 'nothing'" in err and "build" in err and "my_chain" in err


def test_study_model_path_errors_name_the_fix(project):
    text = STUDY.replace('path = "code/my_chain.py:build"', 'path = "code/missing.py:build"')
    (project / "bad.toml").write_text(text)
    with pytest.raises(StudyError, match="no Python file at .*missing.py"):
        load_study(project / "bad.toml")
    (project / "both.toml").write_text(STUDY.replace("[model]\n", '[model]\nname = "ishigami"\n'))
    with pytest.raises(StudyError, match="give either 'name'"):
        load_study(project / "both.toml")
    (project / "nopy.toml").write_text(STUDY.replace('"code/my_chain.py:build"', '"code/my_chain:build"'))
    with pytest.raises(StudyError, match="path must be 'file.py:object'"):
        load_study(project / "nopy.toml")


def test_load_model_keeps_registered_names_and_checks_what_a_file_gives(project):
    assert load_model("ishigami").name == "ishigami"
    (project / "notmodel.py").write_text("thing = 3\ndef make():\n    return 3\n")
    with pytest.raises(TypeError, match="is a int, not a ForwardModel"):
        model_from_file("notmodel.py:thing", base=project)
    with pytest.raises(TypeError, match=r"make\(\) returned a int"):
        model_from_file("notmodel.py:make", base=project)
    with pytest.raises(TypeError, match="takes no options"):
        model_from_file("code/my_chain.py:my_chain", base=project, c_mean=1.0)


def test_serve_takes_a_file_spec(project):
    """The same file served over UM-Bridge gives the in-process numbers."""
    pytest.importorskip("requests")
    pytest.importorskip("umbridge")
    from serving import wait_until_serving

    from tests.test_cli import _free_port
    from uqbridge.execution.batch import OK, evaluate
    from uqbridge.external import umbridge_model

    port = _free_port()
    root = str(Path(uq.__file__).parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen([sys.executable, "-m", "uqbridge", "serve", "code/my_chain.py:my_chain", "--port", str(port)],
                            cwd=project, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, text=True)
    try:
        layout = [proc.stdout.readline() for _ in range(3)]
        assert layout[1].strip() == "input vector 0 (2 values): a, c", layout
        url = f"http://127.0.0.1:{port}"
        wait_until_serving(url, proc)
        here = model_from_file("code/my_chain.py:my_chain", base=project)
        remote = umbridge_model(url, here.inputs, here.outputs)
        x = {"a": np.array([0.5, -1.0]), "c": np.array([2.0, 1.5])}
        got = evaluate(remote, x)
        assert (got.status == OK).all()
        np.testing.assert_allclose(got.outputs["y"], (x["a"] + 1) * x["c"], rtol=1e-15)
    finally:
        proc.kill()
        proc.wait()
