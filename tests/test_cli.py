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
