"""Reading satellites from TLE / 3LE text (CelesTrak format) and OMM JSON / CSV, with located errors.

The column layout and checksum rule are those of the NORAD two-line element set (Hoots & Roehrich 1980,
Spacetrack Report #3, appendix; CelesTrak "FAQ: Two-Line Element Set Format").  Parsing of the numbers is left to
the ``sgp4`` package (``Satrec.twoline2rv``, ``sgp4.omm``); this module checks what ``sgp4`` does not:
line numbers, satellite numbers that agree, checksums, epochs, columns that must hold numbers.
"""

from __future__ import annotations

import calendar
import csv
import io
import json
import re
from dataclasses import dataclass
from typing import Any

from sgp4 import omm
from sgp4.api import WGS72, Satrec

from leonet.errors import InputError


@dataclass(frozen=True)
class TleRecord:
    """One element set: its name (may be empty), its two lines, and where line 1 stood (1-based)."""

    name: str
    line1: str
    line2: str
    lineno: int


def tle_checksum(line: str) -> int:
    """Modulo-10 checksum of columns 1-68: digits count their value, a minus sign counts 1."""
    total = 0
    for ch in line[:68]:
        if "0" <= ch <= "9":
            total += ord(ch) - 48
        elif ch == "-":
            total += 1
    return total % 10


# The one strict column-field reader: every field of both lines, (first column, last column, name, pattern of
# the raw columns, what is expected), columns 1-based and inclusive.  A field must match its pattern whole; the
# patterns are ASCII-only (no Unicode digits, no NUL), so whatever passes is read the same by every parser.
_NUM = r" *[+-]?\d*\.\d+"  # a decimal number with its point, right-justified
_ANGLE = r" *\d{1,3}\.\d*"
_EXP = r" *[+-]?\d{1,5}[ +-]\d"  # implied leading decimal point and a power of ten: " 61711-4" = 0.61711e-4
_SATNUM = (r"( *\d{1,5}|[A-HJ-NP-Z]\d{4})", "a satellite number (up to 5 digits, or Alpha-5 such as 'A1234')")
_FIELDS: dict[str, tuple[tuple[int, int, str, str, str], ...]] = {
    "1": (
        (3, 7, "satellite number", *_SATNUM),
        (8, 8, "classification", "[UCS ]", "'U', 'C' or 'S'"),
        (19, 20, "epoch year", r"[ \d]\d", "a two-digit number"),
        (21, 32, "epoch day", r" *\d{1,3}\.\d*", "a number (day of the year with its fraction)"),
        (34, 43, "first derivative of mean motion", _NUM, "a number"),
        (45, 52, "second derivative of mean motion", _EXP, "a number in the form ' 12345-6'"),
        (54, 61, "BSTAR drag term", _EXP, "a number in the form ' 12345-6'"),
        (63, 63, "ephemeris type", r"[\d ]", "a digit"),
        (65, 68, "element set number", r" *\d*", "a number of up to 4 digits"),
    ),
    "2": (
        (3, 7, "satellite number", *_SATNUM),
        (9, 16, "inclination", _ANGLE, "a number"),
        (18, 25, "right ascension of the ascending node", _ANGLE, "a number"),
        (27, 33, "eccentricity", r"[\d ]{7}", "7 digits (a leading decimal point is implied)"),
        (35, 42, "argument of perigee", _ANGLE, "a number"),
        (44, 51, "mean anomaly", _ANGLE, "a number"),
        (53, 63, "mean motion", r" *\d{1,2}\.\d*", "a number"),
        (64, 68, "revolution number", r" *\d*", "a number of up to 5 digits"),
    ),
}
_FIELD_RE = {k: tuple(re.compile(f[3]) for f in v) for k, v in _FIELDS.items()}


# 1-based columns that must be blank, and that must hold the decimal point (as sgp4.io's reference parser checks)
_BLANK = {"1": (9, 33, 44, 53, 62, 64), "2": (8, 17, 26, 34, 43, 52)}
_POINT = {"1": (24, 35), "2": (12, 21, 38, 47)}


