"""One vocabulary (issue #22): ``rng`` everywhere (SPEC 7), ``seed=`` still runs for one release with a
DeprecationWarning naming the new spelling; one output flag (``--out``) in the CLI."""

import inspect

import numpy as np
import pytest

import uqbridge as uq
from uqbridge.cli import main
from uqbridge.execution.campaign import run_campaign


def _ishigami():
    return uq.get_model("ishigami")


def test_propagate_seed_is_deprecated_but_gives_the_same_numbers():
    new = uq.propagate(_ishigami(), 128, rng=5)
    with pytest.warns(DeprecationWarning, match=r"propagate\(seed=\.\.\.\) is deprecated.*use rng="):
        old = uq.propagate(_ishigami(), 128, seed=5)
    np.testing.assert_array_equal(new["y"].values, old["y"].values)
    assert old.attrs["seed"] == new.attrs["seed"] == 5


def test_propagate_refuses_rng_and_seed_together():
    with pytest.raises(TypeError, match="give only rng"):
        uq.propagate(_ishigami(), 16, rng=1, seed=1)


def test_propagate_rng_takes_what_default_rng_takes():
    by_int = uq.propagate(_ishigami(), 32, design="mc", rng=3)
    by_gen = uq.propagate(_ishigami(), 32, design="mc", rng=np.random.default_rng(3))
    by_seq = uq.propagate(_ishigami(), 32, design="mc", rng=np.random.SeedSequence(3))
    np.testing.assert_array_equal(by_int["y"].values, by_gen["y"].values)
    np.testing.assert_array_equal(by_int["y"].values, by_seq["y"].values)


def test_propagate_n_is_positional_or_keyword():
    a = uq.propagate(_ishigami(), 16, rng=0)
    b = uq.propagate(_ishigami(), n=16, rng=0)
    np.testing.assert_array_equal(a["y"].values, b["y"].values)


def test_run_campaign_seed_is_deprecated(tmp_path):
    with pytest.warns(DeprecationWarning, match=r"run_campaign\(seed=\.\.\.\).*use rng="):
        old = run_campaign(_ishigami(), 32, store=tmp_path / "a", seed=2, batch_size=16, progress=False)
    new = run_campaign(_ishigami(), n=32, store=tmp_path / "b", rng=2, batch_size=16, progress=False)
    np.testing.assert_array_equal(new["y"].values, old["y"].values)


def test_synthetic_curves_seed_is_deprecated():
    from uqbridge_models.kocks_mecking import synthetic_curves

    truth = {"tau0": 1.2, "alpha": 0.33, "k1": 1.7e8, "k2": 9.0}
    new, rho_new = synthetic_curves(truth, n_specimens=2, rng=4)
    with pytest.warns(DeprecationWarning, match=r"synthetic_curves\(seed=\.\.\.\).*use rng="):
        old, rho_old = synthetic_curves(truth, n_specimens=2, seed=4)
    np.testing.assert_array_equal(rho_new, rho_old)
    assert new.equals(old)


@pytest.mark.parametrize("func", [uq.propagate, run_campaign])
def test_signatures_spell_rng_not_seed(func):
    params = inspect.signature(func).parameters
    assert params["rng"].default is None
    assert params["n"].kind is inspect.Parameter.POSITIONAL_OR_KEYWORD


def test_no_deprecated_spelling_in_the_readme_example():
    from pathlib import Path

    readme = (Path(__file__).parents[1] / "README.md").read_text()
    assert "seed=" not in readme, "the README example uses rng=, never seed="
    assert "--output" not in readme


def _tiny_study(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text('[study]\nname = "tiny"\nseed = 1\n[model]\nname = "ishigami"\n'
                    '[[analyses]]\nkind = "propagate"\nn = 16\n')
    return path


def test_run_takes_out_and_the_old_output_with_a_warning(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    study = _tiny_study(tmp_path)
    assert main(["run", str(study), "--out", "new"]) == 0
    assert (tmp_path / "new" / "tiny" / "summary.json").exists()
    capsys.readouterr()
    assert main(["run", str(study), "--output", "old"]) == 0
    assert "--output is deprecated" in capsys.readouterr().err
    assert (tmp_path / "old" / "tiny" / "summary.json").exists()
    assert main(["run", str(study), "--output", "a", "--out", "b"]) == 2
    assert "with --out" in capsys.readouterr().err


def test_run_help_shows_out_only(capsys):
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    text = capsys.readouterr().out
    assert "--out" in text and "--output" not in text
