"""Property-based tests of every input parser leonet owns: TLE / 3LE text, OMM JSON and CSV, scenario TOML (every
field), and the file reader.  The only allowed outcomes are a result or :class:`leonet.errors.InputError` with a
one-line message; anything else (a crash) fails.  ``benchmarks/fuzz_parsers.py`` runs the same strategies for a
fixed time and counts crashes instead of stopping at the first.

Inputs are built the way a hostile user would: valid element sets and scenarios with characters replaced by
any Unicode character (NUL, non-ASCII digits), with checksums then repaired so that mutations reach the field
parsers; OMM and scenario fields set to huge integers, non-finite floats, long or control-character strings,
empty lists, nested values; deeply nested and oversized documents.  Seeds: the two real element sets of
``test_tle.py`` (CelesTrak, 2026-02-23) and sgp4's ``sample_omm.json`` / ``sample_omm.csv``.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import os
import stat
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import sgp4
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leonet import assembly
from leonet.errors import InputError
from leonet.orbits.propagate import max_radius_km, positions_itrf_km
from leonet.orbits.tle import parse_tle_text, satellites_from_omm, satrecs_from_tle, tle_checksum
from leonet.results import run_prepared
from leonet.safeio import read_text_capped
from leonet.scenario import parse_scenario

SGP4_DIR = Path(sgp4.__file__).resolve().parent
A = (
    "STARLINK-1008",
    "1 44714U 19074B   26053.95338319  .00001514  00000+0  61711-4 0  9998",
    "2 44714  53.1565 247.2957 0001251  94.4223 265.6921 15.31035506346616",
)
B = (
    "STARLINK-1012",
    "1 44718U 19074F   26053.79510367 -.00003638  00000+0 -11084-3 0  9997",
    "2 44718  53.1591 247.9884 0000544  91.4546 268.6517 15.30185387346586",
)
TLE_SEED = "\n".join(A + B) + "\n"
OMM_JSON_SEED: list[dict[str, Any]] = json.loads((SGP4_DIR / "sample_omm.json").read_text(encoding="utf-8"))
OMM_CSV_SEED = (SGP4_DIR / "sample_omm.csv").read_text(encoding="utf-8")

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None)


def one_line(err: InputError) -> None:
    msg = str(err)
    assert msg and "\n" not in msg and "Traceback" not in msg


# --------------------------------------------------------------------------------------------------------------
# strategies (also used by benchmarks/fuzz_parsers.py)
# --------------------------------------------------------------------------------------------------------------

#: characters a hostile file holds: anything, with the troublemakers made likely
nasty_chars = st.one_of(
    st.characters(codec="utf-8"),
    st.sampled_from(["\x00", "\x7f", "\u0660", "\u0663", "\uff11", "\u00b2", "\u2028", "\ufeff", "-", "+", ".", " "]),
    st.sampled_from(list("0123456789eE")),
)


def _fix_checksums(text: str) -> str:
    out = []
    for ln in text.split("\n"):
        if ln[:2] in ("1 ", "2 ") and len(ln) >= 69:
            ln = ln[:68] + str(tle_checksum(ln)) + ln[69:]
        out.append(ln)
    return "\n".join(out)


@st.composite
def mutated_text(draw: st.DrawFn, seed: str, fix_checksums: bool = False) -> str:
    """``seed`` with a few characters replaced, inserted or deleted (any Unicode)."""
    chars = list(seed)
    for _ in range(draw(st.integers(1, 6))):
        i = draw(st.integers(0, max(len(chars) - 1, 0)))
        op = draw(st.sampled_from(["replace", "replace", "insert", "delete"]))
        if op == "delete" and chars:
            del chars[i]
        elif op == "insert":
            chars.insert(i, draw(nasty_chars))
        elif chars:
            chars[i] = draw(nasty_chars)
    text = "".join(chars)
    return _fix_checksums(text) if fix_checksums else text


#: (line, first column, last column) of every field of a TLE (Spacetrack Report #3 / CelesTrak's format FAQ)
TLE_FIELDS = [
    (1, 3, 7), (1, 8, 8), (1, 10, 17), (1, 19, 20), (1, 21, 32), (1, 34, 43), (1, 45, 52), (1, 54, 61), (1, 63, 63),
    (1, 65, 68), (2, 3, 7), (2, 9, 16), (2, 18, 25), (2, 27, 33), (2, 35, 42), (2, 44, 51), (2, 53, 63), (2, 64, 68),
]  # fmt: skip


@st.composite
def tle_field_replaced(draw: st.DrawFn) -> str:
    """A real element set with one field's columns overwritten by hostile characters (same width, so the
    other columns stay put), checksum repaired."""
    lines = list(A)
    line, first, last = draw(st.sampled_from(TLE_FIELDS))
    width = last - first + 1
    body = draw(st.text(nasty_chars, min_size=1, max_size=width))
    keep = lines[line][first - 1 : last]
    pos = draw(st.integers(0, width - len(body)))
    field = keep[:pos] + body + keep[pos + len(body) :]
    s = lines[line]
    lines[line] = s[: first - 1] + field + s[last:]
    return _fix_checksums("\n".join(lines) + "\n")


tle_texts = st.one_of(
    tle_field_replaced(),
    tle_field_replaced(),
    mutated_text(TLE_SEED, fix_checksums=True),
    mutated_text(TLE_SEED),
    st.text(nasty_chars, max_size=300),
    st.lists(st.sampled_from([*A, *B, "", "0 X", "1 ", "2 "]), max_size=8).map("\n".join),
)

#: values that break naive field readers
hostile_values = st.one_of(
    st.integers(),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.sampled_from([2**63, -(2**63) - 1, 2**64, 10**30, 10**400, -1, 0]),
    st.floats(),
    st.sampled_from([math.inf, -math.inf, math.nan, 1e308, -0.0, 5e-324]),
    st.text(nasty_chars, max_size=30),
    st.sampled_from(["", "x" * 5000, "1" * 60, "NaN", "inf", "1e999", "٣", "0x10", "2026-02-30T00:00:00"]),
    st.booleans(),
    st.none(),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


@st.composite
def omm_records(draw: st.DrawFn) -> list[dict[str, Any]]:
    rows = [dict(r) for r in OMM_JSON_SEED[: draw(st.integers(1, len(OMM_JSON_SEED)))]]
    keys = sorted({k for r in rows for k in r} | {"CLASSIFICATION_TYPE", "OBJECT_NAME"})
    for _ in range(draw(st.integers(1, 4))):
        row = draw(st.sampled_from(rows))
        key = draw(st.sampled_from(keys))
        if draw(st.booleans()) and key in row:
            del row[key]
        else:
            row[key] = draw(hostile_values)
    return rows


def _csv_text(rows: list[dict[str, Any]]) -> str:
    keys = sorted({k for r in rows for k in r})
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=keys)
    w.writeheader()
    for r in rows:
        w.writerow({k: ("" if r.get(k) is None else str(r.get(k))) for k in keys})
    return buf.getvalue()


omm_json_texts = st.one_of(
    omm_records().map(lambda rows: json.dumps(rows)),
    mutated_text(json.dumps(OMM_JSON_SEED)),
    st.sampled_from(
        [
            "[" * 50_000 + "]" * 50_000,
            '[{"NORAD_CAT_ID": ' + "9" * 5000 + "}]",
            '[{"MEAN_MOTION": NaN}]',
            '[{"MEAN_MOTION": Infinity}]',
            "null",
            "[1, 2]",
            '"text"',
        ]
    ),
)
omm_csv_texts = st.one_of(
    omm_records().map(_csv_text),
    mutated_text(OMM_CSV_SEED),
    st.sampled_from(["NORAD_CAT_ID\n" + "9" * 200_000 + "\n", "a,b\n\x00,1\n", 'EPOCH\n"unclosed\n']),
)


# -------- scenarios: a valid base, then any field set to a hostile value --------------------------------------

BASE: dict[str, Any] = {
    "name": "fuzz",
    "description": "d",
    "epoch": datetime(2026, 2, 23),
    "dut1_s": 0.0,
    "time": {"start_s": 0, "end_s": 20, "step_s": 10},
    "networks": [
        {
            "name": "n",
            "constellation": [
                {"shells": [{"altitude_km": 550, "inclination_deg": 53, "planes": 4, "sats_per_plane": 4}]}
            ],
            "isl": "plus-grid",
            "min_elevation_deg": 25.0,
            "isl_speed_fraction": 1.0,
            "ground_link_speed_fraction": 1.0,
        }
    ],
    "ground": {"cities": ["Tokyo", "London"], "stations": [{"name": "s", "lat_deg": 1.0, "lon_deg": 2.0}]},
    "routing": {"mode": "reconfig", "reconfiguration_interval_s": 15},
    "report": {"pairs": [["Tokyo", "London"]]},
}
#: every field of the scenario models, as a path into BASE
FIELDS: list[tuple[Any, ...]] = [
    ("name",),
    ("description",),
    ("epoch",),
    ("dut1_s",),
    ("pairs",),
    ("policy",),
    ("time",),
    ("time", "start_s"),
    ("time", "end_s"),
    ("time", "step_s"),
    ("networks",),
    ("networks", 0, "name"),
    ("networks", 0, "constellation"),
    ("networks", 0, "isl"),
    ("networks", 0, "max_isl_km"),
    ("networks", 0, "min_elevation_deg"),
    ("networks", 0, "max_ground_link_km"),
    ("networks", 0, "policy"),
    ("networks", 0, "isl_speed_fraction"),
    ("networks", 0, "ground_link_speed_fraction"),
    ("networks", 0, "constellation", 0, "preset"),
    ("networks", 0, "constellation", 0, "shells"),
    ("networks", 0, "constellation", 0, "tle"),
    ("networks", 0, "constellation", 0, "omm"),
    ("networks", 0, "constellation", 0, "grid"),
    ("networks", 0, "constellation", 0, "shells", 0, "altitude_km"),
    ("networks", 0, "constellation", 0, "shells", 0, "inclination_deg"),
    ("networks", 0, "constellation", 0, "shells", 0, "planes"),
    ("networks", 0, "constellation", 0, "shells", 0, "sats_per_plane"),
    ("networks", 0, "constellation", 0, "shells", 0, "phasing"),
    ("networks", 0, "constellation", 0, "shells", 0, "pattern"),
    ("networks", 0, "constellation", 0, "shells", 0, "name"),
    ("ground", "cities"),
    ("ground", "cities_kind"),
    ("ground", "gateways"),
    ("ground", "stations"),
    ("ground", "tracks"),
    ("ground", "stations", 0, "name"),
    ("ground", "stations", 0, "lat_deg"),
    ("ground", "stations", 0, "lon_deg"),
    ("ground", "stations", 0, "alt_m"),
    ("ground", "stations", 0, "kind"),
    ("ground", "stations", 0, "min_elevation_deg"),
    ("ground", "stations", 0, "track"),
    ("routing", "mode"),
    ("routing", "reconfiguration_interval_s"),
    ("report", "pairs"),
]
#: values every field is tried with, one by one (then random ones)
SPECIAL_VALUES: list[Any] = [
    [],
    [[]],
    {},
    "",
    "starlink-550",
    "auto",
    "all",
    "none",
    "star",
    "terminal",
    "/dev/zero",
    "..",
    "../../x",
    "a\x00b",
    [72, 22],
    [0, 1],
    [10**20, 1],
    ["Tokyo", "Nowhere"],
    datetime(1, 1, 1),
    datetime(9999, 12, 31),
    0,
    -1,
    10**400,
    2**64,
    math.inf,
    -math.inf,
    math.nan,
    1e308,
    5e-324,
    True,
]
scenario_values = st.one_of(
    st.sampled_from(SPECIAL_VALUES), st.sampled_from(SPECIAL_VALUES), hostile_values, st.datetimes()
)
#: fields that only exist in another shape of their parent: (parent path, the parent with the value at key)
WRAPPED: list[tuple[tuple[Any, ...], dict[str, Any], str]] = [
    (("networks", 0, "constellation", 0), {}, "tle"),
    (("networks", 0, "constellation", 0), {}, "omm"),
    (("networks", 0, "constellation", 0), {"tle": "x.tle"}, "grid"),
]  # (track files are read by leonet.tracks, tested with its own parsers)


def with_value(path: tuple[Any, ...] | int, v: Any) -> str:
    """BASE as TOML with one field (a path into BASE, or an index into WRAPPED) set to ``v``."""
    data = json.loads(json.dumps(BASE, default=str))
    data["epoch"] = BASE["epoch"]
    if isinstance(path, int):
        parent, shape, key = WRAPPED[path]
        _set(data, parent, {**shape, key: v})
    else:
        _set(data, path, v)
    return to_toml(data)


def to_toml(data: dict[str, Any]) -> str:
    """A minimal TOML writer (inline tables, one key per line) for the fuzzer's dicts."""

    def value(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, int):
            return str(v)
        if isinstance(v, float):
            return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf") if math.isinf(v) else repr(v)
        if isinstance(v, str):
            return json.dumps(v, ensure_ascii=False)
        if isinstance(v, datetime):
            return v.isoformat()
        if v is None:
            return '""'
        if isinstance(v, list | tuple):
            return "[" + ", ".join(value(x) for x in v) + "]"
        if isinstance(v, dict):
            return "{" + ", ".join(f"{json.dumps(str(k))} = {value(x)}" for k, x in v.items()) + "}"
        raise TypeError(type(v))

    return "".join(f"{json.dumps(str(k))} = {value(v)}\n" for k, v in data.items())