def _check_line(line: str, number: str, where: str) -> None:
    if len(line) < 69:
        raise InputError(where, f"line {number} has {len(line)} characters; expected 69 (TLE columns 1-69)")
    for col, ch in enumerate(line[:69], start=1):
        if not (" " <= ch <= "~"):
            raise InputError(where, f"column {col} holds {ch!r}; expected printable ASCII (TLE lines are ASCII)")
    if line[0] != number or line[1] != " ":
        raise InputError(where, f"line starts with {line[:2]!r}; expected {number + ' '!r}")
    if not line[68].isdigit():
        raise InputError(where, f"column 69 holds {line[68]!r}; expected the checksum digit")
    expected = tle_checksum(line)
    if int(line[68]) != expected:
        raise InputError(where, f"checksum is {line[68]}, expected {expected} (sum of columns 1-68 modulo 10)")
    for col in _BLANK[number]:
        if line[col - 1] != " ":
            raise InputError(where, f"column {col} holds {line[col - 1]!r}; expected a blank between fields")
    for col in _POINT[number]:
        if line[col - 1] != ".":
            raise InputError(where, f"column {col} holds {line[col - 1]!r}; expected the field's decimal point")
    for (first, last, field, _pattern, what), rx in zip(_FIELDS[number], _FIELD_RE[number], strict=True):
        text = line[first - 1 : last]
        if rx.fullmatch(text) is None:
            cols = f"column {first} ({field}) holds" if first == last else f"columns {first}-{last} ({field}) hold"
            raise InputError(where, f"{cols} {text.strip()!r}; expected {what}")


def _check_pair(rec: TleRecord, source: str) -> None:
    w1 = f"{source}:{rec.lineno}"
    w2 = f"{source}:{rec.lineno + 1}"
    _check_line(rec.line1, "1", w1)
    _check_line(rec.line2, "2", w2)
    if rec.line1[2:7] != rec.line2[2:7]:
        raise InputError(
            w2, f"satellite number {rec.line2[2:7]!r} differs from line 1's {rec.line1[2:7]!r}; expected the same"
        )
    yy = int(rec.line1[18:20])
    year = (1900 if yy >= 57 else 2000) + yy  # two-digit years 57-99 are 19xx (Spacetrack Report #3)
    days = 366 if calendar.isleap(year) else 365
    day = float(rec.line1[20:32])
    if not (1.0 <= day < days + 1.0):
        raise InputError(
            w1, f"epoch day of year is {day}; expected a value in 1..{days}.99999999 ({year} has {days} days)"
        )
    incl = float(rec.line2[8:16])
    if not (0.0 <= incl <= 180.0):
        raise InputError(w2, f"inclination is {incl} deg; expected 0..180")
    for first, last, field in ((18, 25, "right ascension"), (35, 42, "argument of perigee"), (44, 51, "mean anomaly")):
        angle = float(rec.line2[first - 1 : last])
        if not (0.0 <= angle <= 360.0):
            raise InputError(w2, f"{field} is {angle} deg; expected 0..360")
    if float(rec.line2[52:63]) <= 0.0:
        raise InputError(w2, "mean motion is not positive; expected revolutions per day > 0")


def parse_tle_text(text: str, source: str = "<text>") -> list[TleRecord]:
    """Split TLE or 3LE text into checked records.  Blank lines and CRLF endings are accepted.

    The rule for what is a TLE line: a line starting ``"1 "`` is a line 1 when it has 60 or more characters
    (trailing blanks not counted) or the next non-blank line starts ``"2 "``; a line starting ``"2 "`` of 60 or
    more characters is a line 2.  So a truncated element set is reported as one, while a short name such as
    ``"1 WEB"`` stays a name.  A name line is any other line before a line 1 (a leading ``"0 "`` of the 3LE
    convention is dropped; ``#`` lines are comments).  Characters after column 69 (the sgp4 verification file
    puts run limits there) are ignored.
    """
    lines = text.splitlines()
    records: list[TleRecord] = []
    name = ""
    i = 0
    while i < len(lines):
        raw = lines[i].rstrip()
        if not raw.strip():
            i += 1
            continue
        nxt = next((ln for ln in lines[i + 1 :] if ln.strip()), "")
        if raw.startswith("1 ") and (len(raw) >= 60 or nxt.startswith("2 ")):
            if i + 1 >= len(lines):
                raise InputError(f"{source}:{i + 1}", "line 1 has no line 2 after it; expected a TLE line 2")
            rec = TleRecord(name=name, line1=raw[:69], line2=lines[i + 1].rstrip()[:69], lineno=i + 1)
            _check_pair(rec, source)
            records.append(rec)
            name = ""
            i += 2
            continue
        if raw.startswith("2 ") and len(raw) >= 60:
            raise InputError(f"{source}:{i + 1}", "line 2 without a line 1 before it; expected a TLE line 1")
        if raw.startswith("#"):
            i += 1
            continue
        name = raw[2:].strip() if raw.startswith("0 ") else raw.strip()
        i += 1
    if not records:
        raise InputError(source, "no element sets found; expected TLE or 3LE text (lines starting '1 ' and '2 ')")
    return records


