"""The crash-safety script (benchmarks/crash_writes.py) in small: two SIGKILL rounds must keep every
acknowledged write; and with a server that acknowledges before it commits, the script must report the loss."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "crash_writes.py"


def _run(tmp_path: Path, *args: str, fault: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **({"LEONET_CRASH_FAULT": fault} if fault else {})}
    cmd = [sys.executable, str(SCRIPT), "--server", "router", "--db", f"sqlite:///{tmp_path / 'c.db'}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env, cwd=tmp_path)


def test_acknowledged_writes_survive_sigkill(tmp_path: Path) -> None:
    r = _run(tmp_path, "--rounds", "2", "--min-delay-s", "1.5", "--max-delay-s", "2.5")
    assert r.returncode == 0, r.stderr
    m = re.search(r"(\d+) acknowledged writes, all present", r.stdout)
    assert m and int(m.group(1)) > 0, r.stdout
    assert "audit chain intact after every restart" in r.stdout


def test_the_script_sees_a_lost_write(tmp_path: Path) -> None:
    r = _run(tmp_path, "--rounds", "1", "--min-delay-s", "1.5", "--max-delay-s", "2.5", fault="ack-before-commit")
    assert r.returncode == 1
    assert "acknowledged writes lost after a SIGKILL" in r.stderr, r.stderr
