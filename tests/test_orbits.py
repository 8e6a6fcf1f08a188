"""Orbits: SGP4 propagation and TEME -> Earth-fixed rotation checked against independent references.

References used here:
- skyfield 1.53 (Rhodes, https://rhodesmill.org/skyfield/): ``EarthSatellite.at(t).frame_xyz(itrs)`` and
  ``frame_xyz(TEME)`` (skyfield's own TEME -> GCRS -> ITRS chain, IAU 2000A, UT1 from its built-in IERS tables).
- the ``sgp4`` package's verification vectors ``SGP4-VER.TLE`` / ``tcppver.out`` (Vallado, Crawford, Hujsak &
  Kelso 2006, "Revisiting Spacetrack Report #3", AIAA 2006-6753, the reference C++ test program output), read the
  way ``sgp4/tests.py`` reads them.
- ``sgp4.propagation.gstime`` (GMST 1982, the reference code's routine).
- Kepler's third law ``T = 2 pi sqrt(a^3 / mu)`` and the first-order J2 secular rates (Brouwer 1959; Vallado,
  "Fundamentals of Astrodynamics and Applications", 4th ed., eqs. 9-41 .. 9-43) for the Walker presets.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
import sgp4
from sgp4.api import WGS72, Satrec, SatrecArray
from sgp4.io import fix_checksum

from conftest import shared_file
from leonet.constants import JD_1949_12_31, SECONDS_PER_DAY, WGS72_A_KM, WGS72_MU_KM3_S2
from leonet.errors import InputError
from leonet.orbits.constellation import from_shells
from leonet.orbits.propagate import gmst82_rad, positions_itrf_km, sgp4_teme_km
from leonet.orbits.shells import PRESETS, kepler_period_s
from leonet.orbits.tle import parse_tle_text, satrecs_from_tle
from leonet.timebase import julian_date

SGP4_DIR = Path(sgp4.__file__).resolve().parent

# ----------------------------------------------------------------------------------------------------------------
# 1. Real Starlink TLEs against skyfield
# ----------------------------------------------------------------------------------------------------------------


def _sample(records: list, n: int, seed: int) -> list:
    rng = np.random.default_rng(seed)
    idx = np.sort(rng.choice(len(records), size=min(n, len(records)), replace=False))
    return [records[i] for i in idx]


def _skyfield_vs_leonet(ts, satrecs: list[Satrec], when: list[datetime]) -> tuple[float, float, int]:  # type: ignore[no-untyped-def]
    """Largest ITRF and TEME differences (km) between leonet and skyfield over ``satrecs`` x ``when``, and the
    number of (satellite, time) points compared.  Error patterns (SGP4 failures) must agree too."""
    from skyfield.api import EarthSatellite
    from skyfield.framelib import itrs
    from skyfield.sgp4lib import TEME

    t = ts.from_datetimes(when)
    dut1 = np.asarray(t.dut1, dtype=np.float64)  # skyfield's UT1 - UTC (s), from its built-in IERS table
    jd = [julian_date(w) for w in when]
    jw = np.array([j[0] for j in jd])
    jf = np.array([j[1] for j in jd])
    # leonet takes one UT1 - UTC per call; the times here are within a day, so call once per time
    itrf = np.stack(
        [positions_itrf_km(satrecs, jw[k : k + 1], jf[k : k + 1], dut1_s=float(dut1[k]))[0] for k in range(len(when))]
    )
    # and once more with every time in one call, to exercise the (T, S, 3) layout with several times
    itrf_all = positions_itrf_km(satrecs, jw, jf, dut1_s=float(dut1[0]))
    teme, err = sgp4_teme_km(satrecs, jw, jf)  # (S, T, 3), (S, T)
    worst_itrf = worst_teme = 0.0
    n = 0
    for k, sat in enumerate(satrecs):
        es = EarthSatellite.from_satrec(sat, ts)
        pos = es.at(t)
        sky_itrf = pos.frame_xyz(itrs).km.T  # (T, 3)
        sky_teme = pos.frame_xyz(TEME).km.T
        sky_bad = ~np.isfinite(sky_itrf).all(axis=1)
        ours_bad = err[k] != 0
        assert np.array_equal(sky_bad, ours_bad), f"satellite {sat.satnum}: SGP4 error pattern differs"
        assert np.isnan(itrf[:, k][ours_bad]).all(), "a satellite SGP4 cannot propagate must be NaN"
        ok = ~ours_bad
        n += int(ok.sum())
        if ok.any():
            worst_itrf = max(worst_itrf, float(np.abs(itrf[ok, k] - sky_itrf[ok]).max()))
            worst_teme = max(worst_teme, float(np.abs(teme[k, ok] - sky_teme[ok]).max()))
            # the one-call layout: same as per-time calls up to the (tiny) change of UT1 - UTC within the day
            d_dut1 = np.abs(dut1 - dut1[0]).max()
            tol_layout = 1e-6 + d_dut1 * 7.3e-5 * 8000.0  # Earth rotation 7.29e-5 rad/s at <= 8,000 km radius
            assert np.abs(itrf_all[ok, k] - itrf[ok, k]).max() < tol_layout
    return worst_itrf, worst_teme, n


def test_against_skyfield(ts) -> None:  # type: ignore[no-untyped-def]
    """Earth-fixed positions of real Starlink satellites agree with skyfield to < 1 m; TEME to < 1 mm.

    Reference: skyfield's ``EarthSatellite.at(t).frame_xyz(itrs)`` (TEME -> GCRS -> ITRS through IAU 2000A
    precession-nutation and UT1; no polar motion set, as leonet's pseudo-Earth-fixed frame).  We hand leonet
    skyfield's own UT1 - UTC (``t.dut1``) so both turn the Earth by the same angle.  Data:
    ``shared/data/tle/starlink_2026-02-23.tle`` (CelesTrak GP, 9,543 satellites; 200 sampled) and
    ``starlink_2023-07-18.tle`` (CRLF line endings, debris and other objects; 40 sampled + every non-Starlink one).
    Times: 2026-02-23 00:00 / +1 h / +1 day (most epochs are within 2 days of it), and each satellite's own epoch.
    """
    p26 = shared_file("tle/starlink_2026-02-23.tle")
    p23 = shared_file("tle/starlink_2023-07-18.tle")
    recs26 = parse_tle_text(p26.read_text(encoding="utf-8"), str(p26))
    assert len(recs26) == 9543
    raw23 = p23.read_bytes()
    assert b"\r\n" in raw23  # the CRLF file, as the data README says
    recs23 = parse_tle_text(raw23.decode("utf-8"), str(p23))
    assert len(recs23) == 4428
    assert not any("\r" in r.line1 + r.line2 + r.name for r in recs23)

    base26 = datetime(2026, 2, 23, tzinfo=UTC)
    s26 = satrecs_from_tle(_sample(recs26, 200, seed=26))
    w26 = [base26, base26 + timedelta(hours=1), base26 + timedelta(days=1)]
    worst_i, worst_t, n = _skyfield_vs_leonet(ts, s26, w26)
    assert n >= 590
    assert worst_i < 1e-3, f"ITRF differs from skyfield by {worst_i * 1e3:.3f} m"
    assert worst_t < 1e-6, f"TEME differs from skyfield by {worst_t * 1e6:.3f} mm"

    others = [r for r in recs23 if not r.name.startswith("STARLINK")]
    assert any("DEB" in r.name for r in others)
    base23 = datetime(2023, 7, 18, tzinfo=UTC)
    s23 = satrecs_from_tle(_sample([r for r in recs23 if r.name.startswith("STARLINK")], 40, seed=23) + others)
    w23 = [base23, base23 + timedelta(hours=1), base23 + timedelta(days=1)]
    worst_i, worst_t, n = _skyfield_vs_leonet(ts, s23, w23)
    assert n >= 150
    assert worst_i < 1e-3, f"ITRF differs from skyfield by {worst_i * 1e3:.3f} m"
    assert worst_t < 1e-6, f"TEME differs from skyfield by {worst_t * 1e6:.3f} mm"

    # each satellite at its own epoch (tsince = 0) and one hour later
    for sat in s26[:40] + s23[-10:]:
        ep = datetime(2000, 1, 1, tzinfo=UTC) + timedelta(days=(sat.jdsatepoch - 2451544.5) + sat.jdsatepochF)
        worst_i, worst_t, _ = _skyfield_vs_leonet(ts, [sat], [ep, ep + timedelta(hours=1)])
        assert worst_i < 1e-3 and worst_t < 1e-6


def test_itrf_is_rotation_of_teme_by_gmst() -> None:
    """``positions_itrf_km`` = R3(GMST82(UT1)) applied to SGP4's TEME output (AIAA 2006-6753, appendix C), with
    UT1 = UTC + dut1: a dut1 of 1 s turns the satellite by the Earth's rotation in 1 s (~0.5 km at LEO)."""
    sat = Satrec.twoline2rv(
        "1 44713U 19074A   26053.50000000  .00001000  00000-0  70000-4 0  9990",
        "2 44713  53.0540 100.0000 0001400  90.0000 270.0000 15.06400000    09",
        WGS72,
    )
    jw, jf = np.array([2461094.5]), np.array([0.25])
    r, err = sgp4_teme_km([sat], jw, jf)
    assert err[0, 0] == 0
    for dut1 in (0.0, 0.7):
        theta = float(gmst82_rad(jw, jf + dut1 / SECONDS_PER_DAY)[0])
        x, y, z = r[0, 0]
        expect = np.array([math.cos(theta) * x + math.sin(theta) * y, -math.sin(theta) * x + math.cos(theta) * y, z])
        got = positions_itrf_km([sat], jw, jf, dut1_s=dut1)[0, 0]
        assert np.abs(got - expect).max() < 1e-9
    shift = np.linalg.norm(positions_itrf_km([sat], jw, jf, 1.0)[0, 0] - positions_itrf_km([sat], jw, jf, 0.0)[0, 0])
    rho = math.hypot(*r[0, 0, :2])
    assert shift == pytest.approx(rho * 7.2921159e-5, rel=1e-4)  # GMST advances 2 pi * 1.0027379 per UT1 day