def _set(data: Any, path: tuple[Any, ...], v: Any) -> None:
    for p in path[:-1]:
        data = data[p]
    data[path[-1]] = v


@st.composite
def scenario_texts(draw: st.DrawFn, fields: list[tuple[Any, ...]] = FIELDS) -> str:
    """BASE with one to three of ``fields`` set to hostile values, as TOML (sometimes mutated as text)."""
    data = json.loads(json.dumps(BASE, default=str))
    data["epoch"] = BASE["epoch"]
    if draw(st.integers(0, 4)) == 0:
        parent, shape, key = draw(st.sampled_from(WRAPPED))
        _set(data, parent, {**shape, key: draw(scenario_values)})
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(fields))
        with contextlib.suppress(KeyError, IndexError, TypeError):  # an earlier change replaced a parent
            _set(data, path, draw(scenario_values))
    text = to_toml(data)
    if draw(st.integers(0, 9)) == 0:
        text = draw(mutated_text(text))
    return text


# --------------------------------------------------------------------------------------------------------------
# targets: the whole path a user's input takes, as far as it is cheap
# --------------------------------------------------------------------------------------------------------------


def run_tle(text: str) -> None:
    recs = parse_tle_text(text, "f.tle")
    sats = satrecs_from_tle(recs)
    r = positions_itrf_km(sats, np.full(2, sats[0].jdsatepoch), np.array([0.0, 0.5]), max_r_km=max_radius_km(sats))
    assert r.shape == (2, len(sats), 3)


