"""External-command models around a standalone solver (``heat_rod.py``).

Reference: steady conduction with a uniform source, -k T'' = q, T(0) = T(L) = T0, has the exact
peak T0 + q L^2 / (8 k) (e.g. Incropera & DeWitt, Fundamentals of Heat and Mass Transfer, §3.5);
the solver's second-order scheme is exact for this quadratic solution.
"""

import os
import sys
from pathlib import Path

import numpy as np
import pytest

import uqbridge as uq
from uqbridge.execution.backends import ProcessPool
from uqbridge.execution.batch import ERROR, OK, evaluate
from uqbridge.external import command_model, csv_file, json_file, regex

SOLVER = Path(__file__).with_name("heat_rod.py")
INPUT = "k = $k\nq = $q\nL = 0.5\nT0 = 300\nn = 40\ndelay = $delay\n"


def rod(tmp_path, **options):
    inputs = [
        uq.Input("k", uq.Uniform(10, 50), "epistemic", "W/m/K", "conductivity"),
        uq.Input("q", uq.Uniform(1e4, 1e5), "aleatory", "W/m^3", "heat source"),
        uq.Input("delay", uq.Constant(0.0), "aleatory", "s", "simulated extra run time"),
    ]
    settings = dict(parse=json_file("result.json"), files={"input.txt": INPUT}, workdir=tmp_path / "runs",
                    timeout=20.0)
    settings.update(options)
    return command_model("heat_rod", [sys.executable, os.fspath(SOLVER)], inputs,
                         [uq.Output("T_max", "K"), uq.Output("T_mean", "K")], **settings)


def exact_peak(k, q, L=0.5, T0=300.0):
    return T0 + q * L**2 / (8 * k)


def test_outputs_match_the_closed_form_and_work_directories_are_cleaned(tmp_path):
    model = rod(tmp_path)
    k, q = np.array([10.0, 25.0, 50.0]), np.array([1e4, 5e4, 1e5])
    got = model(k=k, q=q)
    np.testing.assert_allclose(got["T_max"], exact_peak(k, q), rtol=1e-12)
    assert list((tmp_path / "runs").iterdir()) == []  # keep="failed": successful points leave nothing


def test_a_hang_and_a_crash_are_recorded_and_the_rest_kept(tmp_path):
    model = rod(tmp_path, timeout=2.0, max_concurrency=3)
    k = np.array([20.0, 20.0, 20.0, 20.0, 30.0])
    q = np.array([2e4, 2e4, -1.0, 5e4, 6e4])      # q < 0: the solver exits with code 3
    delay = np.array([0.0, 60.0, 0.0, 0.0, 0.0])  # 60 s > 2 s timeout
    r = evaluate(model, {"k": k, "q": q, "delay": delay})
    assert r.status.tolist() == [OK, ERROR, ERROR, OK, OK]
    assert "timed out after 2 s" in r.message[1]
    assert "exit code 3" in r.message[2] and "q = -1.0 >= 0" in r.message[2]
    ok = r.status == OK
    np.testing.assert_allclose(r.outputs["T_max"][ok], exact_peak(k[ok], q[ok]), rtol=1e-12)
    kept = sorted((tmp_path / "runs").iterdir())
    assert len(kept) == 2  # the two failed points' folders, with their stdout/stderr
    assert all((d / "stderr.txt").exists() for d in kept)
    assert str(kept[0]) in r.message[1] or str(kept[1]) in r.message[1]


def test_regex_and_csv_parsers_and_keep_all(tmp_path):
    model = rod(tmp_path, parse=regex({"T_max": r"T_max = (\S+)", "T_mean": r"T_mean = (\S+)"}))
    with pytest.raises(Exception, match="T_mean"):  # stdout has no T_mean: a parse failure, reported
        model(k=20.0, q=2e4)
    writer = "import csv,sys; w=csv.writer(open('o.csv','w')); w.writerow(['T_max','T_mean']); w.writerow([$k, 2*$k])"
    m2 = command_model("csvw", [sys.executable, "-c", writer], [uq.Input("k", uq.Uniform(1, 2))],
                       [uq.Output("T_max"), uq.Output("T_mean")], parse=csv_file("o.csv"),
                       workdir=tmp_path / "all", keep="all")
    np.testing.assert_array_equal(m2(k=np.array([1.5, 1.25]))["T_mean"], [3.0, 2.5])
    assert len(list((tmp_path / "all").iterdir())) == 2


def test_runs_on_the_process_pool_with_the_same_numbers(tmp_path):
    model = rod(tmp_path)
    values = {"k": np.linspace(10, 50, 6), "q": np.linspace(1e4, 1e5, 6)}
    with ProcessPool(2) as pool:
        r = evaluate(model, values, backend=pool, batch_size=3)
    assert (r.status == OK).all()
    np.testing.assert_array_equal(r.outputs["T_max"], model(**values)["T_max"])


def test_as_a_chain_stage(tmp_path):
    """The external solver as the macro stage of a chain fed by a micro map (k from a mixture rule)."""
    micro = uq.ForwardModel(
        "mixture", lambda phi: {"k": 50.0 * (1 - phi) + 10.0 * phi},
        [uq.Input("phi", uq.Uniform(0, 1), "aleatory", "-")], [uq.Output("k", "W/m/K")])
    both = uq.chain(micro, rod(tmp_path))
    got = both(phi=np.array([0.0, 1.0]), q=np.array([1e4, 1e4]))
    np.testing.assert_allclose(got["T_max"], exact_peak(np.array([50.0, 10.0]), 1e4), rtol=1e-12)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"files": {"input.txt": "k = $kk\n"}}, r"uses \$kk, which is not an input"),
        ({"keep": "some"}, "keep must be one of"),
        ({"timeout": -1}, "timeout must be a positive number"),
        ({"max_concurrency": 0}, "max_concurrency must be an integer >= 1"),
        ({"parse": "result.json"}, "parse must be a parser"),
    ],
)
def test_bad_settings_are_refused_with_the_fix(tmp_path, kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        rod(tmp_path, **kwargs)


def test_a_regex_without_a_group_is_refused():
    with pytest.raises(ValueError, match="needs one group"):
        regex({"T_max": r"T_max = \S+"})