# ----------------------------------------------------------------------------------------------------------------
# 2. GMST 1982 against sgp4's gstime
# ----------------------------------------------------------------------------------------------------------------


def _gmst_dates() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1982)
    jd = np.concatenate(
        [
            2451545.0 + rng.uniform(-36525 * 0.5, 36525 * 0.5, 3000),  # 1950 .. 2050
            2461094.5 + rng.uniform(0, 30, 500),  # around the shipped TLEs (2026)
            np.array([2451545.0, 2451544.5, 2433281.5, 2461094.5]),  # J2000, 2000-01-01 0h, 1949-12-31, 2026-02-23
        ]
    )
    whole = np.floor(jd - 0.5) + 0.5
    return whole, jd - whole


def test_gmst82_against_sgp4_gstime() -> None:
    """``gmst82_rad`` vs ``sgp4.propagation.gstime`` (the reference SGP4 code's GMST 1982) over 1950-2050.

    Tolerance: 1e-12 rad plus 4 ulp of the *unreduced* angle.  Both evaluate the same polynomial, but the
    unreduced angle is ~1e5 rad 50 years from J2000 (one ulp there is 1.5e-11 rad), and a different order of
    floating-point operations moves the result by a few ulp; 3e-11 rad is 0.2 micrometres at LEO radius.
    (Bit-for-bit agreement is the separate test below.)"""
    from sgp4.propagation import gstime

    whole, frac = _gmst_dates()
    ours = gmst82_rad(whole, frac)
    ref = np.array([gstime(w + f) for w, f in zip(whole, frac, strict=True)])
    assert ((ours >= 0) & (ours < 2 * math.pi)).all()
    diff = np.abs((ours - ref + math.pi) % (2 * math.pi) - math.pi)
    t = (whole - 2451545.0 + frac) / 36525.0
    unreduced = np.abs((876600.0 * 3600.0 + 8640184.812866) * t) * math.pi / 180.0 / 240.0
    tol = 1e-12 + 4 * np.spacing(np.maximum(unreduced, 1.0))
    assert (diff <= tol).all(), f"max {diff.max():.3e} rad"
    # near J2000 the angle is small and the agreement must be at the 1e-12 level
    near = np.abs(t) < 1e-3
    assert near.sum() >= 2 and diff[near].max() < 1e-12


