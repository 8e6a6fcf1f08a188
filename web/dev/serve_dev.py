"""THROWAWAY DEVELOPMENT LAUNCHER -- not `leonet serve` (which engineer A's branch adds to cli.py).

The real stack (ControlStore on a SQLite file + leonet.server.app.create_app) started the way `leonet serve`
is described in the contract, for working on the page before the CLI command exists.  Prints the page URL with
the first admin token.  Run from the repository:
    .venv/bin/python web/dev/serve_dev.py SCENARIO PORT DB_FILE
"""

from __future__ import annotations

import sys

import uvicorn

from leonet.control.store import ControlStore
from leonet.scenario import load_scenario
from leonet.server.app import create_app

if __name__ == "__main__":
    name, port, db = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    store = ControlStore.open(f"sqlite:///{db}", scenario=load_scenario(name))
    token = store.create_admin_token_if_none()
    if token:
        print(f"http://127.0.0.1:{port}/#token={token}", flush=True)
    uvicorn.run(create_app(store), host="127.0.0.1", port=port)