def run_omm(text: str, fmt: str) -> None:
    names, sats = satellites_from_omm(text, f"f.{fmt}", fmt)
    assert len(names) == len(sats) >= 1
    r = positions_itrf_km(sats, np.full(1, sats[0].jdsatepoch), np.zeros(1), max_r_km=max_radius_km(sats))
    assert r.shape == (1, len(sats), 3)


def run_scenario(text: str) -> None:
    """Parse; a scenario that is accepted and small is also prepared, and if its window is short, simulated."""
    sc = parse_scenario(text, "f.toml", base_dir="/nonexistent-leonet-fuzz")
    declared = sum(assembly.declared_satellites(n) for n in sc.networks)
    t = sc.time
    if declared > 2000 or (t.end_s - t.start_s) / t.step_s > 2000 or sc.policy is not None:
        return
    prep = assembly.assemble(sc)
    if len(prep.times_s) <= 5:
        run_prepared(prep)


def allowed(fn: Any, *args: Any) -> None:
    try:
        fn(*args)
    except InputError as exc:
        one_line(exc)


# --------------------------------------------------------------------------------------------------------------
# the properties
# --------------------------------------------------------------------------------------------------------------


@FUZZ
@given(tle_texts)
def test_tle_text_gives_satellites_or_input_error(text: str) -> None:
    allowed(run_tle, text)


