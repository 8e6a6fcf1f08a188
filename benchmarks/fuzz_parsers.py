"""A bounded fuzz run of leonet's input parsers: TLE / 3LE text, OMM JSON, OMM CSV and scenario TOML.

It drives the hypothesis strategies of ``tests/test_parsers_fuzz.py`` (hostile mutations of real element sets,
OMM samples and a scenario, every scenario field set to hostile values) for a fixed time per parser, and counts
every outcome that is neither a result nor ``leonet.errors.InputError`` as a crash, grouped by kind (exception
type and the function it came from), instead of stopping at the first one as the tests do.

    python benchmarks/fuzz_parsers.py                 # 60 s per parser
    python benchmarks/fuzz_parsers.py --seconds 10    # quicker

It prints, per parser, the inputs tried and the crashes found (0 is the target), with one example per kind.
"""

from __future__ import annotations

import argparse
import collections
import sys
import time
import traceback
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
import test_parsers_fuzz as fz
from leonet.errors import InputError

TARGETS: dict[str, tuple[Any, Callable[[Any], None]]] = {
    "TLE / 3LE text": (fz.tle_texts, fz.run_tle),
    "OMM JSON": (fz.omm_json_texts, lambda t: fz.run_omm(t, "json")),
    "OMM CSV": (fz.omm_csv_texts, lambda t: fz.run_omm(t, "csv")),
    "scenario TOML": (fz.any_scenario_texts, fz.run_scenario),
}


def fuzz(strategy: st.SearchStrategy[Any], target: Callable[[Any], None], seconds: float) -> tuple[int, Any]:
    tried = 0
    kinds: collections.Counter[tuple[str, str]] = collections.Counter()
    examples: dict[tuple[str, str], str] = {}
    deadline = time.perf_counter() + seconds

    @settings(
        max_examples=200,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def one(x: Any) -> None:
        nonlocal tried
        if time.perf_counter() > deadline:
            return
        tried += 1
        try:
            target(x)
        except InputError as exc:
            assert "\n" not in str(exc)
        except Exception as exc:
            frame = traceback.extract_tb(exc.__traceback__)[-1]
            kind = (type(exc).__name__, f"{Path(frame.filename).name}:{frame.name}")
            kinds[kind] += 1
            examples.setdefault(kind, repr(x)[:160])

    while time.perf_counter() < deadline:
        one()
    return tried, (kinds, examples)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60.0, help="time per parser (default 60)")
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    total_tried = total_crashes = 0
    print(f"{'parser':<16} {'inputs tried':>12} {'crashes':>8}  kinds")
    for name, (strategy, target) in TARGETS.items():
        tried, (kinds, examples) = fuzz(strategy, target, args.seconds)
        crashes = sum(kinds.values())
        total_tried += tried
        total_crashes += crashes
        print(f"{name:<16} {tried:>12,} {crashes:>8,}  {len(kinds)}")
        for kind, n in kinds.most_common():
            print(f"    {n:>6,} x {kind[0]} in {kind[1]}; e.g. {examples[kind]}")
    print(f"{'all':<16} {total_tried:>12,} {total_crashes:>8,}")


if __name__ == "__main__":
    main()
