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
    assert "rw" in out and "aleatory" in out and "epistemic" in out and "Normal(mu=0.1" in out and "m2/yr" in out


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
