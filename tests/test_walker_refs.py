"""Walker shells (``orbits.shells``) and the Walker constellations built from them (``orbits.constellation``),
against the formulas written out here and the filings the presets cite.

References:
- Walker 1984 ("Satellite constellations", J. Brit. Interplanet. Soc. 37, 559-572), the ``i: T/P/F`` pattern
  written out as a plain double loop: plane ``p`` at RAAN ``spread * p / P`` (spread 360 deg for delta,
  180 deg for star), slot ``s`` at mean anomaly ``360 s / S + 360 F p / T`` (mod 360), ``T = P S``;
- Kepler's third law ``T = 2 pi sqrt(a^3 / mu)`` with SGP4's WGS-72 constants written out (mu = 398,600.8
  km^3/s^2, a_E = 6,378.135 km; Hoots & Roehrich 1980, Spacetrack Report #3), mean motion = 86,400 s / T;
- the Julian date of a UTC instant from the Unix epoch (JD 2,440,587.5 at 1970-01-01 00:00) and sgp4init's
  epoch origin 1949-12-31 00:00 = JD 2,433,281.5 (sgp4 package documentation);
- the shell tables of the filings the presets cite: FCC 21-48 (Starlink Gen1), FCC 20-102 (Kuiper), FCC 17-77
  (OneWeb phase 1), as quoted in ``orbits/shells.py``'s comments.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from sgp4.api import Satrec

from leonet.errors import InputError
from leonet.orbits.constellation import Constellation, Grid, epoch_spread_days, from_shells, walker_satrecs
from leonet.orbits.shells import (
    PRESETS,
    Shell,
    kepler_period_s,
    mean_motion_rev_per_day,
    preset,
    walker_elements,
)

MU = 398600.8
A_E = 6378.135
EPOCH = datetime(2026, 2, 23, 6, 30, 15, tzinfo=UTC)


def _jd(when: datetime) -> float:
    return 2440587.5 + (when - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds() / 86400.0


def _walker_loop(planes: int, per: int, f: int, star: bool) -> tuple[list[float], list[float], list[int], list[int]]:
    spread = 180.0 if star else 360.0
    total = planes * per
    raan, ma, pl, sl = [], [], [], []
    for p in range(planes):
        for s in range(per):
            raan.append(spread * p / planes)
            ma.append((360.0 * s / per + 360.0 * f * p / total) % 360.0)
            pl.append(p)
            sl.append(s)
    return raan, ma, pl, sl


@pytest.mark.parametrize(
    ("planes", "per", "f", "pattern"),
    [
        (1, 1, 0, "delta"),
        (3, 4, 0, "delta"),
        (5, 3, 2, "delta"),
        (7, 6, 6, "delta"),
        (6, 5, 1, "star"),
        (4, 9, 3, "star"),
    ],
)
def test_walker_elements_are_the_pattern_written_out(planes: int, per: int, f: int, pattern: str) -> None:
    """RAAN, mean anomaly, plane and slot of every satellite equal the double loop of the ``i: T/P/F`` rule."""
    sh = Shell(550.0, 53.0, planes, per, phasing=f, pattern=pattern)  # type: ignore[arg-type]
    el = walker_elements(sh)
    raan, ma, pl, sl = _walker_loop(planes, per, f, pattern == "star")
    np.testing.assert_allclose(el.raan_deg, raan, rtol=0, atol=1e-12)
    d = (el.mean_anomaly_deg - np.array(ma) + 180.0) % 360.0 - 180.0
    assert np.abs(d).max() < 1e-9
    assert ((el.mean_anomaly_deg >= 0.0) & (el.mean_anomaly_deg < 360.0)).all()
    np.testing.assert_array_equal(el.plane, pl)
    np.testing.assert_array_equal(el.slot, sl)
    assert el.raan_deg.dtype == np.float64 and el.plane.dtype == np.int32 and el.slot.dtype == np.int32


def test_walker_phasing_shifts_each_plane_by_f_times_360_over_t() -> None:
    """The defining property of the phasing factor: satellite s of plane p + 1 is 360 F / T deg ahead of
    satellite s of plane p (e.g. 53: 1584/72/1, 360/1584 = 0.2273 deg)."""
    sh = Shell(550.0, 53.0, 72, 22, phasing=1)
    el = walker_elements(sh)
    m = el.mean_anomaly_deg.reshape(72, 22)
    step = (np.diff(m, axis=0) + 180.0) % 360.0 - 180.0
    np.testing.assert_allclose(step, 360.0 / 1584, atol=1e-9)
    np.testing.assert_allclose(np.diff(el.raan_deg.reshape(72, 22)[:, 0]), 5.0, atol=1e-12)


def test_shell_derived_quantities_follow_keplers_law() -> None:
    """size = P S; a = a_E + h; period 2 pi sqrt(a^3 / mu); mean motion 86,400 / period (rev/day)."""
    sh = Shell(550.0, 53.0, 72, 22)
    assert sh.size == 1584
    assert sh.semi_major_axis_km == pytest.approx(A_E + 550.0, abs=1e-12)
    t = 2.0 * math.pi * math.sqrt((A_E + 550.0) ** 3 / MU)
    assert sh.period_s == pytest.approx(t, rel=1e-14)
    assert 95.6 < t / 60.0 < 95.7  # the ~95.6-minute orbit of a 550 km shell
    assert float(kepler_period_s(7000.0)) == pytest.approx(2.0 * math.pi * math.sqrt(7000.0**3 / MU), rel=1e-14)
    np.testing.assert_allclose(
        kepler_period_s([7000.0, 8000.0]), [2 * math.pi * math.sqrt(a**3 / MU) for a in (7000.0, 8000.0)], rtol=1e-14
    )
    assert mean_motion_rev_per_day(550.0) == pytest.approx(86400.0 / t, rel=1e-14)
    assert mean_motion_rev_per_day(1200.0) == pytest.approx(
        86400.0 / (2.0 * math.pi * math.sqrt((A_E + 1200.0) ** 3 / MU)), rel=1e-14
    )


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"altitude_km": 0.0}, "altitude_km"),
        ({"altitude_km": -1.0}, "altitude_km"),
        ({"altitude_km": math.inf}, "altitude_km"),
        ({"altitude_km": math.nan}, "altitude_km"),
        ({"inclination_deg": math.nextafter(0.0, -1.0)}, "inclination_deg"),
        ({"inclination_deg": math.nextafter(180.0, 181.0)}, "inclination_deg"),
        ({"inclination_deg": math.nan}, "inclination_deg"),
        ({"planes": 0, "phasing": 0}, "planes"),
        ({"sats_per_plane": 0}, "sats_per_plane"),
        ({"phasing": -1}, "phasing"),
        ({"planes": 1, "phasing": 1}, "phasing"),
        ({"planes": 3, "phasing": 3}, "phasing"),
        ({"pattern": "rosette"}, "pattern"),
    ],
)
def test_shell_rejects_each_field_just_out_of_range(kwargs: dict[str, object], field: str) -> None:
    args: dict[str, object] = {"altitude_km": 550.0, "inclination_deg": 53.0, "planes": 4, "sats_per_plane": 5}
    args.update(kwargs)
    with pytest.raises(InputError) as exc:
        Shell(**args, name="s1")  # type: ignore[arg-type]
    assert f"shell 's1'.{field}" in str(exc.value)


def test_shell_accepts_the_ends_of_each_range() -> None:
    """Inclination 0 and 180 deg, one plane of one satellite, phasing 0 and P - 1, a tiny altitude, both patterns;
    an unnamed shell's errors say just "shell"."""
    for inc in (0.0, 180.0):
        assert Shell(550.0, inc, 4, 5).inclination_deg == inc
    assert Shell(1e-9, 53.0, 1, 1, phasing=0).size == 1
    assert Shell(550.0, 53.0, 3, 5, phasing=2).phasing == 2
    assert Shell(550.0, 53.0, 3, 5, phasing=0).phasing == 0
    assert Shell(550.0, 87.9, 3, 5, pattern="star").pattern == "star"
    with pytest.raises(InputError) as exc:
        Shell(550.0, 53.0, 0, 5, phasing=0)
    assert str(exc.value).startswith("shell.planes") or "shell.planes" in str(exc.value)
    assert "'" not in str(exc.value).split(".planes")[0]