def test_gmst82_bitwise_like_gstime() -> None:
    """Brief's requirement: ``gmst82_rad`` within 1e-12 rad of ``gstime`` on every date 1950-2050."""
    from sgp4.propagation import gstime

    whole, frac = _gmst_dates()
    ours = gmst82_rad(whole, frac)
    ref = np.array([gstime(w + f) for w, f in zip(whole, frac, strict=True)])
    diff = np.abs((ours - ref + math.pi) % (2 * math.pi) - math.pi)
    assert diff.max() < 1e-12, f"max {diff.max():.3e} rad"


# ----------------------------------------------------------------------------------------------------------------
# 3. The sgp4 package's own verification vectors through leonet's TLE path
# ----------------------------------------------------------------------------------------------------------------

#: sgp4's tests.py compares the first seven printed fields (tsince, r, v) with this absolute error (km, km/s)
VER_ERROR = 2e-7
#: records of SGP4-VER.TLE whose checksums are wrong on purpose (sgp4/tests.py, test_tle_export)
BAD_CHECKSUM = {"33333", "33334", "33335"}


def _tcppver_sections() -> list[tuple[str, np.ndarray]]:
    """``tcppver.out`` as (satnum, rows of tsince, x, y, z) in file order."""
    text = (SGP4_DIR / "tcppver.out").read_text(encoding="ascii").replace("\r", "")
    sections: list[tuple[str, list[list[float]]]] = []
    for line in text.splitlines():
        if "xx" in line:
            sections.append((line.split()[0], []))
        elif line.strip():
            sections[-1][1].append([float(v) for v in line.split()[:4]])
    return [(s, np.array(rows)) for s, rows in sections]


