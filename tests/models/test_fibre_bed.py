"""The resin chain's pore stage: the tabulated square-array Stokes cell at its default resolution (error against a
4x finer grid, refusal beyond the verified range, interpolation between nodes), the cell against Sangani &
Acrivos (1982), the measured fabric data and the tow radius fitted to it."""

import math

import numpy as np
import pytest

from uqbridge_models.fibre_bed import (
    R_T_FIT,
    TWILL_PERMEABILITY_CSV,
    V_FT,
    fibre_bed,
    measured_k1,
    twill_permeability_data,
)
from uqbridge_models.microstructures import square_array
from uqbridge_models.stokes_permeability import (
    TABLE_N,
    VERIFIED_RANGE,
    drummond_tahir,
    permeability_tensor,
    square_array_k_rel,
)


def _cell(c, n):
    s = square_array(1.0 - c)
    return float(np.trace(permeability_tensor(s, n))) / 2 / s.radius**2


@pytest.mark.slow
def test_default_resolution_against_a_4x_finer_grid_at_the_dense_edge():
    """The stated discretisation error: the default 128² cell within 1 % of 512² at the densest accepted solid
    fractions (measured +0.90 % at 0.67, +0.05 % at 0.68, benchmarks/resin_cell_resolution.py)."""
    for c in (0.67, VERIFIED_RANGE[TABLE_N][1]):
        assert float(square_array_k_rel(c)) == pytest.approx(_cell(c, 4 * TABLE_N), rel=0.01)


@pytest.mark.slow
def test_the_coarser_verified_grid_fails_beyond_its_range():
    """At 96² the error passes 1 % at 0.66-0.67 (measured +1.25 %, +1.44 % against 384²), which is why its
    verified range stops at 0.65 and the default grid is 128²."""
    assert abs(_cell(0.67, 96) / _cell(0.67, 384) - 1) > 0.01


@pytest.mark.slow
def test_default_resolution_against_a_4x_finer_grid_at_the_default_fabric():
    """The same check at c = 0.625, the default fabric's tow fraction (V_f 0.5 / V_ft 0.8): measured +0.31 %
    (one 512² solve, ~10-40 s, hence slow)."""
    assert float(square_array_k_rel(0.625)) == pytest.approx(_cell(0.625, 4 * TABLE_N), rel=0.01)


def test_4x_finer_grid_check_in_the_default_suite():
    """The error measurement itself, at the affordable pair 96² vs 384² (one 384² solve, ~2-5 s) at the end of
    the 96² grid's verified range, c = 0.65: measured +0.12 %, within the 1 % the range promises."""
    assert _cell(0.65, 96) == pytest.approx(_cell(0.65, 384), rel=0.01)


@pytest.mark.slow
@pytest.mark.parametrize("c", [0.30, 0.40, 0.50, 0.55, 0.58, 0.60, 0.61, 0.65])
def test_default_resolution_against_a_4x_finer_grid(c):
    """Same check over the verified range (measured |error| <= 0.93 % at every 0.01 node)."""
    assert float(square_array_k_rel(c)) == pytest.approx(_cell(c, 4 * TABLE_N), rel=0.01)


def test_fractions_beyond_the_verified_range_are_refused():
    with pytest.raises(ValueError, match=r"verified range \[0.3, 0.68\].*got values in \[0.5, 0.7\]"):
        square_array_k_rel([0.5, 0.70])
    with pytest.raises(ValueError, match="verified grids"):
        square_array_k_rel(0.5, n=32)
    with pytest.raises(ValueError, match="outside the validity range"):
        fibre_bed("cell", preform="ud_glass")(V_f=0.66, s_Vf=0.02, r_f=7.0)


def test_table_between_nodes_matches_a_direct_solve():
    """The cubic spline in log K between the 0.01 nodes adds < 0.3 % to a direct solve on the same grid
    (measured at 96²: |difference| <= 0.29 % at the midpoints, typically < 0.1 %)."""
    for c in (0.355, 0.655):
        assert float(square_array_k_rel(c)) == pytest.approx(_cell(c, TABLE_N), rel=3e-3)


@pytest.mark.parametrize("c", [0.05, 0.1])
def test_cell_at_the_default_grid_against_sangani_acrivos(c):
    """Sangani & Acrivos (1982), Int. J. Multiphase Flow 8, 193, square array, dilute series
    K/a² = (−ln c − 1.476 + 2c − 1.774c² + 4.076c³)/(8c) (= Drummond & Tahir 1984): its truncation is O(c⁴)
    (< 0.1 % here), so the default-grid cell must agree within its stated discretisation error, 1 %
    (measured at 128²: −0.03 %, −0.12 %)."""
    assert _cell(c, TABLE_N) == pytest.approx(float(drummond_tahir(c)), rel=0.01)


def test_measured_fabric_data_carries_its_source_and_status():
    header = "".join(line for line in TWILL_PERMEABILITY_CSV.read_text().splitlines(True) if line.startswith("#"))
    assert "Vernet" in header and "Composites Part A 61" in header and "TRANSCRIPTION STATUS" in header
    data = twill_permeability_data()
    assert np.all(data["K1_low_m2"] < data["K1_mean_m2"]) and np.all(data["K1_mean_m2"] < data["K1_high_m2"])
    assert np.all(np.diff(data["K1_mean_m2"]) < 0)  # permeability falls as the stack is compacted
    with pytest.raises(ValueError, match="within the measured fractions"):
        measured_k1(0.6)


def test_tow_radius_is_the_fit_to_the_measured_mean_at_v_f_0503():
    """R_t is fitted, not predicted: sqrt(K1_mean(0.503) / k(0.503 / V_ft)) reproduces the default, and it lies
    inside the bracket the fabric's geometry gives (103 um equal specific surface, 303 um equal cross-section
    for 6K tows of 3.5 um filaments at V_ft = 0.8)."""
    mean, _, _ = measured_k1(0.503)
    fitted = math.sqrt(mean / float(square_array_k_rel(0.503 / V_FT))) * 1e6
    assert fitted == pytest.approx(R_T_FIT, rel=2e-3)
    filaments, r_fil = 6000, 3.5
    area = filaments * math.pi * r_fil**2 / V_FT  # tow cross-section, um²
    equal_area = math.sqrt(area / math.pi)
    assert equal_area == pytest.approx(303, rel=0.01) and 103 < R_T_FIT < equal_area


def test_gebart_form_of_the_twill_bed_is_differentiable_and_consistent():
    m = fibre_bed("gebart")
    assert m.differentiable
    out = m(V_f=0.5, s_Vf=0.0, R_t=R_T_FIT, V_ft=V_FT)
    cell = fibre_bed("cell")(V_f=0.5, s_Vf=0.0, R_t=R_T_FIT, V_ft=V_FT)
    # converged cell / Gebart at tow fraction 0.625: 0.95 (Gebart's lubrication form is high away from touching)
    assert 0.93 < float(cell["K_mid"][0] / out["K_mid"][0]) < 0.97
