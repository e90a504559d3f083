"""The uqbridge command: listing, describing, propagating, and one-line errors with exit status 2."""

import uqbridge as uq
from uqbridge.cli import main


def test_models_lists_registry(capsys):
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    for name in uq.list_models():
        assert name in out


def test_describe_shows_kind_distribution_units(capsys):
    assert main(["describe", "borehole"]) == 0
    out = capsys.readouterr().out
    assert "rw" in out and "aleatory" in out and "epistemic" in out and "Normal(mu=0.1" in out and "m^2/yr" in out


def test_propagate_writes_netcdf(tmp_path, capsys):
    path = tmp_path / "out.nc"
    assert main(["propagate", "ishigami", "-n", "256", "--seed", "3", "--design", "lhs", "--out", str(path)]) == 0
    assert "mean" in capsys.readouterr().out
    ds = uq.load(path)
    assert ds.attrs["seed"] == 3 and ds.sizes["sample"] == 256
    assert main(["propagate", "ishigami", "-n", "256", "--seed", "3", "--design", "lhs", "--set", "x3=0"]) == 0


def test_errors_are_one_line_with_status_2(capsys):
    assert main(["describe", "no_such_model"]) == 2
    err = capsys.readouterr().err
    assert "unknown model 'no_such_model'; registered models:" in err
    assert main(["propagate", "ishigami", "--set", "x9=1"]) == 2
    assert "unknown input 'x9'; valid inputs: ['x1', 'x2', 'x3']" in capsys.readouterr().err


def test_sensitivity_writes_report_and_data(tmp_path, capsys):
    report, data = tmp_path / "r.html", tmp_path / "s.nc"
    assert main(["sensitivity", "ishigami", "-n", "256", "--seed", "1", "--methods", "sobol",
                 "--report", str(report), "--out", str(data)]) == 0
    assert report.read_text().count("data:image/png;base64") >= 1
    assert "first" in uq.load(data)


def test_campaign_and_resume(tmp_path, capsys):
    store = tmp_path / "store"
    assert main(["campaign", "ishigami", "-n", "200", "--store", str(store), "--seed", "2", "--batch-size", "50"]) == 0
    assert "200 samples, 200 ok" in capsys.readouterr().out
    assert main(["resume", str(store)]) == 0
    assert "200 samples, 200 ok" in capsys.readouterr().out
    assert main(["resume", str(tmp_path / "nothing")]) == 2


def test_propagate_and_sensitivity_on_the_process_pool_give_the_in_process_numbers(tmp_path, capsys):
    import numpy as np

    here, pool = tmp_path / "here.nc", tmp_path / "pool.nc"
    assert main(["propagate", "ishigami", "-n", "300", "--seed", "4", "--out", str(here)]) == 0
    assert main(["propagate", "ishigami", "-n", "300", "--seed", "4", "--out", str(pool),
                 "--backend", "processes", "--workers", "2", "--batch-size", "64"]) == 0
    a, b = uq.load(here), uq.load(pool)
    assert b.attrs["backend"] == "ProcessPool" and a.attrs["backend"] == "InProcess"
    np.testing.assert_array_equal(a["y"].values, b["y"].values)
    s_here, s_pool = tmp_path / "s1.nc", tmp_path / "s2.nc"
    common = ["sensitivity", "ishigami", "-n", "320", "--seed", "1", "--methods", "sobol"]
    assert main([*common, "--out", str(s_here)]) == 0
    assert main([*common, "--out", str(s_pool), "--backend", "processes", "--workers", "2"]) == 0
    np.testing.assert_array_equal(uq.load(s_here)["first"].values, uq.load(s_pool)["first"].values)


def test_backend_arguments_are_checked_before_running(capsys):
    assert main(["propagate", "ishigami", "--timeout", "5"]) == 2
    assert "timeout=5.0 needs a backend that can interrupt a batch" in capsys.readouterr().err
    import pytest

    with pytest.raises(SystemExit) as exit_:
        main(["propagate", "ishigami", "--backend", "threads"])
    assert exit_.value.code == 2 and "invalid choice: 'threads'" in capsys.readouterr().err


def test_run_command_line_overrides_the_execution_table(tmp_path, monkeypatch, capsys):
    import json

    monkeypatch.chdir(tmp_path)
    (tmp_path / "s.toml").write_text('[study]\nname = "tiny"\nseed = 1\n[model]\nname = "ishigami"\n'
                                     '[execution]\nbackend = "inprocess"\n'
                                     '[[analyses]]\nkind = "propagate"\nn = 100\n')
    assert main(["run", "s.toml", "--out", "res", "--backend", "processes", "--workers", "2"]) == 0
    assert "(backend processes, workers 2)" in capsys.readouterr().out
    summary = json.loads((tmp_path / "res" / "tiny" / "summary.json").read_text())
    assert summary["execution"] == {"backend": "ProcessPool", "workers": 2}
    assert main(["run", "s.toml", "--out", "res2", "--workers", "2"]) == 2
    assert "command line: the in-process backend runs one worker" in capsys.readouterr().err