def _ver_times(line2_tail: str) -> list[float]:
    """The minutes since epoch at which testcpp prints a line: 0, then start..stop by step (and stop itself),
    exactly as ``sgp4/tests.py`` generate_satellite_output walks them."""
    tstart, tend, tstep = (float(f) for f in line2_tail.split())
    times = [0.0]
    tsince = tstart
    while tsince <= tend:
        if not (tsince == tstart == 0.0):
            times.append(tsince)
        tsince += tstep
    if tsince - tend < tstep - 1e-6:
        times.append(tend)
    return times


def _ver_text_fixed() -> str:
    """SGP4-VER.TLE with the three deliberately wrong checksums corrected (columns after 69 kept)."""
    out = []
    for line in (SGP4_DIR / "SGP4-VER.TLE").read_text(encoding="ascii").splitlines():
        if line[:2] in ("1 ", "2 ") and line[2:7] in BAD_CHECKSUM:
            line = fix_checksum(line[:69]) + line[69:]
        out.append(line)
    return "\n".join(out) + "\n"


def test_sgp4_verification_file_checksum_errors_are_located() -> None:
    """The verification file's deliberately broken records (33333-33335, bad checksums) stop leonet's reader
    with an InputError naming the file, the line (line 1 of 33333 is file line 100) and the expected digit."""
    path = SGP4_DIR / "SGP4-VER.TLE"
    with pytest.raises(InputError) as ei:
        parse_tle_text(path.read_text(encoding="ascii"), str(path))
    msg = str(ei.value)
    assert msg.startswith(f"{path}:100:")
    assert "checksum" in msg and "expected 2" in msg
    lines = path.read_text(encoding="ascii").splitlines()
    assert lines[99].startswith("1 33333")