@FUZZ
@given(omm_json_texts)
def test_omm_json_gives_satellites_or_input_error(text: str) -> None:
    allowed(run_omm, text, "json")


@FUZZ
@given(omm_csv_texts)
def test_omm_csv_gives_satellites_or_input_error(text: str) -> None:
    allowed(run_omm, text, "csv")


@settings(FUZZ, max_examples=300)
@given(scenario_texts())
def test_scenario_gives_a_scenario_or_input_error(text: str) -> None:
    allowed(run_scenario, text)


ALL_FIELDS: list[tuple[Any, ...] | int] = [*FIELDS, *range(len(WRAPPED))]
#: one field set to a hostile value (what a typo does), or several (what a fuzzer does)
any_scenario_texts = st.one_of(st.builds(with_value, st.sampled_from(ALL_FIELDS), scenario_values), scenario_texts())


@pytest.mark.parametrize(
    "path",
    ALL_FIELDS,
    ids=[".".join(map(str, p)) if isinstance(p, tuple) else f"{WRAPPED[p][2]}-entry" for p in ALL_FIELDS],
)
def test_every_scenario_field_gives_a_scenario_or_input_error(path: tuple[Any, ...] | int) -> None:
    """Each field on its own, set to every special value (``step_s = inf``, ``shells = []``, 400-digit counts,
    ``tle = "/dev/zero"`` ...), then to random hostile ones."""
    for v in SPECIAL_VALUES:
        allowed(run_scenario, with_value(path, v))

    @settings(FUZZ, max_examples=20)
    @given(scenario_values)
    def one(v: Any) -> None:
        allowed(run_scenario, with_value(path, v))

    one()


