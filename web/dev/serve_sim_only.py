"""THROWAWAY DEVELOPMENT LAUNCHER -- not `leonet serve`, not used by any test.

The real simulation side of the server (leonet.server.app.create_app) over the in-memory store of
tests/serve_support.py, without the control API (no policy drafts): for working on the page while the
database side is being built.  Run from the repository:
    .venv/bin/python web/dev/serve_sim_only.py front-whitelist-2026 8766     then open /#token=ta
"""

from __future__ import annotations

import sys
from pathlib import Path

import uvicorn

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests"))

from serve_support import MemoryStore, require  # noqa: E402

from leonet.scenario import load_scenario  # noqa: E402
from leonet.server.app import create_app  # noqa: E402

if __name__ == "__main__":
    store = MemoryStore(load_scenario(sys.argv[1] if len(sys.argv) > 1 else "front-whitelist-2026"))
    app = create_app(store, require=require, control=False)
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]) if len(sys.argv) > 2 else 8766)
