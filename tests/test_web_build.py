"""The page's committed build (src/leonet/server/static/) is what web/ builds to, and is complete.

Two checks:
- every asset index.html references exists in the build, is not empty, and is local (no CDN, no http(s) URL):
  always, with no node needed -- this is what `pip install leonet` serves;
- the committed build is byte for byte what `vite build` makes from web/ now (npm ci from web/package-lock.json,
  then the build into a temporary folder): a source edited without `make web` fails here.  It needs node and
  npm; without them it is skipped on a developer's machine and fails under CI.  The Vite build is reproducible
  (content-hashed file names, no timestamps), which is what makes the comparison exact.
"""

from __future__ import annotations

import filecmp
import re
import shutil
import subprocess
from pathlib import Path

from conftest import REPO_ROOT, missing

WEB = REPO_ROOT / "web"
STATIC = REPO_ROOT / "src" / "leonet" / "server" / "static"


def referenced(index_html: str) -> list[str]:
    return re.findall(r'(?:src|href)="([^"]+)"', index_html)


def test_every_asset_index_html_references_is_in_the_build_and_local() -> None:
    html = (STATIC / "index.html").read_text()
    refs = referenced(html)
    assert any(r.endswith(".js") for r in refs) and any(r.endswith(".css") for r in refs), refs
    for ref in refs:
        if ref.startswith("data:"):
            continue
        assert not re.match(r"^[a-z]+://|^//", ref), f"index.html references {ref}: the page must work offline"
        p = STATIC / ref.removeprefix("./")
        assert p.is_file() and p.stat().st_size > 0, f"index.html references {ref}, not in {STATIC}"
    # the countries the globe draws are in the bundle too, referenced from the script
    js = "".join(p.read_text() for p in (STATIC / "assets").glob("*.js"))
    countries = [p.name for p in (STATIC / "assets").glob("ne_110m_admin_0_countries-*.geojson")]
    assert len(countries) == 1 and countries[0] in js


def test_committed_build_is_what_the_sources_build_to(tmp_path: Path) -> None:
    npm = shutil.which("npm")
    if npm is None:
        missing("npm not found (node and npm build the page: `make web`)")
    if not (WEB / "node_modules" / ".package-lock.json").exists():
        r = subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=WEB, capture_output=True, text=True, timeout=900)
        assert r.returncode == 0, r.stderr[-3000:]
    out = tmp_path / "static"
    r = subprocess.run(
        [npm, "run", "build", "--", "--outDir", str(out), "--emptyOutDir", "--logLevel", "warn"],
        cwd=WEB,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    built = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    committed = sorted(p.relative_to(STATIC).as_posix() for p in STATIC.rglob("*") if p.is_file())
    assert built == committed, "run `make web` and commit src/leonet/server/static/"
    differ = [f for f in built if not filecmp.cmp(out / f, STATIC / f, shallow=False)]
    assert differ == [], f"{differ} differ from a fresh build: run `make web` and commit src/leonet/server/static/"
