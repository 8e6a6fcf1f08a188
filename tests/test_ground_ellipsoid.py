"""``[ground] ellipsoid = "wgs72"``: ground nodes placed where Hypatia's satgenpy places its ground stations.

Oracle: satgenpy 0.4.0's own conversion, ``satgen.distance_tools.geodetic2cartesian`` (test-only; Kassing et al.,
ACM IMC 2020), and, for the links, a brute-force distance test of every station against every satellite with
satgenpy's station positions and the research model's 1,089.7 km ground-link range (the built-in
``hypatia-starlink-550`` scenario).  With WGS-72 every snapshot's ground links equal the brute force; with the
default WGS-84 the stations sit ~2 m away, and a link within that of the range boundary flips.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import leonet
from conftest import missing
from leonet.assembly import assemble
from leonet.errors import InputError
from leonet.geodesy import geodetic_to_ecef_km, wgs72_to_ecef_km
from leonet.scenario import parse_scenario
from leonet.step import positions_at
from leonet.topology import ground_links

try:
    from satgen.distance_tools import geodetic2cartesian
except ImportError:  # pragma: no cover - satgenpy is in requirements/test.txt
    geodetic2cartesian = None


@pytest.fixture
def satgen() -> None:
    if geodetic2cartesian is None:
        missing("satgenpy (requirements/test.txt) is the oracle of these tests")


def _satgen_km(lat: np.ndarray, lon: np.ndarray, alt: np.ndarray) -> np.ndarray:
    return (
        np.array([geodetic2cartesian(float(a), float(b), float(h)) for a, b, h in zip(lat, lon, alt, strict=True)])
        / 1e3
    )


@pytest.mark.usefixtures("satgen")
@settings(max_examples=200, deadline=None)
@given(
    st.floats(-90, 90, allow_nan=False),
    st.floats(-180, 180, allow_nan=False),
    st.floats(-500, 9000, allow_nan=False),
)
def test_wgs72_conversion_is_satgenpys(lat: float, lon: float, alt_m: float) -> None:
    got = wgs72_to_ecef_km(lat, lon, alt_m)
    want = np.array(geodetic2cartesian(lat, lon, alt_m)) / 1e3
    assert np.abs(got - want).max() < 1e-9  # km: a micrometre (satgenpy squares sqrt(e^2), we use e^2)


def _hypatia(ellipsoid: str | None) -> leonet.Scenario:
    sc = leonet.load_scenario("hypatia-starlink-550")
    if ellipsoid is None:
        return sc
    return sc.model_copy(update={"ground": sc.ground.model_copy(update={"ellipsoid": ellipsoid})})


@pytest.mark.usefixtures("satgen")
def test_ground_nodes_on_wgs72_are_satgenpys_stations() -> None:
    g72 = assemble(_hypatia("wgs72")).ground
    g84 = assemble(_hypatia(None)).ground
    assert g84.ellipsoid == "wgs84" and g72.ellipsoid == "wgs72"
    want = _satgen_km(g72.lat_deg, g72.lon_deg, g72.alt_m)
    assert np.abs(g72.ecef_km - want).max() < 1e-9
    assert np.allclose(g84.ecef_km, geodetic_to_ecef_km(g84.lat_deg, g84.lon_deg, g84.alt_m), rtol=0, atol=1e-12)
    shift_m = np.linalg.norm(g84.ecef_km - g72.ecef_km, axis=1) * 1e3
    assert 1.0 < shift_m.max() < 10.0  # a = 6,378,137 vs 6,378,135 m, f 1/298.257 vs 1/298.26: ~2 m
    assert np.array_equal(g72.up, g84.up)  # the same geodetic normals


@pytest.mark.usefixtures("satgen")
def test_links_equal_a_brute_force_on_satgenpys_stations() -> None:
    """Every ground link of 40 snapshots of the research model, with the stations on WGS-72: exactly the
    station-satellite pairs within 1,089.7 km of satgenpy's station positions (leonet's satellites)."""
    world = assemble(_hypatia("wgs72"))
    net, g = world.networks[0], world.ground
    rng_km = net.spec.max_ground_link_km
    assert rng_km == pytest.approx(1089.7)
    stations = _satgen_km(g.lat_deg, g.lon_deg, g.alt_m)
    times = world.times_s[:40]
    sat_r = positions_at(net, world, times)
    el = np.zeros(g.size)
    for k in range(len(times)):
        d = np.linalg.norm(sat_r[k][None, :, :] - stations[:, None, :], axis=2)
        want = {(int(a), int(b)) for a, b in zip(*np.nonzero(d <= rng_km), strict=True)}
        got = ground_links(sat_r[k], g.ecef_km, g.up, el, rng_km)
        assert set(zip(got.ground.tolist(), got.sat.tolist(), strict=True)) == want


@pytest.mark.usefixtures("satgen")
def test_a_range_boundary_link_flips_between_the_ellipsoids() -> None:
    """A satellite just inside the range of a station's satgenpy (WGS-72) position (a quarter of the two
    positions' distance, ~2 m, inside), on the side away from its WGS-84 position: linked with
    ``ellipsoid = "wgs72"`` as satgenpy links it, not with the default."""
    g72, g84 = assemble(_hypatia("wgs72")).ground, assemble(_hypatia(None)).ground
    rng_km = 1089.7
    i = int(np.argmax(np.linalg.norm(g84.ecef_km - g72.ecef_km, axis=1)))
    p72 = _satgen_km(g72.lat_deg[i : i + 1], g72.lon_deg[i : i + 1], g72.alt_m[i : i + 1])[0]
    shift_km = float(np.linalg.norm(p72 - g84.ecef_km[i]))
    sat = (p72 + (p72 - g84.ecef_km[i]) / shift_km * (rng_km - shift_km / 4))[None, :]
    el = np.zeros(g72.size)
    assert np.linalg.norm(sat[0] - p72) <= rng_km < np.linalg.norm(sat[0] - g84.ecef_km[i])
    on72 = ground_links(sat, g72.ecef_km, g72.up, el, rng_km)
    on84 = ground_links(sat, g84.ecef_km, g84.up, el, rng_km)
    assert i in on72.ground.tolist() and i not in on84.ground.tolist()


def test_ellipsoid_is_checked_in_the_scenario() -> None:
    text = (
        'epoch = 2026-02-23T00:00:00Z\n[[networks]]\nname = "n"\nconstellation = { preset = "starlink-550" }\n'
        '[ground]\ncities = 2\nellipsoid = "wgs60"\n'
    )
    with pytest.raises(InputError) as e:
        parse_scenario(text, source="s.toml")
    msg = str(e.value)
    assert "ground.ellipsoid" in msg and "wgs72" in msg and "\n" not in msg.strip()
    ok = parse_scenario(text.replace("wgs60", "wgs72"), source="s.toml")
    assert ok.ground.ellipsoid == "wgs72"
    assert parse_scenario(text.replace('ellipsoid = "wgs60"\n', ""), source="s.toml").ground.ellipsoid == "wgs84"


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E, exclude_characters='"\\'), max_size=12))
def test_any_other_ellipsoid_is_one_located_error(value: str) -> None:
    text = (
        'epoch = 2026-02-23T00:00:00Z\n[[networks]]\nname = "n"\nconstellation = { preset = "starlink-550" }\n'
        f'[ground]\ncities = 2\nellipsoid = "{value}"\n'
    )
    if value in ("wgs84", "wgs72"):
        assert parse_scenario(text, source="s.toml").ground.ellipsoid == value
        return
    with pytest.raises(InputError) as e:
        parse_scenario(text, source="s.toml")
    msg = str(e.value)
    assert msg.startswith("s.toml:7: field ground.ellipsoid") and "'wgs72'" in msg and "\n" not in msg