#: (preset, [(altitude km, inclination deg, planes, satellites per plane, phasing, pattern)]) from the filings
FILINGS = {
    "starlink-550": [(550.0, 53.0, 72, 22, 1, "delta")],
    "starlink-gen1": [  # FCC 21-48
        (550.0, 53.0, 72, 22, 1, "delta"),
        (540.0, 53.2, 72, 22, 1, "delta"),
        (570.0, 70.0, 36, 20, 1, "delta"),
        (560.0, 97.6, 6, 58, 1, "delta"),
        (560.0, 97.6, 4, 43, 1, "delta"),
    ],
    "kuiper": [  # FCC 20-102
        (630.0, 51.9, 34, 34, 1, "delta"),
        (610.0, 42.0, 36, 36, 1, "delta"),
        (590.0, 33.0, 28, 28, 1, "delta"),
    ],
    "oneweb": [(1200.0, 87.9, 18, 40, 1, "star")],  # FCC 17-77
    "starlink-gen2-granted": [
        (525.0, 53.0, 25, 100, 1, "delta"),
        (530.0, 43.0, 25, 100, 1, "delta"),
        (535.0, 33.0, 25, 100, 1, "delta"),
    ],
}


@pytest.mark.parametrize("name", sorted(FILINGS))
def test_presets_are_the_filed_shells(name: str) -> None:
    got = [(s.altitude_km, s.inclination_deg, s.planes, s.sats_per_plane, s.phasing, s.pattern) for s in preset(name)]
    assert got == FILINGS[name]
    assert all(s.name for s in PRESETS[name]) and len({s.name for s in PRESETS[name]}) == len(PRESETS[name])