def satrecs_from_tle(records: list[TleRecord]) -> list[Satrec]:
    """``Satrec`` objects (WGS-72 constants, as SGP4 is defined) for checked records.  An element set SGP4
    cannot propagate (its error code is set) is kept: it takes part in no link (see ``propagate``)."""
    return [Satrec.twoline2rv(r.line1, r.line2, WGS72) for r in records]


#: OMM keywords that must be present (CCSDS 502.0-B-3 mean elements for SGP4)
_OMM_REQUIRED = (
    "EPOCH",
    "MEAN_MOTION",
    "ECCENTRICITY",
    "INCLINATION",
    "RA_OF_ASC_NODE",
    "ARG_OF_PERICENTER",
    "MEAN_ANOMALY",
    "NORAD_CAT_ID",
    "BSTAR",
    "MEAN_MOTION_DOT",
    "MEAN_MOTION_DDOT",
)

# The one strict OMM field reader: every keyword sgp4.omm.initialize reads, with its type and bounds.
_FLOAT = re.compile(r"[+-]?(\d{1,20}(\.\d{0,20})?|\.\d{1,20})([eE][+-]?\d{1,3})?")
_INT = re.compile(r"[+-]?\d{1,12}")
#: (keyword, kind, low, high); floats are finite and in [low, high], integers in [low, high].  Where a bound
#: comes from: the TLE field that must hold the value (Spacetrack Report #3 columns; CelesTrak's TLE FAQ), the
#: meaning of the element (CCSDS 502.0-B-3 OMM mean elements), or, marked "leonet's own", a generous limit chosen
#: here so that a typo (a value in the wrong unit, a shifted column) is caught rather than propagated.
_OMM_NUMBERS: tuple[tuple[str, str, float, float], ...] = (
    ("MEAN_MOTION", "float", 0.0, 100.0),  # rev/day, > 0 checked apart; 100: leonet's own (LEO is ~16)
    ("ECCENTRICITY", "float", 0.0, 0.999999),  # a closed orbit needs e < 1; 0.999999: leonet's own
    ("INCLINATION", "float", 0.0, 180.0),  # deg, the range of an inclination
    ("RA_OF_ASC_NODE", "float", -360.0, 360.0),  # deg; +-360: leonet's own (either sign of one turn)
    ("ARG_OF_PERICENTER", "float", -360.0, 360.0),  # deg; as RA_OF_ASC_NODE
    ("MEAN_ANOMALY", "float", -360.0, 360.0),  # deg; as RA_OF_ASC_NODE
    ("BSTAR", "float", -10.0, 10.0),  # 1/earth radii; +-10: leonet's own (real values are < 1e-2)
    ("MEAN_MOTION_DOT", "float", -10.0, 10.0),  # rev/day^2; +-10: leonet's own
    ("MEAN_MOTION_DDOT", "float", -10.0, 10.0),  # rev/day^3; +-10: leonet's own
    ("NORAD_CAT_ID", "int", 0, 339_999),  # what SGP4's Alpha-5 satellite number can hold ('Z9999')
    ("EPHEMERIS_TYPE", "int", 0, 9),  # TLE column 63: one digit
    ("ELEMENT_SET_NO", "int", 0, 9999),  # TLE columns 65-68: four digits
    ("REV_AT_EPOCH", "int", 0, 9_999_999),  # leonet's own (the TLE's 5 digits wrap at 100000; OMM does not)
)
_OMM_EPOCH = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z?")


