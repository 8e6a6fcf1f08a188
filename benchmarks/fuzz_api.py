"""A longer fuzz run of ``leonet serve`` from its own OpenAPI document (schemathesis), as ``tests/test_api_fuzz.py``
does for a few seconds: a real server on loopback (uvicorn in a thread, port 0), fuzzed with no token, a viewer
token, an operator token and an admin token in turn, each for ``--seconds`` (rounds over every operation, valid
and invalid requests), every answer checked against the document (no 5xx, documented status / content type /
headers / body) and for role bypasses (``tests/api_fuzz.py``).  Then ``/healthz``, the audit chain and the
server's log lines (no token in any).

    python benchmarks/fuzz_api.py                      # 120 s per role, SQLite
    python benchmarks/fuzz_api.py --seconds 30 --db postgresql://USER@HOST/EMPTY_DB
    python benchmarks/fuzz_api.py --seconds 30 --pg      # a throwaway PostgreSQL cluster (tests/pgserver.py)

Prints, per role, the requests tried, their status codes and the failures (0 is the target), with one example
of each kind; exit 1 when any.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from api_fuzz import fuzz
from serve_live import live_server


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=120.0, help="fuzzing time per role (default 120)")
    ap.add_argument("--examples", type=int, default=10, help="requests per operation and mode in each round")
    ap.add_argument("--scenario", default="front-whitelist-2026")
    ap.add_argument("--db", default=None, help="an empty database URL (default: an SQLite file in a temp dir)")
    ap.add_argument("--pg", action="store_true", help="a throwaway PostgreSQL cluster (Debian's binaries)")
    ap.add_argument("--seed", type=int, default=None, help="derandomise the generation")
    a = ap.parse_args()
    if a.pg:
        from pgserver import fresh_database, throwaway_cluster

        with throwaway_cluster() as admin:
            if admin is None:
                raise SystemExit("no PostgreSQL binaries (/usr/lib/postgresql/*/bin)")
            with fresh_database(admin) as url:
                a.db = url
                return run(a)
    return run(a)


def run(a: argparse.Namespace) -> int:
    failed = 0
    total = 0
    t0, c0 = time.monotonic(), time.process_time()
    print(f"load average before: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory() as tmp, live_server(Path(tmp), a.scenario, db_url=a.db) as live:
        print(f"leonet serve ({a.scenario}) at {live.base} over {live.store.url}")
        ids = [t["id"] for t in live.store.tokens()]
        for role in (None, "viewer", "operator", "admin"):
            r = fuzz(live.base, role, live.tokens.get(role or ""), examples=a.examples, seconds=a.seconds,
                     rounds=True, protect_tokens=ids, seed=a.seed)  # fmt: skip
            print(r.line())
            total += r.requests
            failed += r.failure_count
            for kind, example in r.failures.items():
                print(f"  FAIL {kind}\n      " + example[:1200].replace("\n", "\n      "))
            for kind, n in r.generator_errors.items():
                print(f"  (the generator's, not the server's) {kind}: {n}")
            print(f"  /healthz after: {'ok' if live.healthy() else 'NOT ANSWERING'}")
        v = live.store.verify_audit()
        leaked = [line for line in live.logs for t in live.tokens.values() if t in line]
        print(f"audit log: {v.entries} entries, {'chain intact' if v.intact else f'BROKEN at {v.broken_seq}'}")
        print(f"log lines captured: {len(live.logs)}, holding a token: {len(leaked)}")
        failed += (not v.intact) + len(leaked)
    print(f"{total} requests, {failed} failures; {time.monotonic() - t0:.0f} s wall, "
          f"{time.process_time() - c0:.0f} s CPU (this process: client and server); "
          f"load average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")  # fmt: skip
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
