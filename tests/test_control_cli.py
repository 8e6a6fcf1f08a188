"""``leonet control import/export`` and ``leonet audit verify`` as a user runs them (subprocesses)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from leonet.policy.compiled import resolve_geometries
from leonet.policy.models import parse_policy_config
from leonet.scenario import load_scenario

LEONET = [sys.executable, "-m", "leonet.cli"]


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*LEONET, *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def test_import_export_verify(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'c.db'}"
    r = _run("control", "import", "crimea-2022", "--db", db, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "revision 1 applied" in r.stdout
    r = _run("control", "import", "crimea-2022", "--db", db, cwd=tmp_path)  # again: a new revision
    assert r.returncode == 0 and "revision 2 applied" in r.stdout, r.stdout + r.stderr
    r = _run("control", "export", "--db", db, "-o", "out.toml", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    sub = tmp_path / "elsewhere"
    sub.mkdir()
    exported = load_scenario(tmp_path / "out.toml")  # a relative geofence file: written absolute, so it loads
    original = load_scenario("crimea-2022")
    a, b = parse_policy_config(exported.policy), parse_policy_config(original.policy)
    assert [g.file for g in a.geofences] != [g.file for g in b.geofences]  # the relative one became absolute
    assert a.model_dump(exclude={"geofences"}) == b.model_dump(exclude={"geofences"})
    ga, gb = resolve_geometries(a, exported.base_dir), resolve_geometries(b, original.base_dir)
    assert ga.keys() == gb.keys() and all(ga[k].equals(gb[k]) for k in ga)  # the compiled regions are the same
    r = _run("audit", "verify", "--db", db, cwd=sub)
    assert r.returncode == 0 and r.stdout.strip() == "4 entries, chain intact", r.stdout + r.stderr
    r = _run("control", "export", "--db", db, cwd=tmp_path)
    assert r.returncode == 0 and r.stdout.startswith('name = "crimea-2022"')


def test_verify_names_the_first_broken_entry(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'c.db'}"
    assert _run("control", "import", "front-whitelist-2026", "--db", db, cwd=tmp_path).returncode == 0
    assert _run("control", "import", "front-whitelist-2026", "--db", db, cwd=tmp_path).returncode == 0
    eng = create_engine(db)
    with eng.begin() as c:
        c.execute(text("DROP TRIGGER audit_log_no_update"))
        c.execute(text("UPDATE audit_log SET actor = 'someone-else' WHERE seq = 3"))
    eng.dispose()
    r = _run("audit", "verify", "--db", db, cwd=tmp_path)
    assert r.returncode == 1
    assert r.stderr.strip() == (
        "leonet: audit log broken at entry seq 3: its hash does not match its contents (the entry was changed)"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("audit", "verify", "--db", "sqlite:///missing.db"), "sqlite:///missing.db: no such database file"),
        (("control", "export", "--db", "nonsense"), "--db: 'nonsense' is not a database URL"),
        (("control", "import", "no-such-scenario", "--db", "sqlite:///x.db"), "no-such-scenario: no such file"),
        (
            ("control", "import", "default", "--db", "postgresql://u@127.0.0.1:1/x"),
            "postgresql://u@127.0.0.1:1/x: cannot open the database",
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    r = _run(*args, cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    assert r.stderr.startswith(f"leonet: error: {message}") and r.stderr.count("\n") == 1, r.stderr
    assert "Traceback" not in r.stderr
    assert not (tmp_path / "missing.db").exists() and not (tmp_path / "x.db").exists()


def test_import_into_a_database_of_another_scenario(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'c.db'}"
    assert _run("control", "import", "default", "--db", db, cwd=tmp_path).returncode == 0
    r = _run("control", "import", "crimea-2022", "--db", db, cwd=tmp_path)
    assert r.returncode == 2 and "holds scenario 'default', not 'crimea-2022'" in r.stderr
