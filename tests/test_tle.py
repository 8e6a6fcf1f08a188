"""Reading satellites: malformed TLEs give one located InputError; OMM JSON / CSV equal the equivalent TLE.

References: the TLE column layout and checksum rule (Hoots & Roehrich 1980, Spacetrack Report #3, appendix;
CelesTrak "FAQ: Two-Line Element Set Format"); the checksum is recomputed here independently of leonet; the
structural checks of ``sgp4.io.twoline2rv`` (blank separator columns, fixed decimal points).  OMM: the sample files
shipped with ``sgp4`` (``sample_omm.json`` / ``sample_omm.csv``, CCSDS 502.0-B-3 keywords), initialised with
``sgp4.omm.initialize`` and written back as a TLE with ``sgp4.exporter.export_tle``.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import numpy as np
import pytest
import sgp4
from sgp4 import io as sgp4_io
from sgp4 import omm as sgp4_omm
from sgp4.api import Satrec
from sgp4.earth_gravity import wgs72
from sgp4.exporter import export_tle

from leonet.assembly import constellation_from_spec
from leonet.errors import InputError
from leonet.orbits.propagate import positions_itrf_km
from leonet.orbits.tle import parse_tle_text, satellites_from_omm, satrecs_from_tle
from leonet.scenario import load_scenario, parse_scenario

SGP4_DIR = Path(sgp4.__file__).resolve().parent

# Two real element sets (CelesTrak GP "starlink" group, 2026-02-23; shared/data/tle/starlink_2026-02-23.tle).
NAME_A = "STARLINK-1008"
A1 = "1 44714U 19074B   26053.95338319  .00001514  00000+0  61711-4 0  9998"
A2 = "2 44714  53.1565 247.2957 0001251  94.4223 265.6921 15.31035506346616"
NAME_B = "STARLINK-1012"
B1 = "1 44718U 19074F   26053.79510367 -.00003638  00000+0 -11084-3 0  9997"
B2 = "2 44718  53.1591 247.9884 0000544  91.4546 268.6517 15.30185387346586"


def checksum(line: str) -> str:
    """Modulo-10 sum of columns 1-68, digits by value and '-' as 1 (Spacetrack Report #3)."""
    return str(sum(int(c) if c.isdigit() else (1 if c == "-" else 0) for c in line[:68]) % 10)


def with_checksum(line: str) -> str:
    return line[:68] + checksum(line)


def put(line: str, first_col: int, text: str) -> str:
    """``line`` with ``text`` written from 1-based column ``first_col`` on, checksum recomputed."""
    i = first_col - 1
    return with_checksum(line[:i] + text + line[i + len(text) :])


def test_reference_lines_are_valid() -> None:
    for ln in (A1, A2, B1, B2):
        assert len(ln) == 69 and ln[68] == checksum(ln)
    recs = parse_tle_text(f"{NAME_A}\n{A1}\n{A2}\n{NAME_B}\n{B1}\n{B2}\n", "ok.tle")
    assert [r.name for r in recs] == [NAME_A, NAME_B]
    assert [r.lineno for r in recs] == [2, 5]


def _expect_error(text: str, line: int, *words: str, source: str = "sats.tle") -> InputError:
    with pytest.raises(InputError) as ei:
        parse_tle_text(text, source)
    msg = str(ei.value)
    assert "\n" not in msg
    assert msg.startswith(f"{source}:{line}: "), msg
    assert "expected" in msg, msg
    for w in words:
        assert w.lower() in msg.lower(), msg
    return ei.value


# Each case: (id, file text, the 1-based line the error must name, words the message must hold)
CASES = [
    ("bad-checksum", f"{NAME_A}\n{A1}\n{A2[:68]}{(int(A2[68]) + 3) % 10}\n", 3, ["checksum", f"expected {A2[68]}"]),
    ("letter-in-inclination", f"{NAME_A}\n{A1}\n{put(A2, 11, 'x')}\n", 3, ["columns 9-16", "inclination", "number"]),
    ("letter-in-epoch", f"{NAME_A}\n{A1}\n{A2}\n{NAME_B}\n{put(B1, 25, 'Q')}\n{B2}\n", 5, ["epoch day", "number"]),
    ("truncated-line-2", f"{NAME_A}\n{A1}\n{A2[:50]}\n", 3, ["50 characters", "69"]),
    ("line-1-without-line-2", f"{NAME_A}\n{A1}\n{A2}\n{NAME_B}\n{B1}\n", 5, ["line 2"]),
    ("line-2-without-line-1", f"{NAME_A}\n{A1}\n{A2}\n\n{B2}\n", 5, ["line 2 without a line 1", "line 1"]),
    ("mismatched-satnum", f"{NAME_A}\n{A1}\n{put(A2, 3, '44715')}\n", 3, ["satellite number", "44715", "44714"]),
    (
        "epoch-day-400",
        f"{NAME_A}\n{A1}\n{A2}\n{NAME_B}\n{put(B1, 21, '400.79510367')}\n{B2}\n",
        5,
        ["epoch day", "400"],
    ),
    ("epoch-day-0", f"{NAME_A}\n{put(A1, 21, '000.95338319')}\n{A2}\n", 2, ["epoch day", "1..365.99999999"]),
    ("inclination-190", f"{NAME_A}\n{A1}\n{put(A2, 9, '190.0000')}\n", 3, ["inclination", "190", "0..180"]),
    ("zero-mean-motion", f"{NAME_A}\n{A1}\n{put(A2, 53, ' 0.00000000')}\n", 3, ["mean motion", "> 0"]),
    ("line-2-starts-wrong", f"{NAME_A}\n{A1}\n{'3' + A2[1:]}\n", 3, ["expected '2 '"]),
    ("empty", "\n\n", None, ["no element sets"]),
]


@pytest.mark.parametrize(("text", "line", "words"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_tle_is_located(text: str, line: int | None, words: list[str]) -> None:
    """A malformed TLE gives one InputError: ``<file>:<line>: <what is wrong>; expected <what>``."""
    if line is None:
        with pytest.raises(InputError) as ei:
            parse_tle_text(text, "sats.tle")
        assert str(ei.value).startswith("sats.tle: ") and "expected" in str(ei.value)
        return
    _expect_error(text, line, *words)


def test_crlf_blank_lines_comments_and_3le_names() -> None:
    """CRLF endings, blank lines, '#' comments and the 3LE '0 NAME' form are read; line numbers count every
    physical line."""
    text = f"# a comment\r\n\r\n0 {NAME_A}\r\n{A1}\r\n{A2}\r\n\r\n{NAME_B}\r\n{B1}\r\n{B2}\r\n"
    recs = parse_tle_text(text, "crlf.tle")
    assert [r.name for r in recs] == [NAME_A, NAME_B]
    assert [r.lineno for r in recs] == [4, 8]
    bad = text.replace(B2, put(B2, 9, "190.0000"))
    _expect_error(bad, 9, "inclination", source="crlf.tle")


def test_truncated_line_1_is_reported_at_its_line() -> None:
    _expect_error(f"{NAME_A}\n{A1[:40]}\n{A2}\n", 2, "40 characters", "69")


def test_field_shifted_by_one_column_is_rejected() -> None:
    shifted = with_checksum(A2[:7] + A2[8:16] + " " + A2[16:])  # "2 44714 53.1565  247.2957 ..."
    with pytest.raises(ValueError):  # sgp4's reference parser refuses it
        sgp4_io.twoline2rv(A1, shifted, wgs72)
    _expect_error(f"{NAME_A}\n{A1}\n{shifted}\n", 3, "column")


# ---------------------------------------------------------------------------------------------------------------
# through the scenario: the error names the file (as resolved) and the line
# ---------------------------------------------------------------------------------------------------------------


def _scenario_with(path: Path, key: str = "tle") -> object:
    toml = f"""
epoch = 2026-02-23T00:00:00Z
[[networks]]
name = "n"
constellation = {{ {key} = "{path.name}" }}
[ground]
cities = 2
"""
    scen = path.parent / "scenario.toml"
    scen.write_text(toml, encoding="utf-8")
    return load_scenario(scen)


def _load_constellation(path: Path, key: str = "tle"):  # type: ignore[no-untyped-def]
    sc = _scenario_with(path, key)
    return constellation_from_spec(sc.networks[0], sc.epoch, sc.resolve)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("text", "line", "words"), [c[1:] for c in CASES if c[2] is not None], ids=[c[0] for c in CASES if c[2] is not None]
)
def test_bad_tle_file_through_scenario(tmp_path: Path, text: str, line: int, words: list[str]) -> None:
    p = tmp_path / "sats.tle"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as ei:
        _load_constellation(p)
    msg = str(ei.value)
    assert msg.startswith(f"{p}:{line}: "), msg
    assert "expected" in msg
    for w in words:
        assert w.lower() in msg.lower(), msg


def test_good_tle_file_through_scenario(tmp_path: Path) -> None:
    p = tmp_path / "sats.tle"
    p.write_text(f"{NAME_A}\n{A1}\n{A2}\n{NAME_B}\n{B1}\n{B2}\n", encoding="utf-8")
    const = _load_constellation(p)
    assert const.size == 2 and list(const.sat_names) == [NAME_A, NAME_B]


def test_missing_files(tmp_path: Path) -> None:
    """A missing scenario file, TLE file or OMM file: an InputError naming the path and what was expected."""
    missing = tmp_path / "nope.toml"
    with pytest.raises(InputError) as ei:
        load_scenario(missing)
    assert str(ei.value).startswith(f"{missing}: ") and "no such file" in str(ei.value) and "expected" in str(ei.value)
    for key, name in (("tle", "gone.tle"), ("omm", "gone.json"), ("omm", "gone.csv")):
        sc = _scenario_with(tmp_path / name, key)
        with pytest.raises(InputError) as ei:
            constellation_from_spec(sc.networks[0], sc.epoch, sc.resolve)  # type: ignore[attr-defined]
        msg = str(ei.value)
        assert msg.startswith(f"{tmp_path / name}: "), msg
        assert "no such file" in msg and "expected" in msg


def test_bad_scenario_field_is_located() -> None:
    text = 'epoch = 2026-02-23T00:00:00Z\n[[networks]]\nname = "n"\nconstellation = { preset = "starlink-551" }\n'
    with pytest.raises(InputError) as ei:
        parse_scenario(text, "s.toml")
    msg = str(ei.value)
    assert msg.startswith("s.toml:4: ") and "starlink-551" in msg and "expected" in msg


# ---------------------------------------------------------------------------------------------------------------
# OMM JSON and CSV equal the equivalent TLE
# ---------------------------------------------------------------------------------------------------------------


def _omm_rows(fmt: str) -> list[dict[str, str]]:
    text = (SGP4_DIR / f"sample_omm.{fmt}").read_text(encoding="utf-8")
    if fmt == "json":
        return [{k: str(v) for k, v in r.items()} for r in json.loads(text)]
    return list(csv.DictReader(io.StringIO(text)))


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_omm_equals_equivalent_tle(tmp_path: Path, fmt: str) -> None:
    """sgp4's sample OMM files through leonet (``satellites_from_omm`` and a scenario ``omm = ...`` entry) give
    the positions of the equivalent TLE (``export_tle`` of the satrec ``sgp4.omm.initialize`` builds) read by
    leonet's TLE reader.  The TLE rounds the epoch to 1e-8 day (<= 0.43 ms), so positions may differ by that time
    times the speed (<= 8 km/s); the tolerance is computed from the actual epoch difference, plus 1 m."""
    src = SGP4_DIR / f"sample_omm.{fmt}"
    names, sats = satellites_from_omm(src.read_text(encoding="utf-8"), str(src), fmt)
    assert len(sats) == len(_omm_rows(fmt)) >= 1
    # the reference: sgp4's own OMM initialisation, exported to TLE text, read back by leonet's TLE path
    tle_lines = []
    for row in _omm_rows(fmt):
        ref = Satrec()
        sgp4_omm.initialize(ref, row)
        l1, l2 = export_tle(ref)
        tle_lines += [row.get("OBJECT_NAME", ""), l1, l2]
    tle_sats = satrecs_from_tle(parse_tle_text("\n".join(tle_lines) + "\n", "exported.tle"))
    assert names == [r.get("OBJECT_NAME", "") for r in _omm_rows(fmt)]

    # the scenario path (file suffix picks the format)
    p = tmp_path / f"sample.{fmt}"
    p.write_text(src.read_text(encoding="utf-8"), encoding="utf-8")
    const = _load_constellation(p, key="omm")
    assert const.size == len(sats)

    for s_omm, s_tle, s_scn in zip(sats, tle_sats, const.satrecs, strict=True):
        for attr in ("satnum", "ecco", "inclo", "nodeo", "argpo", "mo"):
            assert getattr(s_omm, attr) == pytest.approx(getattr(s_tle, attr), rel=1e-7, abs=1e-9), attr
        assert s_omm.no_kozai == pytest.approx(s_tle.no_kozai, rel=1e-9)
        d_epoch_s = abs((s_omm.jdsatepoch - s_tle.jdsatepoch) + (s_omm.jdsatepochF - s_tle.jdsatepochF)) * 86400.0
        assert d_epoch_s <= 0.44e-3
        jw = np.full(5, s_omm.jdsatepoch)
        jf = s_omm.jdsatepochF + np.array([0.0, 0.01, 0.1, 0.5, 1.0])
        r_omm = positions_itrf_km([s_omm], jw, jf)[:, 0]
        r_tle = positions_itrf_km([s_tle], jw, jf)[:, 0]
        r_scn = positions_itrf_km([s_scn], jw, jf)[:, 0]
        assert np.isfinite(r_omm).all()
        tol_km = d_epoch_s * 8.0 + 1e-3
        assert np.abs(r_omm - r_tle).max() <= tol_km, (np.abs(r_omm - r_tle).max(), tol_km)
        assert np.array_equal(r_omm, r_scn)


def test_omm_bad_input_is_located() -> None:
    rows = json.loads((SGP4_DIR / "sample_omm.json").read_text(encoding="utf-8"))
    del rows[0]["MEAN_MOTION"]
    with pytest.raises(InputError) as ei:
        satellites_from_omm(json.dumps(rows), "x.json", "json")
    msg = str(ei.value)
    assert msg.startswith("x.json: record 1: ") and "MEAN_MOTION" in msg and "expected" in msg
    with pytest.raises(InputError) as ei:
        satellites_from_omm('[{"EPOCH": 1,,}]', "y.json", "json")
    assert re.match(r"^y\.json:1: .*expected", str(ei.value))
    text = (SGP4_DIR / "sample_omm.csv").read_text(encoding="utf-8")
    header, row = text.splitlines()[:2]
    cells = row.split(",")
    assert header.split(",")[3] == "MEAN_MOTION"
    cells[3] = ""
    bad_csv = f"{header}\n{row}\n{','.join(cells)}\n"
    with pytest.raises(InputError) as ei:
        satellites_from_omm(bad_csv, "z.csv", "csv")
    assert str(ei.value).startswith("z.csv:3: ") and "MEAN_MOTION" in str(ei.value)