def test_the_scenario_shell_takes_the_two_patterns_only() -> None:
    """The scenario's shell (``ShellSpec``) types its pattern with ``shells.Pattern``: "delta" and "star" pass
    through to the Shell, anything else is refused when the scenario is read."""
    from pydantic import ValidationError

    from leonet.scenario import ShellSpec

    for pat in ("delta", "star"):
        spec = ShellSpec(altitude_km=550.0, inclination_deg=53.0, planes=4, sats_per_plane=5, pattern=pat)
        assert spec.to_shell().pattern == pat
    with pytest.raises(ValidationError):
        ShellSpec(altitude_km=550.0, inclination_deg=53.0, planes=4, sats_per_plane=5, pattern="rosette")


def test_unknown_preset_names_the_known_ones() -> None:
    with pytest.raises(InputError) as exc:
        preset("iridium")
    msg = str(exc.value)
    assert "'iridium'" in msg and all(n in msg for n in PRESETS)


# ----------------------------------------------------------------------------------------------------------------
# constellation.py: the SGP4 element sets and the +Grid structure
# ----------------------------------------------------------------------------------------------------------------


def test_walker_satrecs_hold_the_shells_elements() -> None:
    """Each Satrec: catalogue number first + k, the epoch (JD from the Unix epoch), circular (e = 0), no drag
    (B* = n-dot = n-ddot = 0), argument of perigee 0, the shell's inclination, the Walker RAAN and mean anomaly,
    and the Keplerian mean motion in rad/min (2 pi / (T / 60))."""
    sh = Shell(600.0, 63.5, 5, 3, phasing=2)
    sats = walker_satrecs(sh, EPOCH, first_satnum=41)
    assert len(sats) == 15
    raan, ma, _, _ = _walker_loop(5, 3, 2, star=False)
    n_rad_min = 2.0 * math.pi / (2.0 * math.pi * math.sqrt((A_E + 600.0) ** 3 / MU) / 60.0)
    jd = _jd(EPOCH)
    for k, s in enumerate(sats):
        assert isinstance(s, Satrec)
        assert s.satnum == 41 + k
        assert s.jdsatepoch + s.jdsatepochF == pytest.approx(jd, abs=1e-8)
        assert s.ecco == 0.0 and s.bstar == 0.0 and s.ndot == 0.0 and s.nddot == 0.0 and s.argpo == 0.0
        assert s.inclo == pytest.approx(math.radians(63.5), abs=1e-14)
        assert s.nodeo == pytest.approx(math.radians(raan[k]), abs=1e-12)
        assert s.mo == pytest.approx(math.radians(ma[k]), abs=1e-12)
        assert s.no_kozai == pytest.approx(n_rad_min, rel=1e-13)
    assert walker_satrecs(sh, EPOCH)[0].satnum == 1  # the default first number


