"""Every documented boundary of a TLE's fields, pinned on both sides.

References: the NORAD two-line element format (Hoots & Roehrich 1980, Spacetrack Report #3, appendix; CelesTrak
"FAQ: Two-Line Element Set Format"): 69 columns, line number in column 1, blank separators, fixed decimal points,
the modulo-10 checksum in column 69; epoch as a two-digit year (57-99 -> 19xx, 00-56 -> 20xx) and a day of the
year from 1.0 (January 1, 00:00) to just below 366.0, or 367.0 in a leap year (Gregorian rule, Python's
``calendar.isleap``); inclination 0-180 deg; mean motion > 0.  Each case is one change to a real element set,
checksum recomputed (``tests/test_tle.py::put``), and the error must name the line and the column or field.
"""

from __future__ import annotations

import calendar

import pytest

from leonet.errors import InputError
from leonet.orbits.tle import parse_tle_text
from test_tle import A1, A2, put

# (1-based columns) blank separators and decimal points of each line
BLANK = {1: (9, 33, 44, 53, 62, 64), 2: (8, 17, 26, 34, 43, 52)}
POINT = {1: (24, 35), 2: (12, 21, 38, 47)}
# numeric fields (first column, last column)
NUMBERS = {1: ((19, 20), (21, 32), (34, 43)), 2: ((9, 16), (18, 25), (27, 33), (35, 42), (44, 51), (53, 63))}


def _parse(l1: str, l2: str = A2) -> None:
    parse_tle_text(f"SAT\n{l1}\n{l2}\n", "t.tle")


def _line(n: int) -> str:
    return A1 if n == 1 else A2


def _lines(n: int, changed: str) -> tuple[str, str]:
    return (changed, A2) if n == 1 else (A1, changed)


def test_the_unchanged_element_set_is_valid() -> None:
    _parse(A1, A2)
    for n in (1, 2):
        line = _line(n)
        assert all(line[c - 1] == " " for c in BLANK[n]) and all(line[c - 1] == "." for c in POINT[n])


@pytest.mark.parametrize(("n", "col"), [(n, c) for n in (1, 2) for c in BLANK[n]])
def test_every_blank_column_must_be_blank(n: int, col: int) -> None:
    with pytest.raises(InputError, match=rf"t\.tle:{n + 1}: column {col} holds '7'; expected a blank"):
        _parse(*_lines(n, put(_line(n), col, "7")))


@pytest.mark.parametrize(("n", "col"), [(n, c) for n in (1, 2) for c in POINT[n]])
def test_every_decimal_point_column_must_hold_the_point(n: int, col: int) -> None:
    with pytest.raises(InputError, match=rf"t\.tle:{n + 1}: column {col} holds '5'; expected the field's decimal"):
        _parse(*_lines(n, put(_line(n), col, "5")))


@pytest.mark.parametrize(("n", "first", "last"), [(n, a, b) for n in (1, 2) for a, b in NUMBERS[n]])
def test_a_letter_at_either_end_of_a_numeric_field(n: int, first: int, last: int) -> None:
    for col in (first, last):
        line = _line(n)
        if line[col - 1] in ". ":
            continue  # a point or a blank inside the field: covered by the column tests
        with pytest.raises(InputError, match=rf"t\.tle:{n + 1}: columns {first}-{last} \(.*\) hold '.*'; expected "):
            _parse(*_lines(n, put(line, col, "X")))


def test_line_length_line_number_and_checksum() -> None:
    _parse(A1[:69], A2[:69])
    with pytest.raises(InputError, match=r"t\.tle:2: line 1 has 68 characters; expected 69"):
        _parse(A1[:68])
    with pytest.raises(InputError, match=r"t\.tle:3: line 2 has 68 characters; expected 69"):
        _parse(A1, A2[:68])
    bad = str((int(A1[68]) + 1) % 10)
    with pytest.raises(InputError, match=rf"t\.tle:2: checksum is {bad}, expected {A1[68]}"):
        _parse(A1[:68] + bad)
    with pytest.raises(InputError, match=r"t\.tle:2: column 69 holds 'x'; expected the checksum digit"):
        _parse(A1[:68] + "x")
    with pytest.raises(InputError, match=r"t\.tle:3: satellite number '44715' differs from line 1's '44714'"):
        _parse(A1, put(A2, 3, "44715"))
    with pytest.raises(InputError, match=r"t\.tle:3: line starts with '3 '; expected '2 '"):
        _parse(A1, put(A2, 1, "3"))
    with pytest.raises(InputError, match=r"t\.tle:3: line starts with '22'; expected '2 '"):
        _parse(A1, put(A2, 2, "2"))


