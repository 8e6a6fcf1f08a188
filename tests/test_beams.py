"""The beam model: capacity against the documented MODCOD table at pinned points, monotone in elevation.

Reference: ETSI EN 302 307-1 (DVB-S2) Table 13, typed in below again (threshold Es/N0 dB, bit/s/Hz) for the
MODCODs that can be chosen (the others are beaten by a MODCOD with a lower threshold), and the free-space
rule ``SNR = 12.0 dB - 20 log10(range / 550 km)`` of ``leonet.beams``.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leonet.beams import BeamModel, slant_range_km, spectral_efficiency

#: the MODCODs a running-maximum table can pick, from EN 302 307-1 Table 13 (independently typed)
CHOSEN = [
    (-2.35, 0.490243),
    (-1.24, 0.656448),
    (-0.30, 0.789412),
    (1.00, 0.988858),
    (2.23, 1.188304),
    (3.10, 1.322253),
    (4.03, 1.487473),
    (4.68, 1.587196),
    (5.18, 1.654663),
    (5.50, 1.779991),
    (6.42, 1.788612),
    (6.62, 1.980636),
    (7.91, 2.228124),
    (8.97, 2.637201),
    (10.21, 2.966728),
    (11.03, 3.165623),
    (11.61, 3.300184),
    (12.73, 3.703295),
    (13.64, 3.951571),
    (14.28, 4.119540),
    (15.69, 4.397854),
    (16.05, 4.453027),
]


def _range_at_snr_km(snr_db: float) -> float:
    return 550.0 * 10.0 ** ((12.0 - snr_db) / 20.0)


@pytest.mark.parametrize("i", range(len(CHOSEN)))
def test_capacity_on_both_sides_of_every_boundary(i: int) -> None:
    m = BeamModel()
    thr, eff = CHOSEN[i]
    below = CHOSEN[i - 1][1] if i else 0.0
    rho = _range_at_snr_km(thr)
    inside, outside = m.beam_capacity_mbps([rho * (1 - 1e-7), rho * (1 + 1e-7)])
    assert inside == pytest.approx(240.0 * eff, rel=1e-12)
    assert outside == pytest.approx(240.0 * below, rel=1e-12)


def test_pinned_points() -> None:
    m = BeamModel()
    # zenith of the 550 km shell: 12.0 dB -> 16APSK 5/6
    assert m.beam_capacity_mbps(550.0) == pytest.approx(240.0 * 3.300184)
    # the 25 deg mask at 550 km (1,123 km): 12.0 - 6.2 = 5.8 dB -> 8PSK 3/5
    assert m.beam_capacity_at_elevation_mbps(25.0, 550.0) == pytest.approx(240.0 * 1.779991)
    # beyond the lowest threshold nothing closes
    assert m.beam_capacity_mbps(_range_at_snr_km(-2.36)) == 0.0
    assert m.satellite_capacity_mbps(550.0) == pytest.approx(16 * 240.0 * 3.300184)


def test_dominated_modcods_are_never_chosen() -> None:
    snr = np.linspace(-5, 20, 20001)
    got = set(np.unique(spectral_efficiency(snr)).tolist())
    assert got == {0.0} | {e for _, e in CHOSEN}
    assert 1.766451 not in got and 2.646012 not in got and 3.523143 not in got  # QPSK 8/9, 8PSK 8/9, 16APSK 8/9


@settings(max_examples=50, deadline=None)
@given(st.floats(300.0, 1300.0))
def test_capacity_monotone_in_elevation(altitude_km: float) -> None:
    m = BeamModel()
    el = np.linspace(0.0, 90.0, 2001)
    cap = m.beam_capacity_at_elevation_mbps(el, altitude_km)
    assert (np.diff(cap) >= 0).all()
    rho = slant_range_km(el, altitude_km)
    assert (np.diff(rho) < 0).all()


def test_slant_range_by_geometry() -> None:
    # satellite at (R + h) on a sphere, seen from (R, 0): law of cosines on the triangle centre-ground-satellite
    R, h = 6371.0088, 550.0
    for el in (0.0, 10.0, 25.0, 40.0, 89.0, 90.0):
        rho = float(slant_range_km(el, h))
        ground = np.array([R, 0.0])
        e = np.radians(el)
        sat = ground + rho * np.array([np.sin(e), np.cos(e)])  # up is +x, horizontal +y
        assert np.linalg.norm(sat) == pytest.approx(R + h, rel=1e-12)
    assert float(slant_range_km(90.0, h)) == pytest.approx(h)


def test_model_validation() -> None:
    with pytest.raises(ValueError, match="beams_per_sat"):
        BeamModel(beams_per_sat=-1)
    with pytest.raises(ValueError, match="channel_bandwidth_mhz"):
        BeamModel(channel_bandwidth_mhz=0.0)
    with pytest.raises(ValueError, match="modcods"):
        BeamModel(modcods=(("a", 3.0, 1.0), ("b", 1.0, 2.0)))
    with pytest.raises(ValueError, match="slant_ref_km"):
        BeamModel(slant_ref_km=0.0)
    with pytest.raises(ValueError, match="channels"):
        BeamModel(channels=0)
    with pytest.raises(ValueError, match="max_beams_per_cell"):
        BeamModel(max_beams_per_cell=-1)
    assert BeamModel(beams_per_sat=48).beams_per_sat == 48
    # the edges of the valid ranges
    edge = BeamModel(beams_per_sat=0, max_beams_per_cell=0, channels=1, channel_bandwidth_mhz=0.5, slant_ref_km=0.5)
    assert edge.beam_capacity_mbps(0.5) == pytest.approx(0.5 * 3.300184)


def test_the_readme_beam_figures_are_the_models() -> None:
    """README states the default beam's capacity at the zenith and at 25 deg of a 550 km satellite: the model's."""
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    m = re.search(r"(\d+) Mbit/s at the zenith, (\d+) Mbit/s at 25°", text)
    assert m is not None
    got = BeamModel().beam_capacity_at_elevation_mbps([90.0, 25.0], 550.0)
    assert [round(float(x)) for x in got] == [int(m.group(1)), int(m.group(2))]


def test_the_defaults_are_the_documented_figures() -> None:
    """The module docstring's figures, typed in again: 8 channels of 240 MHz (Humphreys et al. 2023) fit the 2 GHz
    of Ku-band user downlink (10.7-12.7 GHz) at 250 MHz spacing; 16 beams per satellite = 8 channels x 2
    polarisations (Pekhterev 2021); at most one beam per channel over a cell (Nco = 1): 8; 12.0 dB at 550 km."""
    m = BeamModel()
    assert (m.channels, m.channel_bandwidth_mhz) == (8, 240.0)
    assert m.channels * 250.0 <= (12.7 - 10.7) * 1000.0 < (m.channels + 1) * 250.0
    assert m.beams_per_sat == 2 * m.channels == 16
    assert m.max_beams_per_cell == m.channels == 8
    assert (m.snr_ref_db, m.slant_ref_km) == (12.0, 550.0)


def test_the_repr_leaves_the_modcod_table_out() -> None:
    """``BeamModel``'s repr (printed with a scenario) names the payload figures but not the 28-row MODCOD table
    (the field is declared ``repr=False``): one short line."""
    text = repr(BeamModel())
    assert "beams_per_sat=16" in text and "slant_ref_km=550.0" in text
    assert "modcods" not in text and "QPSK" not in text and len(text) < 200
