"""Kozeny–Carman validity and Gebart's (1992) transverse-flow form of ``kozeny_carman``."""

import math

import numpy as np
import pytest

from uqbridge_models.stokes_permeability import kozeny_carman, stokes_permeability


def _gebart_reference(v_f, packing):
    """Gebart (1992), J. Compos. Mater. 26, 1100, eq. (19) with the constants of his Table 1 for the
    transverse permeability: K/R² = C1 (sqrt(Vf_max/Vf) − 1)^(5/2)."""
    if packing == "square":
        c1, v_max = 16 / (9 * math.pi * math.sqrt(2)), math.pi / 4
    else:
        c1, v_max = 16 / (9 * math.pi * math.sqrt(6)), math.pi / (2 * math.sqrt(3))
    return c1 * (math.sqrt(v_max / v_f) - 1) ** 2.5


@pytest.mark.parametrize("packing", ["square", "hexagonal"])
@pytest.mark.parametrize("v_f", [0.3, 0.5, 0.6, 0.75])
def test_gebart_closed_form(packing, v_f):
    if packing == "square" and v_f > math.pi / 4:
        pytest.skip("beyond the square packing limit")
    got = float(kozeny_carman(1 - v_f, form=f"gebart_{packing}"))
    assert got == pytest.approx(_gebart_reference(v_f, packing), rel=1e-12)


def test_gebart_packing_limit_and_errors():
    # C1 values quoted by Gebart: 0.400 (square), 0.231 (hexagonal)
    assert float(kozeny_carman(0.999999, form="gebart_square")) / (math.sqrt(math.pi / 4 / 1e-6) - 1) ** 2.5 \
        == pytest.approx(0.400, abs=5e-4)
    assert float(kozeny_carman(0.999999, form="gebart_hexagonal")) / (math.sqrt(math.pi / (2 * math.sqrt(3)) / 1e-6)
                                                                       - 1) ** 2.5 == pytest.approx(0.231, abs=5e-4)
    assert float(kozeny_carman(1 - math.pi / 4, form="gebart_square")) == 0.0
    with pytest.raises(ValueError, match="packing limit"):
        kozeny_carman(0.2, form="gebart_square")
    with pytest.raises(ValueError, match="form must be one of"):
        kozeny_carman(0.5, form="gebart")


def test_transverse_validity_against_stokes_cell():
    """Across fibres: Kozeny–Carman (k = 5) is ~2–3× too permeable at V_f = 0.5–0.6 while Gebart's square
    form is within 10 % of the square-array Stokes cell (its lubrication error grows as V_f drops)."""
    v_f = np.array([0.5, 0.6])
    cell = stokes_permeability(n=48)(porosity=1 - v_f)["K_rel"]
    kc_ratio = kozeny_carman(1 - v_f) / cell
    gebart_ratio = kozeny_carman(1 - v_f, form="gebart_square") / cell
    assert np.all((kc_ratio > 1.9) & (kc_ratio < 3.0)), kc_ratio
    assert np.all(np.abs(gebart_ratio - 1) < 0.10), gebart_ratio