def _epoch(yy: int, day: str) -> str:
    return put(A1, 19, f"{yy:02d}{day}")


@pytest.mark.parametrize(
    ("yy", "day", "ok"),
    [
        (26, "000.00000000", False),  # day 0
        (26, "000.99999999", False),
        (26, "001.00000000", True),  # January 1, 00:00
        (26, "365.99999999", True),  # 2026 is not a leap year
        (26, "366.00000000", False),
        (26, "366.50000000", False),
        (24, "366.00000000", True),  # 2024 is
        (24, "366.99999999", True),
        (24, "367.00000000", False),  # day 367: never
        (26, "367.00000000", False),
        (0, "366.50000000", True),  # 2000: divisible by 400, a leap year
        (56, "366.50000000", True),  # 2056
        (57, "366.50000000", False),  # 1957 (57-99 are 19xx)
        (60, "366.50000000", True),  # 1960
        (99, "365.50000000", True),
        (99, "366.50000000", False),
    ],
)
def test_epoch_day_of_year_boundaries(yy: int, day: str, ok: bool) -> None:
    year = (1900 if yy >= 57 else 2000) + yy
    assert (float(day) < (367 if calendar.isleap(year) else 366) and float(day) >= 1) is ok  # the table is right
    if ok:
        _parse(_epoch(yy, day))
    else:
        with pytest.raises(InputError, match=r"t\.tle:2: epoch day of year is .*expected a value in 1\.\.36"):
            _parse(_epoch(yy, day))


def test_the_day_range_in_the_message_names_the_year_length() -> None:
    with pytest.raises(InputError, match=r"expected a value in 1\.\.365\.99999999 \(2026 has 365 days\)"):
        _parse(_epoch(26, "366.00000000"))
    with pytest.raises(InputError, match=r"expected a value in 1\.\.366\.99999999 \(2024 has 366 days\)"):
        _parse(_epoch(24, "367.00000000"))


@pytest.mark.parametrize(
    ("incl", "ok"), [("  0.0000", True), ("180.0000", True), ("180.0001", False), (" 90.0000", True)]
)
def test_inclination_boundaries(incl: str, ok: bool) -> None:
    l2 = put(A2, 9, incl)
    if ok:
        _parse(A1, l2)
    else:
        with pytest.raises(InputError, match=r"t\.tle:3: inclination is 180\.0001 deg; expected 0\.\.180"):
            _parse(A1, l2)


@pytest.mark.parametrize(
    ("mm", "ok"), [(" 0.00000000", False), (" 0.00000001", True), ("10.00000000", True), ("15.31035506", True)]
)
def test_mean_motion_must_be_positive(mm: str, ok: bool) -> None:
    l2 = put(A2, 53, mm)
    if ok:
        _parse(A1, l2)
    else:
        with pytest.raises(InputError, match=r"t\.tle:3: mean motion is not positive"):
            _parse(A1, l2)


def test_record_text_names_and_comments() -> None:
    """Records keep exactly columns 1-69 (what follows is ignored); a name belongs to the next element set only;
    a comment line does not swallow the line after it."""
    text = f"# a comment\nSAT-A\n{A1}   extra\n{A2} 123\n{A1}\n{A2}\n# another\nSAT-C\n{A1}\n{A2}\n"
    recs = parse_tle_text(text, "t.tle")
    assert [r.name for r in recs] == ["SAT-A", "", "SAT-C"]
    assert all(r.line1 == A1 and r.line2 == A2 for r in recs)
    assert [r.lineno for r in recs] == [3, 5, 9]