def test_from_shells_lays_out_shells_grids_and_names() -> None:
    """Shells one after the other: each Grid starts at the satellites before it, with the shell's planes,
    satellites per plane, wrap (delta yes, star no) and seam shift F; names ``label-p{p}-s{s}`` (an unnamed shell
    is ``shell{i}``); catalogue numbers 1.. across the shells."""
    shells = [
        Shell(550.0, 53.0, 3, 4, phasing=2, name="a"),
        Shell(1200.0, 87.9, 2, 3, phasing=1, pattern="star"),
        Shell(560.0, 97.6, 2, 2, phasing=0, name="c"),
    ]
    c = from_shells("net", shells, EPOCH)
    assert c.name == "net" and c.size == 12 + 6 + 4
    assert c.grids == (
        Grid(0, 3, 4, wrap=True, seam_shift=2),
        Grid(12, 2, 3, wrap=False, seam_shift=1),
        Grid(18, 2, 2, wrap=True, seam_shift=0),
    )
    expect = (
        [f"a-p{p}-s{s}" for p in range(3) for s in range(4)]
        + [f"shell1-p{p}-s{s}" for p in range(2) for s in range(3)]
        + [f"c-p{p}-s{s}" for p in range(2) for s in range(2)]
    )
    assert list(c.sat_names) == expect
    assert [s.satnum for s in c.satrecs] == list(range(1, 23))
    # each block is its shell's element sets
    assert [s.inclo for s in c.satrecs[12:18]] == [math.radians(87.9)] * 6
    assert c.isl_pairs.shape == (0, 2) and c.observed.shape == (0,)
    np.testing.assert_array_equal(c.observed_mask(), np.zeros(22, dtype=bool))


def test_grid_and_constellation_defaults_and_checks() -> None:
    g = Grid(0, 2, 3)
    assert g.wrap is True and g.seam_shift == 0
    sats = walker_satrecs(Shell(550.0, 53.0, 1, 2, phasing=0), EPOCH)
    c = Constellation("x", sats, ["a", "b"])
    assert c.grids == () and c.isl_pairs.shape == (0, 2) and c.isl_pairs.dtype == np.int32
    assert c.observed.shape == (0,) and c.observed.dtype == bool
    np.testing.assert_array_equal(c.observed_mask(), [False, False])
    obs = Constellation("x", sats, ["a", "b"], observed=np.array([True, False]))
    np.testing.assert_array_equal(obs.observed_mask(), [True, False])
    with pytest.raises(ValueError, match="differ in length"):
        Constellation("x", sats, ["a"])
    with pytest.raises(ValueError, match="observed"):
        Constellation("x", sats, ["a", "b"], observed=np.array([True]))
    one = walker_satrecs(Shell(550.0, 53.0, 1, 1, phasing=0), EPOCH)
    with pytest.raises(ValueError, match="observed"):  # one flag for one satellite is fine, not zero flags + one
        Constellation("x", one, ["a"], observed=np.array([True, True]))
    assert Constellation("x", one, ["a"], observed=np.array([True])).observed_mask().tolist() == [True]


def test_epoch_spread_is_days_since_each_epoch() -> None:
    """Element sets at EPOCH and EPOCH + 1.25 days, seen 3.5 days after EPOCH: 3.5 and 2.25 days (positive: the
    epoch is before ``at``); seen 2 days before EPOCH: -2 and -3.25."""
    a = walker_satrecs(Shell(550.0, 53.0, 1, 2, phasing=0), EPOCH)
    b = walker_satrecs(Shell(550.0, 53.0, 1, 1, phasing=0), EPOCH + timedelta(days=1.25))
    np.testing.assert_allclose(epoch_spread_days(a + b, EPOCH + timedelta(days=3.5)), [3.5, 3.5, 2.25], atol=1e-9)
    np.testing.assert_allclose(epoch_spread_days(a + b, EPOCH - timedelta(days=2)), [-2.0, -2.0, -3.25], atol=1e-9)