def test_sensitivity_prints_budget_runs_intervals_and_warnings(tmp_path, capsys):
    data = tmp_path / "s.nc"
    assert main(["sensitivity", "ishigami", "-n", "256", "--seed", "1", "--methods", "sobol,fast",
                 "--out", str(data)]) == 0
    captured = capsys.readouterr()
    out = captured.out
    ds = uq.load(data)
    assert "estimator" in ds.dims and "method" not in ds.dims
    # the base N of Sobol' (largest power of two with N (d + 2) <= n, d = 3) and the runs per estimator
    assert ds.attrs["n_base_sobol"] == 32
    assert "Sobol' base N = 32 (N(d + 2) = 160 runs)" in out
    assert (f"runs made: sobol {ds.attrs['n_runs_sobol']}, fast {ds.attrs['n_runs_fast']}, "
            f"aleatory/epistemic split {ds.attrs['n_runs_split']}; total {ds.attrs['n_runs']}") in out
    # intervals in the console, the same numbers as in the data
    s = ds.sel(estimator="sobol", output="y", input="x2")
    cell = f"{float(s['total']):.3g} [{float(s['total_low']):.3g}, {float(s['total_high']):.3g}]"
    assert cell in out
    # every warning of the result, whole (the messages contain "; " themselves), printed once
    notes = [line[4:] for line in out.splitlines() if line.startswith("  - ")]
    assert notes and all(note in ds.attrs["warnings"] for note in notes)
    assert len(notes) == ds.attrs["warnings"].count("increase n)")
    assert "SensitivityWarning" not in captured.err  # not twice


def _free_port():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_over_umbridge_gives_the_in_process_numbers():
    """`python -m uqbridge serve` speaks UM-Bridge (protocol 1.0, Seelinger et al. 2023): uqbridge's
    client gets the registered model's numbers, and the layout is printed before serving."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    import numpy as np
    import pytest

    pytest.importorskip("requests")
    from serving import wait_until_serving
    pytest.importorskip("umbridge")
    from uqbridge.execution.batch import OK, evaluate
    from uqbridge.external import umbridge_model

    port = _free_port()
    root = str(Path(uq.__file__).parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen([sys.executable, "-m", "uqbridge", "serve", "ishigami", "--port", str(port),
                             "--max-workers", "2"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, text=True)
    try:
        layout = [proc.stdout.readline() for _ in range(4)]
        assert layout[1].strip() == "input vector 0 (3 values): x1, x2, x3"
        assert layout[2].strip() == "output vector 0 (1 value): y"
        url = f"http://127.0.0.1:{port}"
        wait_until_serving(url, proc)
        here = uq.get_model("ishigami")
        remote = umbridge_model(url, here.inputs, here.outputs, max_concurrency=2)
        x = {name: np.random.default_rng(3).uniform(-np.pi, np.pi, 8) for name in here.inputs.names}
        got = evaluate(remote, x)
        assert (got.status == OK).all()
        np.testing.assert_allclose(got.outputs["y"], here(**x)["y"], rtol=1e-15, atol=0)
    finally:
        proc.kill()
        proc.wait()


def test_serve_with_set_leaves_fixed_inputs_out_of_the_vector():
    import numpy as np
    import pytest

    pytest.importorskip("umbridge")
    from uqbridge.cli import serve_layout, without_inputs
    from uqbridge.external import served_model

    fixed = uq.get_model("ishigami").with_inputs(x3=0.5)
    view = without_inputs(fixed, ["x3"])
    served = served_model(view)
    assert served.get_input_sizes() == [2]
    # Ishigami at x3 = 0.5: sin x1 + 7 sin^2 x2 + 0.1 * 0.5^4 sin x1 (Ishigami & Homma 1990)
    x1, x2 = 0.3, -1.1
    expected = np.sin(x1) + 7 * np.sin(x2) ** 2 + 0.1 * 0.5**4 * np.sin(x1)
    assert served([[x1, x2]])[0][0] == pytest.approx(expected, rel=1e-14)
    text = serve_layout(view, port=1234, fixed={"x3": 0.5})
    assert "input vector 0 (2 values): x1, x2" in text and "fixed (not in the input vector): x3 = 0.5" in text
    assert served.supports_gradient() and served.gradient(0, 0, [[x1, x2]], [1.0]) == pytest.approx(
        [np.cos(x1) * (1 + 0.1 * 0.5**4), 14 * np.sin(x2) * np.cos(x2)], rel=1e-10)


def test_warnings_are_one_line_too(tmp_path, capsys):
    """Issue #18: a warning raised during a command prints as one line, not Python's file:line + source
    (an error printed after it stays the last line)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("always")
        assert main(["campaign", "ishigami", "-n", "20", "--store", str(tmp_path / "s")]) == 0
        err = capsys.readouterr().err.strip().splitlines()
        assert err and all(line.startswith("uqbridge campaign: warning (RuntimeWarning): ") for line in err), err
        assert main(["campaign", "ishigami", "-n", "20", "--store", str(tmp_path / "s")]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("uqbridge campaign: error: store"), err


def test_propagate_without_seed_stores_an_integer_seed_that_replays_the_run(tmp_path, capsys):
    """Issue #30: no --seed draws an integer seed, prints it and stores it; --seed with it replays the run."""
    import numpy as np

    first = tmp_path / "a.nc"
    assert main(["propagate", "ishigami", "-n", "256", "--out", str(first)]) == 0
    out = capsys.readouterr().out
    seed = uq.load(first).attrs["seed"]
    assert isinstance(seed, (int, np.integer)) and f"--seed {seed}" in out
    again = tmp_path / "b.nc"
    assert main(["propagate", "ishigami", "-n", "256", "--seed", str(seed), "--out", str(again), "--quiet"]) == 0
    assert "drawn" not in capsys.readouterr().out
    np.testing.assert_array_equal(uq.load(first)["y"].values, uq.load(again)["y"].values)


def test_missing_extra_names_its_pip_line():
    from uqbridge.cli import error_line

    assert error_line(ModuleNotFoundError("No module named 'chaospy'", name="chaospy")).endswith('pip install "uqbridge[pce]"')