def test_omm_json_one_object_or_a_list_of_objects() -> None:
    import json

    from sgp4.api import WGS72, Satrec
    from sgp4.exporter import export_omm

    from leonet.orbits.tle import satellites_from_omm

    fields = export_omm(Satrec.twoline2rv(A1, A2, WGS72), "SAT-A")
    names, sats = satellites_from_omm(json.dumps(fields), "s.json", "json")
    assert names == ["SAT-A"] and len(sats) == 1
    names, sats = satellites_from_omm(json.dumps([fields, fields]), "s.json", "json")
    assert names == ["SAT-A", "SAT-A"]
    with pytest.raises(InputError, match=r"s\.json: expected a JSON list of OMM objects"):
        satellites_from_omm(json.dumps([fields, 3]), "s.json", "json")


def test_omm_with_only_the_required_fields() -> None:
    """An OMM record with just the mean elements CCSDS requires (no EPHEMERIS_TYPE, REV_AT_EPOCH, ...) is read."""
    import json

    from sgp4.api import WGS72, Satrec
    from sgp4.exporter import export_omm

    from leonet.orbits.tle import _OMM_REQUIRED, satellites_from_omm

    full = export_omm(Satrec.twoline2rv(A1, A2, WGS72), "SAT-A")
    minimal = {k: full[k] for k in _OMM_REQUIRED}
    _names, sats = satellites_from_omm(json.dumps([minimal]), "m.json", "json")
    ref = Satrec.twoline2rv(A1, A2, WGS72)
    assert sats[0].no_kozai == pytest.approx(ref.no_kozai, rel=1e-12)
    assert sats[0].inclo == pytest.approx(ref.inclo, rel=1e-12)


# Columns the format leaves free: line 1's international designator (columns 10-17: launch year, launch number
# and piece, letters and digits; SGP4 does not read it) and the blank after it (column 18: sgp4's reference
# parser, sgp4.io.twoline2rv, does not check it, and no field reads it, so leonet accepts what sgp4 accepts).
# Every other column of 1-68 is constrained: the line number, a field, a blank separator or a decimal point
# (Spacetrack Report #3; CelesTrak's format FAQ).
FREE = {1: set(range(10, 19)), 2: set()}


def _names_column(message: str, col: int) -> bool:
    """Whether an error message points at column ``col``: "column C", a range "columns A-B" holding it, or
    the line start (columns 1-2)."""
    import re

    if col <= 2 and "line starts with" in message:
        return True
    if re.search(rf"\bcolumn {col}\b", message):
        return True
    return any(int(a) <= col <= int(b) for a, b in re.findall(r"columns (\d+)-(\d+)", message))


@pytest.mark.parametrize("n", [1, 2])
def test_a_character_legal_nowhere_is_caught_in_every_constrained_column(n: int) -> None:
    # '~' is printable ASCII but belongs to no field: in every constrained column, the error names that column
    # (or the field that holds it), on the right line, and not as a non-ASCII character
    for col in sorted(set(range(1, 69)) - FREE[n]):
        with pytest.raises(InputError) as exc:
            _parse(*_lines(n, put(_line(n), col, "~")))
        if n == 1 and col <= 2:  # no longer a line 1 (it reads as a name): its line 2 is the one without a line 1
            assert exc.value.where == "t.tle:3" and "line 2 without a line 1" in exc.value.problem
            continue
        assert exc.value.where == f"t.tle:{n + 1}", col
        assert _names_column(exc.value.problem, col), (col, exc.value.problem)
        assert "printable ASCII" not in exc.value.problem, col


@pytest.mark.parametrize("n", [1, 2])
def test_a_control_character_is_named_by_its_column(n: int) -> None:
    for col in (3, 9, 30, 50, 68) if n == 1 else (1, 3, 9, 30, 50, 68):
        with pytest.raises(InputError) as exc:
            _parse(*_lines(n, put(_line(n), col, "\x01")))
        assert exc.value.problem.startswith(f"column {col} holds '\\x01'; expected printable ASCII"), col


def test_the_free_columns_are_free() -> None:
    # the international designator may hold any printable text (e.g. a blank one, as analysts' TLEs have)
    _parse(put(A1, 10, "        "))
    _parse(put(A1, 10, "98067A  "))


ANGLES = [(18, "right ascension"), (35, "argument of perigee"), (44, "mean anomaly")]