def _run_verification(make_satrec) -> tuple[float, int, list[tuple[str, int]]]:  # type: ignore[no-untyped-def]
    """Propagate every verification record through leonet (``sgp4_teme_km``), compare with tcppver.out.

    Returns the largest position difference (km), the number of compared lines and, for each record whose
    section stops early, (satnum, SGP4 error code that leonet reports at the next time)."""
    text = _ver_text_fixed()
    records = parse_tle_text(text, "SGP4-VER.TLE (checksums fixed)")
    tails = [ln[69:] for ln in text.splitlines() if ln.startswith("2 ")]
    sections = _tcppver_sections()
    assert len(records) == len(sections) == len(tails) == 33
    worst, compared, errors = 0.0, 0, []
    for rec, tail, (satnum, rows) in zip(records, tails, sections, strict=True):
        sat = make_satrec(rec)
        assert int(rec.line1[2:7]) == int(satnum) == sat.satnum
        times = _ver_times(tail)

        def at(minutes: np.ndarray, sat: Satrec = sat) -> tuple[np.ndarray, np.ndarray]:
            whole, frac = np.divmod(np.asarray(minutes) / 1440.0, 1.0)
            r, err = sgp4_teme_km([sat], sat.jdsatepoch + whole, sat.jdsatepochF + frac)
            itrf = positions_itrf_km([sat], sat.jdsatepoch + whole, sat.jdsatepochF + frac)
            return r[0], err[0], itrf[:, 0]

        _r0, e0, itrf0 = at(np.array([0.0]))
        if e0[0] != 0:
            # testcpp prints a stale copy of the previous line ("use previous data line"): no position to compare
            assert np.isnan(itrf0).all(), f"{satnum}: an SGP4 error must give NaN, not a position"
            errors.append((satnum, int(e0[0])))
            continue
        tsince = rows[:, 0]
        assert np.allclose(tsince, times[: len(rows)], atol=1e-8), f"{satnum}: time grid differs"
        r, e, itrf = at(tsince)
        assert (e == 0).all()
        assert np.isfinite(itrf).all()
        d = np.abs(r - rows[:, 1:4]).max()
        assert d < VER_ERROR, f"{satnum}: |r - tcppver| = {d:.3e} km"
        worst = max(worst, float(d))
        compared += len(rows)
        if len(rows) < len(times):  # testcpp stopped: the next time must be an SGP4 error in leonet too
            _rn, en, itrfn = at(np.array([times[len(rows)]]))
            assert en[0] != 0, f"{satnum}: expected an SGP4 error at t={times[len(rows)]} min"
            assert np.isnan(itrfn).all()  # (sgp4's raw TEME output may still hold numbers; leonet's ITRF must not)
            errors.append((satnum, int(en[0])))
    return worst, compared, errors


def test_sgp4_verification_vectors() -> None:
    """Every record of sgp4's ``SGP4-VER.TLE`` through leonet's TLE path (``parse_tle_text`` ->
    ``satrecs_from_tle`` -> ``sgp4_teme_km``) reproduces ``tcppver.out`` (the reference C++ program's output,
    Vallado et al. 2006) within sgp4's own test tolerance (2e-7 km on each coordinate), and the records that fail by
    design report SGP4 errors (NaN positions), not positions.

    Opsmode: ``Satrec.twoline2rv`` (what ``satrecs_from_tle`` calls) initialises in the *improved* mode 'i', which
    is the mode tcppver.out was generated in and the mode sgp4's own tcppver tests use; the AFSPC mode 'a' does not
    reproduce every line (see the next test).
    """
    worst, compared, errors = _run_verification(lambda rec: satrecs_from_tle([rec])[0])
    assert all(s.operationmode == "i" for s in satrecs_from_tle(parse_tle_text(_ver_text_fixed())))
    assert compared >= 600
    assert worst < VER_ERROR
    # the same error codes, in the same order, as sgp4/tests.py expects for Satrec (1,1,6,6,4,3,6)
    assert [e for _, e in errors] == [1, 1, 6, 6, 4, 3, 6]
    by_sat = dict(errors)
    assert "33334" in by_sat and "22312" in by_sat  # the t=0 failure and the decayed SL-6 R/B