def test_seeds_are_valid() -> None:
    """The seeds parse, so the mutations start from valid input (else the properties test little)."""
    run_tle(TLE_SEED)
    run_omm(json.dumps(OMM_JSON_SEED), "json")
    run_omm(OMM_CSV_SEED, "csv")
    run_scenario(to_toml(BASE))


# --------------------------------------------------------------------------------------------------------------
# the crash kinds the issue lists, each once by name (each failed before its fix)
# --------------------------------------------------------------------------------------------------------------


def _tle_with(line: int, col: int, ch: str) -> str:
    lines = list(A)
    s = lines[line]
    s = s[: col - 1] + ch + s[col:]
    lines[line] = s[:68] + str(tle_checksum(s))
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (_tle_with(2, 12, "\x00"), ["column 12", "ascii"]),  # NUL where the inclination's point is
        (_tle_with(2, 10, "\u0663"), ["column 10", "ascii"]),  # ARABIC-INDIC DIGIT THREE in the inclination
        (_tle_with(1, 20, "\uff11"), ["column 20", "ascii"]),  # FULLWIDTH DIGIT ONE in the epoch year
        (_tle_with(1, 8, "X"), ["column 8", "classification"]),
        (_tle_with(1, 60, "5"), ["columns 54-61", "bstar"]),  # "61711-4" -> "617115-4": no exponent sign
        (_tle_with(2, 30, "x"), ["columns 27-33", "eccentricity"]),
    ],
)
def test_tle_crash_kinds_are_located(text: str, words: list[str]) -> None:
    with pytest.raises(InputError) as ei:
        parse_tle_text(text, "s.tle")
    msg = str(ei.value).lower()
    one_line(ei.value)
    assert msg.startswith("s.tle:"), msg
    for w in words:
        assert w in msg, msg


