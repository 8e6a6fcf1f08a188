"""Reading satellites from TLE / 3LE text (CelesTrak format) and OMM JSON / CSV, with located errors.

The column layout and checksum rule are those of the NORAD two-line element set (Hoots & Roehrich 1980,
Spacetrack Report #3, appendix; CelesTrak "FAQ: Two-Line Element Set Format").  Parsing of the numbers is left to
the ``sgp4`` package (``Satrec.twoline2rv``, ``sgp4.omm``); this module checks what ``sgp4`` does not:
line numbers, satellite numbers that agree, checksums, epochs, columns that must hold numbers.
"""

from __future__ import annotations

import csv
import io
import json
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
        if ch.isdigit():
            total += ord(ch) - 48
        elif ch == "-":
            total += 1
    return total % 10


# (first column, last column, field name) of fields that must be numbers; columns are 1-based, inclusive.
_LINE1_NUMBERS = ((19, 20, "epoch year"), (21, 32, "epoch day"), (34, 43, "first derivative of mean motion"))
_LINE2_NUMBERS = (
    (9, 16, "inclination"),
    (18, 25, "right ascension of the ascending node"),
    (27, 33, "eccentricity"),
    (35, 42, "argument of perigee"),
    (44, 51, "mean anomaly"),
    (53, 63, "mean motion"),
)


# 1-based columns that must be blank, and that must hold the decimal point (as sgp4.io's reference parser checks)
_BLANK = {"1": (9, 33, 44, 53, 62, 64), "2": (8, 17, 26, 34, 43, 52)}
_POINT = {"1": (24, 35), "2": (12, 21, 38, 47)}


def _check_line(line: str, number: str, where: str) -> None:
    if len(line) < 69:
        raise InputError(where, f"line {number} has {len(line)} characters; expected 69 (TLE columns 1-69)")
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
    fields = _LINE1_NUMBERS if number == "1" else _LINE2_NUMBERS
    for first, last, field in fields:
        text = line[first - 1 : last].strip()
        try:
            float(text)
        except ValueError:
            raise InputError(where, f"columns {first}-{last} ({field}) hold {text!r}; expected a number") from None


def _check_pair(rec: TleRecord, source: str) -> None:
    w1 = f"{source}:{rec.lineno}"
    w2 = f"{source}:{rec.lineno + 1}"
    _check_line(rec.line1, "1", w1)
    _check_line(rec.line2, "2", w2)
    if rec.line1[2:7] != rec.line2[2:7]:
        raise InputError(
            w2, f"satellite number {rec.line2[2:7]!r} differs from line 1's {rec.line1[2:7]!r}; expected the same"
        )
    day = float(rec.line1[20:32])
    if not (1.0 <= day < 367.0):
        raise InputError(w1, f"epoch day of year is {day}; expected a value in 1..366.99999999")
    incl = float(rec.line2[8:16])
    if not (0.0 <= incl <= 180.0):
        raise InputError(w2, f"inclination is {incl} deg; expected 0..180")
    if float(rec.line2[52:63]) <= 0.0:
        raise InputError(w2, "mean motion is not positive; expected revolutions per day > 0")


def parse_tle_text(text: str, source: str = "<text>") -> list[TleRecord]:
    """Split TLE or 3LE text into checked records.  Blank lines and CRLF endings are accepted.

    A name line is any line before a line 1 that is not itself a line 1 or 2 (a leading ``"0 "`` of the
    3LE convention is dropped).  Characters after column 69 (the sgp4 verification file puts run limits there)
    are ignored.
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
    """``Satrec`` objects (WGS-72 constants, as SGP4 is defined) for checked records."""
    return [Satrec.twoline2rv(r.line1, r.line2, WGS72) for r in records]


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


def _omm_satrec(fields: dict[str, Any], where: str) -> Satrec:
    for key in _OMM_REQUIRED:
        if key not in fields or fields[key] in (None, ""):
            raise InputError(where, f"field {key} is missing; expected an OMM (CCSDS 502.0-B-3) mean element set")
    clean = {k: str(v) for k, v in fields.items()}
    clean.setdefault("CLASSIFICATION_TYPE", "U")
    clean.setdefault("EPHEMERIS_TYPE", "0")
    clean.setdefault("ELEMENT_SET_NO", "999")
    clean.setdefault("REV_AT_EPOCH", "0")
    clean.setdefault("OBJECT_ID", "")
    sat = Satrec()
    try:
        omm.initialize(sat, clean)
    except (ValueError, KeyError) as exc:
        raise InputError(where, f"cannot read the element set ({exc}); expected OMM mean elements") from None
    return sat


def satellites_from_omm(text: str, source: str, fmt: str) -> tuple[list[str], list[Satrec]]:
    """Names and ``Satrec`` objects from OMM text; ``fmt`` is ``"json"`` (a list of objects) or ``"csv"``."""
    if fmt == "json":
        try:
            rows = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(
                f"{source}:{exc.lineno}", f"invalid JSON ({exc.msg}); expected a list of OMM objects"
            ) from None
        if isinstance(rows, dict):
            rows = [rows]
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise InputError(source, "expected a JSON list of OMM objects")
        wheres = [f"{source}: record {i + 1}" for i in range(len(rows))]
    elif fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(text)))
        wheres = [f"{source}:{i + 2}" for i in range(len(rows))]
    else:
        raise InputError(source, f"unknown OMM format {fmt!r}; expected 'json' or 'csv'")
    if not rows:
        raise InputError(source, "no element sets found; expected OMM records")
    sats = [_omm_satrec(r, w) for r, w in zip(rows, wheres, strict=True)]
    names = [str(r.get("OBJECT_NAME", "")) for r in rows]
    return names, sats