def test_sgp4_verification_opsmode_afspc_differs() -> None:
    """The same elements initialised in AFSPC mode 'a' (``sgp4init(WGS72, 'a', ...)``) do *not* reproduce
    tcppver.out everywhere: so agreement above is a property of mode 'i', the mode leonet uses."""

    def afspc(rec):  # type: ignore[no-untyped-def]
        s = satrecs_from_tle([rec])[0]
        a = Satrec()
        a.sgp4init(
            WGS72,
            "a",
            s.satnum,
            s.jdsatepoch + s.jdsatepochF - JD_1949_12_31,
            s.bstar,
            s.ndot,
            s.nddot,
            s.ecco,
            s.argpo,
            s.inclo,
            s.mo,
            s.no_kozai,
            s.nodeo,
        )
        return a

    with pytest.raises(AssertionError, match=r"\|r - tcppver\|"):  # positions differ (e.g. 23599: ~1 km)
        _run_verification(afspc)


# ----------------------------------------------------------------------------------------------------------------
# 4. Walker presets
# ----------------------------------------------------------------------------------------------------------------

EXPECTED_COUNTS = {
    "starlink-gen1": 4408,
    "kuiper": 3236,
    "oneweb": 720,
    "starlink-550": 1584,
    "starlink-gen2": 29988,
    "starlink-gen2-granted": 7500,
}
EPOCH = datetime(2026, 2, 23, tzinfo=UTC)
J2 = 0.001082616  # WGS-72 J2, the value SGP4 uses (sgp4.earth_gravity.wgs72)


def test_preset_sizes() -> None:
    """Satellite counts of the presets, from the filings the presets cite (FCC 21-48: Starlink Gen1 4,408 with
    1,584 in the 550 km shell; FCC 20-102: Kuiper 3,236; FCC 17-77: OneWeb phase 1, 720; SpaceX's amended Gen2
    application IBFS SAT-AMD-20210818-00105, Configuration 1: 29,988; FCC 22-91's partial grant of it: 7,500)."""
    assert set(PRESETS) >= set(EXPECTED_COUNTS)
    for name, n in EXPECTED_COUNTS.items():
        assert sum(s.size for s in PRESETS[name]) == n, name
        const = from_shells(name, PRESETS[name], EPOCH)
        assert const.size == n == len(const.sat_names)
        assert len(set(const.sat_names)) == n


#: SpaceX, amended Gen2 application (IBFS SAT-AMD-20210818-00105), Configuration 1, as quoted in FCC 22-91
#: para. 2: (altitude km, inclination deg, planes, satellites per plane)
GEN2_CONFIG1 = [
    (340, 53, 48, 110), (345, 46, 48, 110), (350, 38, 48, 110), (360, 96.9, 30, 120), (525, 53, 28, 120),
    (530, 43, 28, 120), (535, 33, 28, 120), (604, 148, 12, 12), (614, 115.7, 18, 18),
]  # fmt: skip


def test_gen2_preset_is_configuration_1() -> None:
    """The starlink-gen2 preset is the filing's table, shell by shell; the three shells FCC 22-91 granted
    (525 / 530 / 535 km) hold 10,080 of the 29,988 filed satellites (the grant allows 7,500 of them)."""
    got = [(s.altitude_km, s.inclination_deg, s.planes, s.sats_per_plane) for s in PRESETS["starlink-gen2"]]
    assert got == [tuple(float(x) if i < 2 else x for i, x in enumerate(row)) for row in GEN2_CONFIG1]
    assert all(s.pattern == "delta" and s.phasing == 1 for s in PRESETS["starlink-gen2"])
    assert sum(p * n for a, _i, p, n in GEN2_CONFIG1 if a in (525, 530, 535)) == 10_080
    assert sum(p * n for _a, _i, p, n in GEN2_CONFIG1) == 29_988