def _omm_fields(fields: dict[Any, Any], where: str) -> dict[str, str]:
    """The OMM keywords sgp4 reads, checked and as the text ``sgp4.omm.initialize`` expects."""
    for key in _OMM_REQUIRED:
        if fields.get(key) in (None, ""):
            raise InputError(where, f"field {key} is missing; expected an OMM (CCSDS 502.0-B-3) mean element set")
    clean: dict[str, str] = {}
    for key, kind, low, high in _OMM_NUMBERS:
        value = fields.get(key)
        if value in (None, "") and key not in _OMM_REQUIRED:
            continue
        text = str(value).strip() if isinstance(value, str | int | float) and not isinstance(value, bool) else ""
        if kind == "int" and isinstance(value, float) and value.is_integer():
            text = str(int(value))
        rx = _INT if kind == "int" else _FLOAT
        if len(text) > 48 or rx.fullmatch(text) is None:
            shown = repr(value)[:40]
            noun = "an integer" if kind == "int" else "a finite number"
            raise InputError(where, f"field {key} is {shown}; expected {noun} in {low:g}..{high:g}")
        number = int(text) if kind == "int" else float(text)
        if not (low <= number <= high):
            raise InputError(where, f"field {key} is {number:g}; expected a value in {low:g}..{high:g}")
        clean[key] = text
    if float(clean["MEAN_MOTION"]) <= 0.0:
        raise InputError(where, f"field MEAN_MOTION is {clean['MEAN_MOTION']}; expected revolutions per day > 0")
    epoch = fields["EPOCH"]
    if not isinstance(epoch, str) or _OMM_EPOCH.fullmatch(epoch.strip()) is None:
        raise InputError(
            where, f"field EPOCH is {repr(epoch)[:40]}; expected an ISO time such as '2026-02-23T12:00:00.000000'"
        )
    stamp = epoch.strip().rstrip("Z")
    if "." not in stamp:
        stamp += ".0"
    whole, frac = stamp.split(".")
    clean["EPOCH"] = f"{whole}.{frac[:6]}"  # datetime reads at most microseconds
    for key, default, length in (("CLASSIFICATION_TYPE", "U", 1), ("OBJECT_ID", "", 24)):
        value = fields.get(key)
        given: object = default if value in (None, "") else value
        if not isinstance(given, str) or len(given) > length or not all(" " <= ch <= "~" for ch in given):
            raise InputError(where, f"field {key} is {repr(value)[:40]}; expected at most {length} ASCII characters")
        clean[key] = given
    if clean["CLASSIFICATION_TYPE"] not in ("U", "C", "S"):
        raise InputError(where, f"field CLASSIFICATION_TYPE is {clean['CLASSIFICATION_TYPE']!r}; expected U, C or S")
    clean.setdefault("EPHEMERIS_TYPE", "0")
    clean.setdefault("ELEMENT_SET_NO", "999")
    clean.setdefault("REV_AT_EPOCH", "0")
    return clean


def _omm_satrec(fields: dict[Any, Any], where: str) -> Satrec:
    clean = _omm_fields(fields, where)
    sat = Satrec()
    try:
        omm.initialize(sat, clean)
    except (ValueError, KeyError, TypeError, OverflowError) as exc:
        raise InputError(where, f"cannot read the element set ({exc}); expected OMM mean elements") from None
    return sat


def _json_int(text: str) -> int:
    digits = len(text.lstrip("-"))
    if digits > 20:
        raise ValueError(f"an integer of {digits} digits; expected at most 20")
    return int(text)


def _json_constant(name: str) -> float:
    raise ValueError(f"{name} is not a JSON number; expected a finite number")


def satellites_from_omm(text: str, source: str, fmt: str) -> tuple[list[str], list[Satrec]]:
    """Names and ``Satrec`` objects from OMM text; ``fmt`` is ``"json"`` (a list of objects) or ``"csv"``."""
    rows: Any
    if fmt == "json":
        try:
            rows = json.loads(text, parse_int=_json_int, parse_constant=_json_constant)
        except json.JSONDecodeError as exc:
            raise InputError(
                f"{source}:{exc.lineno}", f"invalid JSON ({exc.msg}); expected a list of OMM objects"
            ) from None
        except (ValueError, RecursionError) as exc:
            why = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
            raise InputError(source, f"invalid JSON ({why}); expected a list of OMM objects") from None
        if isinstance(rows, dict):
            rows = [rows]
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise InputError(source, "expected a JSON list of OMM objects")
        wheres = [f"{source}: record {i + 1}" for i in range(len(rows))]
    elif fmt == "csv":
        reader = csv.DictReader(io.StringIO(text, newline=""))
        rows, wheres = [], []
        try:
            for row in reader:
                rows.append(row)
                wheres.append(f"{source}:{reader.line_num}")
        except csv.Error as exc:
            raise InputError(f"{source}:{reader.line_num + 1}", f"invalid CSV ({exc}); expected OMM CSV rows") from None
    else:
        raise InputError(source, f"unknown OMM format {fmt!r}; expected 'json' or 'csv'")
    if not rows:
        raise InputError(source, "no element sets found; expected OMM records")
    sats = [_omm_satrec(r, w) for r, w in zip(rows, wheres, strict=True)]
    names = []
    for r, w in zip(rows, wheres, strict=True):
        name = r.get("OBJECT_NAME", "")
        if not isinstance(name, str) or len(name) > 200:
            raise InputError(w, f"field OBJECT_NAME is {repr(name)[:40]}; expected a name of at most 200 characters")
        names.append(name)
    return names, sats
