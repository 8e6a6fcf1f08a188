"""Every documented bound of an OMM record's keywords, pinned on both sides, and the wording of each rejection.

The bounds are this test's OWN copy (reading ``tle._OMM_NUMBERS`` here would not catch a changed table value).
Sources: CCSDS 502.0-B-3 (Orbit Data Messages) for the keywords and their meaning (mean elements for SGP4:
eccentricity of a closed orbit < 1, inclination 0-180 deg); the TLE fields the values must fit (Spacetrack
Report #3 columns: ephemeris type one digit, element set number four digits, the Alpha-5 satellite number up to
'Z9999' = 339999); and, where marked, leonet's own limits documented next to ``_OMM_NUMBERS`` in
``src/leonet/orbits/tle.py`` (mean motion <= 100 rev/day, angles within one turn of either sign, drag terms
within +-10, revolution number up to 9999999).  The base record is ``sgp4``'s ``sample_omm.json`` (VANGUARD 1).
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from leonet.errors import InputError
from leonet.orbits.tle import satellites_from_omm

BASE: dict[str, Any] = {
    "OBJECT_NAME": "VANGUARD 1",
    "OBJECT_ID": "1958-002B",
    "EPOCH": "2025-02-14T14:36:48.662784",
    "MEAN_MOTION": 10.85873516,
    "ECCENTRICITY": 0.1841322,
    "INCLINATION": 34.2493,
    "RA_OF_ASC_NODE": 19.2327,
    "ARG_OF_PERICENTER": 100.1057,
    "MEAN_ANOMALY": 281.1229,
    "EPHEMERIS_TYPE": 0,
    "CLASSIFICATION_TYPE": "U",
    "NORAD_CAT_ID": 5,
    "ELEMENT_SET_NO": 999,
    "REV_AT_EPOCH": 39027,
    "BSTAR": 0.00035436,
    "MEAN_MOTION_DOT": 2.64e-6,
    "MEAN_MOTION_DDOT": 0,
}

# keyword -> (kind, low, high, a step just beyond either bound)
BOUNDS: dict[str, tuple[str, float, float, float]] = {
    "MEAN_MOTION": ("float", 0.0, 100.0, 1e-6),  # > 0 apart; 100 leonet's own
    "ECCENTRICITY": ("float", 0.0, 0.999999, 1e-7),  # closed orbit (CCSDS mean elements); margin leonet's own
    "INCLINATION": ("float", 0.0, 180.0, 1e-4),  # CCSDS 502.0-B-3 inclination range
    "RA_OF_ASC_NODE": ("float", -360.0, 360.0, 1e-4),  # leonet's own: one turn of either sign
    "ARG_OF_PERICENTER": ("float", -360.0, 360.0, 1e-4),
    "MEAN_ANOMALY": ("float", -360.0, 360.0, 1e-4),
    "BSTAR": ("float", -10.0, 10.0, 1e-4),  # leonet's own
    "MEAN_MOTION_DOT": ("float", -10.0, 10.0, 1e-4),  # leonet's own
    "MEAN_MOTION_DDOT": ("float", -10.0, 10.0, 1e-4),  # leonet's own
    "NORAD_CAT_ID": ("int", 0, 339_999, 1),  # Alpha-5 'Z9999' = 33 * 10000 + 9999
    "EPHEMERIS_TYPE": ("int", 0, 9, 1),  # TLE column 63, one digit
    "ELEMENT_SET_NO": ("int", 0, 9999, 1),  # TLE columns 65-68, four digits
    "REV_AT_EPOCH": ("int", 0, 9_999_999, 1),  # leonet's own
}


def _read(record: dict[str, Any]) -> tuple[list[str], list[Any]]:
    return satellites_from_omm(json.dumps([record]), "b.json", "json")


def _with(**changes: Any) -> dict[str, Any]:
    rec = dict(BASE)
    for key, value in changes.items():
        if value is None:
            rec.pop(key, None)
        else:
            rec[key] = value
    return rec


def _error(record: dict[str, Any]) -> str:
    with pytest.raises(InputError) as ei:
        _read(record)
    msg = str(ei.value)
    assert msg.startswith("b.json: record 1: "), msg
    return msg


def test_the_base_record_is_read() -> None:
    names, sats = _read(BASE)
    assert names == ["VANGUARD 1"] and sats[0].satnum == 5


def _value(kind: str, x: float) -> float | int:
    return int(x) if kind == "int" else x


@pytest.mark.parametrize("key", sorted(BOUNDS))
def test_each_numeric_bound_is_accepted_and_just_beyond_is_rejected(key: str) -> None:
    kind, low, high, step = BOUNDS[key]
    lowest = 1e-9 if key == "MEAN_MOTION" else low  # zero mean motion is rejected apart (test below)
    for ok in (lowest, high):
        _read(_with(**{key: _value(kind, ok)}))
        _read(_with(**{key: str(_value(kind, ok))}))  # the CSV form: text
    for bad in (low - step, high + step):
        shown = f"{_value(kind, bad):g}"
        msg = _error(_with(**{key: _value(kind, bad)}))
        assert f"field {key} is {shown}; expected a value in {low:g}..{high:g}" in msg, msg


def test_mean_motion_must_be_positive() -> None:
    msg = _error(_with(MEAN_MOTION=0))
    assert "field MEAN_MOTION is 0; expected revolutions per day > 0" in msg
    assert _read(_with(MEAN_MOTION=1e-6))[1][0].no_kozai > 0.0  # the tiniest positive value is accepted


@pytest.mark.parametrize(("key", "noun"), [("MEAN_MOTION", "a finite number"), ("NORAD_CAT_ID", "an integer")])
def test_a_non_number_names_the_field_the_value_and_the_kind(key: str, noun: str) -> None:
    low, high = BOUNDS[key][1:3]
    for bad in ("fast", "5a", True, [5], "nan", "1e999x"):
        msg = _error(_with(**{key: bad}))
        assert f"field {key} is {repr(bad)[:40]}; expected {noun} in {low:g}..{high:g}" in msg, msg
    long = "9" * 60  # the value shown is cut to 40 characters of its repr
    msg = _error(_with(**{key: long}))
    assert re.search(rf"field {key} is ('9{{39}}); expected", msg), msg


def test_an_integer_valued_float_is_an_integer() -> None:
    """JSON writers may give 5.0 for an integer keyword: it is read as 5; 5.5 is not an integer."""
    assert _read(_with(NORAD_CAT_ID=5.0, ELEMENT_SET_NO=999.0))[1][0].satnum == 5
    assert "field NORAD_CAT_ID is 5.5; expected an integer" in _error(_with(NORAD_CAT_ID=5.5))


def test_optional_keywords_may_be_absent_and_default() -> None:
    sat = _read(_with(EPHEMERIS_TYPE=None, ELEMENT_SET_NO=None, REV_AT_EPOCH=None, CLASSIFICATION_TYPE=None))[1][0]
    assert (sat.elnum, sat.revnum, sat.classification) == (999, 0, "U")
    sat = _read(_with(EPHEMERIS_TYPE="", ELEMENT_SET_NO="", REV_AT_EPOCH="", OBJECT_ID=""))[1][0]
    assert (sat.elnum, sat.revnum) == (999, 0)


@pytest.mark.parametrize("key", ["EPOCH", "MEAN_MOTION", "NORAD_CAT_ID", "BSTAR"])
def test_a_required_keyword_missing_or_empty(key: str) -> None:
    for rec in (_with(**{key: None}), _with(**{key: ""})):
        assert f"field {key} is missing; expected an OMM" in _error(rec)


def test_epoch_with_and_without_fraction() -> None:
    """CCSDS 502.0-B-3 epochs: 'YYYY-MM-DDThh:mm:ss' with an optional fraction and 'Z'."""
    day = _read(_with(EPOCH="2025-02-14T14:36:48"))[1][0]
    day0 = _read(_with(EPOCH="2025-02-14T14:36:48.000000Z"))[1][0]
    frac = _read(_with(EPOCH="2025-02-14T14:36:48.5Z"))[1][0]
    assert (day.jdsatepoch, day.jdsatepochF) == (day0.jdsatepoch, day0.jdsatepochF)
    d_s = ((frac.jdsatepoch - day.jdsatepoch) + (frac.jdsatepochF - day.jdsatepochF)) * 86400.0
    assert d_s == pytest.approx(0.5, abs=1e-5)
    for bad in ("yesterday", "2025-02-14 14:36:48", 20250214):
        msg = _error(_with(EPOCH=bad))
        assert f"field EPOCH is {repr(bad)[:40]}; expected an ISO time" in msg, msg


@pytest.mark.parametrize(("key", "length"), [("CLASSIFICATION_TYPE", 1), ("OBJECT_ID", 24)])
def test_text_keyword_lengths_on_both_sides(key: str, length: int) -> None:
    ok = "U" * length if key == "CLASSIFICATION_TYPE" else "1958-002B".ljust(length, "X")
    _read(_with(**{key: ok}))
    bad = ok + "U"
    msg = _error(_with(**{key: bad}))
    assert f"field {key} is {bad!r}; expected at most {length} ASCII characters" in msg, msg
    assert f"field {key} is 7; expected at most {length} ASCII" in _error(_with(**{key: 7}))


def test_text_keywords_are_printable_ascii_both_ends_of_the_range() -> None:
    _read(_with(OBJECT_ID=" 1958~002B "))  # ' ' (0x20) and '~' (0x7e) are the ends of printable ASCII
    for ch in ("\x1f", "\x7f", "\u00e9"):
        msg = _error(_with(OBJECT_ID=f"1958{ch}002B"))
        assert "field OBJECT_ID is" in msg and "expected at most 24 ASCII characters" in msg
    assert "expected U, C or S" in _error(_with(CLASSIFICATION_TYPE="X"))


def test_json_integers_up_to_20_digits() -> None:
    """Integers of more than 20 digits are refused while parsing (Python's int() of a huge literal is slow)."""
    for digits in ("9" * 20, "-" + "9" * 20):
        text = json.dumps([BASE])[:-2] + f', "USER_DEFINED_N": {digits}}}]'
        assert satellites_from_omm(text, "b.json", "json")[0] == ["VANGUARD 1"]
    for digits in ("9" * 21, "-" + "9" * 21):  # the sign is no digit
        text = json.dumps([BASE])[:-2] + f', "USER_DEFINED_N": {digits}}}]'
        with pytest.raises(InputError, match=r"^b\.json: invalid JSON \(an integer of 21 digits; expected at most 20"):
            satellites_from_omm(text, "b.json", "json")


def test_json_nested_too_deeply() -> None:
    with pytest.raises(InputError, match=r"^b\.json: invalid JSON \(nested too deeply\); expected a list of OMM"):
        satellites_from_omm("[" * 100_000 + "]" * 100_000, "b.json", "json")


def test_object_name_cap_on_both_sides() -> None:
    assert _read(_with(OBJECT_NAME="N" * 200))[0] == ["N" * 200]
    msg = _error(_with(OBJECT_NAME="N" * 201))
    assert f"field OBJECT_NAME is {repr('N' * 201)[:40]}; expected a name of at most 200 characters" in msg
    assert "field OBJECT_NAME is 7; expected a name" in _error(_with(OBJECT_NAME=7))