@pytest.mark.parametrize(
    ("key", "value", "words"),
    [
        ("NORAD_CAT_ID", 2**64, ["norad_cat_id", "0..339999"]),  # beyond 64 bits
        ("NORAD_CAT_ID", "9" * 30, ["norad_cat_id"]),
        ("CLASSIFICATION_TYPE", "UU", ["classification_type", "1 ascii"]),
        ("OBJECT_ID", "x" * 500, ["object_id", "24 ascii"]),
        ("MEAN_MOTION", "nan", ["mean_motion", "finite"]),
        ("MEAN_MOTION", [1, 2], ["mean_motion"]),
        ("EPHEMERIS_TYPE", 10**19, ["ephemeris_type"]),
        ("ECCENTRICITY", 1.5, ["eccentricity", "0..0.999999"]),
        ("EPOCH", "2026-02-23T00:00:00" + "0" * 10_000, ["epoch"]),
    ],
)
def test_omm_crash_kinds_are_located(key: str, value: Any, words: list[str]) -> None:
    rows = [dict(OMM_JSON_SEED[0])]
    rows[0][key] = value
    with pytest.raises(InputError) as ei:
        satellites_from_omm(json.dumps(rows), "x.json", "json")
    msg = str(ei.value).lower()
    one_line(ei.value)
    assert msg.startswith("x.json: record 1: "), msg
    for w in words:
        assert w in msg, msg


def test_omm_json_huge_integer_and_deep_nesting() -> None:
    for text in ('[{"NORAD_CAT_ID": ' + "9" * 5000 + "}]", "[" * 100_000 + "]" * 100_000):
        with pytest.raises(InputError) as ei:
            satellites_from_omm(text, "x.json", "json")
        one_line(ei.value)


def test_omm_csv_oversized_field() -> None:
    with pytest.raises(InputError) as ei:
        satellites_from_omm("NORAD_CAT_ID\n" + "9" * 200_000 + "\n", "x.csv", "csv")
    assert str(ei.value).startswith("x.csv:2: ") and "csv" in str(ei.value).lower()


def test_special_and_huge_files_are_refused(tmp_path: Path) -> None:
    """/dev/zero, a FIFO without a writer (would block open), a directory, a sparse file beyond the cap, and a
    file that is not UTF-8: each one located InputError, at once."""
    fifo = tmp_path / "pipe.tle"
    os.mkfifo(fifo)
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    big = tmp_path / "big.tle"
    with open(big, "wb") as f:
        f.truncate(200 * 1024 * 1024)
    latin = tmp_path / "latin.tle"
    latin.write_bytes(b"line one\nSTARLINK-\xe9\n")
    for path, words in (
        (Path("/dev/zero"), "not a regular file"),
        (fifo, "not a regular file"),
        (tmp_path, "a directory"),
        (big, "bytes"),
        (latin, "not utf-8"),
        (tmp_path / "nope.tle", "no such file"),
    ):
        with pytest.raises(InputError) as ei:
            read_text_capped(path, "a TLE file")
        assert str(ei.value).startswith(str(path)) and words in str(ei.value).lower(), str(ei.value)
    with pytest.raises(InputError) as ei:
        read_text_capped(latin, "a TLE file")
    assert str(ei.value).startswith(f"{latin}:2: ")