@pytest.mark.parametrize(("first", "field"), ANGLES)
@pytest.mark.parametrize(
    ("value", "ok"),
    [("  0.0000", True), ("  0.5000", True), ("359.9999", True), ("360.0000", True), ("360.0001", False)],
)
def test_angle_boundaries(first: int, field: str, value: str, ok: bool) -> None:
    l2 = put(A2, first, value)
    if ok:
        _parse(A1, l2)
    else:
        with pytest.raises(InputError, match=rf"t\.tle:3: {field} is 360\.0001 deg; expected 0\.\.360"):
            _parse(A1, l2)


def test_an_element_set_without_a_name_line() -> None:
    # plain two-line sets (no name lines) have empty names, also as the first lines of the text
    recs = parse_tle_text(f"{A1}\n{A2}\n{A1}\n{A2}\n", "t.tle")
    assert [r.name for r in recs] == ["", ""] and [r.lineno for r in recs] == [1, 3]


def test_the_ends_of_printable_ascii_are_accepted_in_a_free_column() -> None:
    # ' ' (0x20) and '~' (0x7e) are both ends of printable ASCII (the range _check_line allows)
    _parse(put(A1, 10, "~      ~"))
    _parse(put(A1, 10, "        "))


# The rule of parse_tle_text's docstring: a line starting "1 " (or "2 ") is a TLE line when it has 60 or more
# characters (for a line 1 also when the next line starts "2 "); a shorter one is a name line.
def test_a_line_1_of_60_characters_is_a_tle_line_59_a_name() -> None:
    short = "1 " + "N" * 57  # 59 characters: a name (the next line starts "1 ", not "2 ")
    recs = parse_tle_text(f"{short}\n{A1}\n{A2}\n", "t.tle")
    assert [r.name for r in recs] == [short] and recs[0].lineno == 2
    with pytest.raises(InputError) as exc:  # 60 characters: a line 1, whose line 2 (the real line 1) is wrong
        parse_tle_text(f"{short}N\n{A1}\n{A2}\n", "t.tle")
    assert exc.value.where == "t.tle:1" and "line 1 has 60 characters; expected 69" in exc.value.problem


def test_a_line_2_of_60_characters_is_a_tle_line_59_a_name() -> None:
    short = "2 " + "N" * 57
    recs = parse_tle_text(f"{short}\n{A1}\n{A2}\n", "t.tle")
    assert [r.name for r in recs] == [short]
    with pytest.raises(InputError) as exc:
        parse_tle_text(f"{short}N\n{A1}\n{A2}\n", "t.tle")
    assert exc.value.where == "t.tle:1" and "line 2 without a line 1 before it" in exc.value.problem


def test_a_short_line_1_before_a_line_2_is_a_tle_line() -> None:
    with pytest.raises(InputError) as exc:
        parse_tle_text(f"SAT\n{A1[:40]}\n{A2}\n", "t.tle")
    assert exc.value.where == "t.tle:2" and "line 1 has 40 characters" in exc.value.problem


# The fields of each line, (first column, last column, name), as Spacetrack Report #3 lays them out (the names as
# leonet's messages spell them); a bad character at either end is reported with exactly this column range.
LAYOUT = {
    1: (
        (3, 7, "satellite number"),
        (8, 8, "classification"),
        (19, 20, "epoch year"),
        (21, 32, "epoch day"),
        (34, 43, "first derivative of mean motion"),
        (45, 52, "second derivative of mean motion"),
        (54, 61, "BSTAR drag term"),
        (63, 63, "ephemeris type"),
        (65, 68, "element set number"),
    ),
    2: (
        (3, 7, "satellite number"),
        (9, 16, "inclination"),
        (18, 25, "right ascension of the ascending node"),
        (27, 33, "eccentricity"),
        (35, 42, "argument of perigee"),
        (44, 51, "mean anomaly"),
        (53, 63, "mean motion"),
        (64, 68, "revolution number"),
    ),
}


@pytest.mark.parametrize(("n", "first", "last", "field"), [(n, *f) for n in (1, 2) for f in LAYOUT[n]])
def test_a_bad_character_names_the_exact_field_columns(n: int, first: int, last: int, field: str) -> None:
    cols = f"column {first} ({field}) holds" if first == last else f"columns {first}-{last} ({field}) hold"
    for col in (first, last):
        with pytest.raises(InputError) as exc:
            _parse(*_lines(n, put(_line(n), col, "~")))
        assert exc.value.where == f"t.tle:{n + 1}" and exc.value.problem.startswith(f"{cols} "), exc.value.problem
