"""The safety net itself: reference data verified, missing data fails under CI, one speed of light.

- ``../shared/data/SHA256SUMS`` lists every reference file with its SHA-256; each is re-hashed here (hashlib),
  so a truncated or edited reference file cannot make an oracle test pass or skip.
- Under CI (``CI`` set) ``shared_file`` fails instead of skipping (run in a subprocess with a data folder that does
  not exist).
- The speed of light appears as a literal only in ``leonet/constants.py``; every other use imports ``C_KM_S``.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO_ROOT, SHARED_DATA, missing, under_ci
from leonet.constants import C_KM_S


def _sums() -> list[tuple[str, str]]:
    p = SHARED_DATA / "SHA256SUMS"
    if not p.exists():
        missing(f"{p} not found (expected the 'shared/data' folder next to the repository)")
    out = []
    for n, line in enumerate(p.read_text().splitlines(), 1):
        if not line.strip():
            continue
        digest, _, name = line.partition("  ")
        assert re.fullmatch(r"[0-9a-f]{64}", digest) and name, f"{p}:{n}: expected '<sha256>  <path>'"
        out.append((digest, name.strip()))
    return out


def test_reference_data_match_their_checksums() -> None:
    sums = _sums()
    assert len(sums) >= 10
    bad = []
    for digest, name in sums:
        f = SHARED_DATA / name
        if not f.exists():
            bad.append(f"{name}: missing")
            continue
        h = hashlib.sha256(f.read_bytes()).hexdigest()
        if h != digest:
            bad.append(f"{name}: sha256 {h}, expected {digest}")
    assert not bad, "reference data differ from SHA256SUMS: " + "; ".join(bad)


def test_missing_reference_data_fail_under_ci(tmp_path: Path) -> None:
    test = tmp_path / "test_needs_data.py"
    test.write_text("from conftest import shared_file\n\ndef test_x():\n    shared_file('tle/nothing-here.tle')\n")
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["LEONET_SHARED_DATA"] = str(tmp_path / "no-such-folder")
    env["PYTHONPATH"] = str(REPO_ROOT / "tests")
    args = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(tmp_path), str(test)]
    local = subprocess.run(args, env=env, capture_output=True, text=True, cwd=tmp_path, check=False)
    assert local.returncode == 0 and "1 skipped" in local.stdout, local.stdout
    ci = subprocess.run(args, env={**env, "CI": "true"}, capture_output=True, text=True, cwd=tmp_path, check=False)
    assert ci.returncode == 1 and "1 failed" in ci.stdout and "CI is set" in ci.stdout, ci.stdout


def test_under_ci_reads_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    for value, expected in (("true", True), ("1", True), ("", False), ("0", False), ("false", False)):
        monkeypatch.setenv("CI", value)
        assert under_ci() is expected, value
    monkeypatch.delenv("CI")
    assert under_ci() is False


# 299792.458 km/s, 299_792_458 m/s, 2.99792458e5 / e8, and the usual roundings (3e5, 300000, 3e8)
_C_LITERAL = re.compile(
    r"2_?9_?9_?[,_]?7_?9_?2"  # 299792..., 299_792..., 299,792...
    r"|2\.99792"
    r"|(?<![\w.])3(\.0*)?e\+?0?[58](?![\w.])"
    r"|(?<![\w.])300_?000(_?000)?(\.0*)?(?![\w.])"
)


def test_one_speed_of_light_constant() -> None:
    here = Path(__file__).resolve()
    offenders = []
    for folder in ("src", "tests", "benchmarks", "tools"):
        for f in sorted((REPO_ROOT / folder).rglob("*.py")):
            if f.resolve() in (here, (REPO_ROOT / "src/leonet/constants.py").resolve()):
                continue
            for n, line in enumerate(f.read_text().splitlines(), 1):
                if _C_LITERAL.search(line):
                    offenders.append(f"{f.relative_to(REPO_ROOT)}:{n}: {line.strip()}")
    assert not offenders, "speed-of-light literals outside leonet/constants.py (use C_KM_S):\n" + "\n".join(offenders)
    # the documented value is the constant
    assert f"c = {C_KM_S:,.3f} km/s" in (REPO_ROOT / "README.md").read_text()
    assert C_KM_S == 299792.458  # exact by the SI definition of the metre


def test_the_guard_catches_the_usual_spellings() -> None:
    for text in ("x / 299792.458", "299_792_458.0", "c=2.99792458e5", "d / 3e5", "3.0e8", "300_000.0", "300000"):
        assert _C_LITERAL.search(text), text
    for text in ("13e5", "x3e5", "3000000", "1300000", "0.3e5"):
        assert not _C_LITERAL.search(text), text


def test_ci_flag_is_reported() -> None:
    """Not a check: says in the test log whether this run treats missing data as failures."""
    print(f"CI mode: {under_ci()}")