def _teme_track(satrecs: list[Satrec], minutes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    jw, jf = julian_date(EPOCH)
    f = jf + minutes / 1440.0
    r, err = sgp4_teme_km(satrecs, np.full_like(f, jw), f)
    assert (err == 0).all()
    _e, _r, v = SatrecArray(satrecs).sgp4(np.full_like(f, jw), f)  # velocities, for the angular momentum
    return r, v


def _j2_nodal_period_s(a_km: float, inc_deg: float, period_kepler_s: float) -> float:
    """First-order J2 nodal (draconic) period of a circular orbit whose SGP4 input (Kozai) mean motion ``n`` is
    the Keplerian one for ``a_km``.  SGP4's initialisation (Hoots & Roehrich 1980, Spacetrack Report #3) turns it
    into the Brouwer mean motion ``n'' = n / (1 + d)``, ``d = k (3 cos^2 i - 1)``, ``k = 3/4 J2 (R/a)^2``; the
    secular rates are then ``dM/dt = n'' (1 + k (3 cos^2 i - 1))`` and ``dw/dt = n'' k (5 cos^2 i - 1)`` (e = 0;
    Vallado 4th ed. eqs. 9-41, 9-43), and the argument of latitude ``u = w + M`` advances at their sum."""
    k = 0.75 * J2 * (WGS72_A_KM / a_km) ** 2
    c2 = math.cos(math.radians(inc_deg)) ** 2
    n_brouwer = 1.0 / (1.0 + k * (3 * c2 - 1))
    rate = n_brouwer * (1.0 + k * (3 * c2 - 1) + k * (5 * c2 - 1))
    return period_kepler_s / rate


@pytest.mark.parametrize("name", sorted(EXPECTED_COUNTS))
def test_walker_preset_orbits(name: str) -> None:
    """Propagated Walker orbits have the Kepler period, the nominal altitude and inclination, and the Walker
    RAAN spacing (360/P for delta, 180/P for star) and in-plane spacing (360/S).

    Period: measured as the mean time between ascending-node crossings (z from - to +, interpolated) over 3 orbits.
    This nodal period differs from Kepler's ``2 pi sqrt(a^3/mu)`` by the J2 secular drift of the argument of
    latitude: up to 0.1-0.3 % in LEO (here -0.06 % at 53 deg, +0.06 % at 97.6 deg, -0.17 % at 33 deg).  So we
    check (a) |T - T_kepler| / T_kepler < 0.4 % (the J2 effect is at most 0.3 % at these altitudes and
    inclinations; measured here: -0.17 % .. +0.06 %), and (b) T against the first-order J2 prediction within 20 ppm
    (second-order terms are O(J2^2) ~ 1e-6; short-period terms repeat at each node and cancel in the difference;
    measured: <= 4 ppm).  A 10 km altitude error alone moves T by 0.2 % = 2000 ppm, so (b) catches it.
    """
    shells = PRESETS[name]
    const = from_shells(name, shells, EPOCH)
    first = 0
    for shell in shells:
        sats = list(const.satrecs[first : first + shell.size])
        first += shell.size
        a = WGS72_A_KM + shell.altitude_km
        tk = float(kepler_period_s(a))
        assert tk == pytest.approx(2 * math.pi * math.sqrt(a**3 / WGS72_MU_KM3_S2), rel=1e-12)
        assert shell.period_s == pytest.approx(tk, rel=1e-12)
        # a sample: the first satellite of each plane (RAAN spacing) plus a few in plane 0 (in-plane spacing)
        pick = sorted(
            {p * shell.sats_per_plane for p in range(shell.planes)} | set(range(min(4, shell.sats_per_plane)))
        )
        sub = [sats[i] for i in pick]
        minutes = np.arange(0.0, 3.2 * tk / 60.0, 0.25)
        r, v = _teme_track(sub, minutes)  # (n, T, 3)

        # --- nodal period, from ascending-node crossings of every sampled satellite
        z = r[..., 2]
        periods = []
        for k in range(len(sub)):
            up = np.flatnonzero((z[k, :-1] < 0) & (z[k, 1:] >= 0))
            tc = minutes[up] - z[k, up] * (minutes[up + 1] - minutes[up]) / (z[k, up + 1] - z[k, up])
            assert len(tc) >= 2
            periods.append(np.diff(tc).mean() * 60.0)
        t_nodal = float(np.mean(periods))
        assert np.ptp(periods) / t_nodal < 2e-4  # all planes alike
        assert abs(t_nodal - tk) / tk < 4e-3, f"{shell.name}: nodal {t_nodal:.1f} s vs Kepler {tk:.1f} s"
        t_j2 = _j2_nodal_period_s(a, shell.inclination_deg, tk)
        assert abs(t_nodal - t_j2) / t_j2 < 2e-5, f"{shell.name}: nodal {t_nodal:.2f} s vs J2 model {t_j2:.2f} s"

        # --- altitude: mean geocentric radius over the orbits minus the WGS-72 equatorial radius (SGP4's
        # short-period J2 terms move the radius by a few km around the mean)
        rad = np.linalg.norm(r, axis=-1)
        assert abs(rad.mean() - a) < 5.0, f"{shell.name}: mean radius {rad.mean():.1f} km vs {a:.1f} km"
        assert np.abs(rad - a).max() < 15.0

        # --- inclination: angle between the angular momentum r x v and TEME z, at every time
        h = np.cross(r, v)
        inc = np.degrees(np.arccos(h[..., 2] / np.linalg.norm(h, axis=-1)))
        assert np.abs(inc - shell.inclination_deg).max() < 0.1, (
            f"{shell.name}: inclination {inc.min():.3f}..{inc.max():.3f}"
        )

        # --- RAAN spacing between planes at the epoch
        raan = np.degrees(np.arctan2(h[:, 0, 0], -h[:, 0, 1]))
        plane_first = [pick.index(p * shell.sats_per_plane) for p in range(shell.planes)]
        spread = 360.0 if shell.pattern == "delta" else 180.0
        step = np.diff(np.unwrap(np.radians(raan[plane_first]), period=2 * np.pi))
        step_deg = np.degrees(step)
        assert np.abs(step_deg - spread / shell.planes).max() < 0.01, f"{shell.name}: RAAN steps {step_deg[:4]}"

        # --- in-plane spacing: argument of latitude of slots 0..3 of plane 0 is 360/S apart
        if shell.sats_per_plane >= 2:
            n_in = min(4, shell.sats_per_plane)
            rr = r[:n_in, 0]
            hh = h[0, 0] / np.linalg.norm(h[0, 0])
            node = np.cross([0.0, 0.0, 1.0], hh)
            node /= np.linalg.norm(node)
            u = np.degrees(np.arctan2(np.einsum("ij,j->i", np.cross(node, rr), hh), rr @ node))
            du = np.diff(u) % 360.0
            assert np.abs(du - 360.0 / shell.sats_per_plane).max() < 0.1, f"{shell.name}: in-plane {du}"


def test_gen2_granted_preset_is_the_grant() -> None:
    """FCC 22-91 (Dec 2022) grants "up to 7,500 satellites operating at altitudes of 525, 530, and 535 km and
    inclinations of 53, 43, and 33 degrees, respectively": the preset has exactly those (altitude, inclination)
    pairs, which are shells of the filed Configuration 1, 7,500 satellites in all, and no shell holds more than
    the filing put there.  The split over the shells is the preset's stated assumption (2,500 each)."""
    granted = PRESETS["starlink-gen2-granted"]
    assert [(s.altitude_km, s.inclination_deg) for s in granted] == [(525.0, 53.0), (530.0, 43.0), (535.0, 33.0)]
    filed = {(float(a), float(i)): p * n for a, i, p, n in GEN2_CONFIG1}
    for s in granted:
        assert s.size <= filed[(s.altitude_km, s.inclination_deg)]
        assert s.pattern == "delta" and s.phasing == 1
    assert sum(s.size for s in granted) == 7_500
    assert [s.size for s in granted] == [2_500, 2_500, 2_500]
