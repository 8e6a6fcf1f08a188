"""leonet: a digital twin and control plane of a LEO satellite internet system.

The Python API in one screen::

    import leonet
    res = leonet.run(leonet.load_scenario("default").with_time(end_s=60))
    res.routes            # pyarrow Table, one row per network, pair and snapshot
    res.summary           # per pair
    res.positions(30.0)   # every node at t = 30 s
    res.links(30.0)       # every link at t = 30 s

The names below are imported on first use (PEP 562), so ``import leonet`` and the ``leonet`` command's help
do not load the engine (numba, pyarrow, DuckDB); ``tests/test_startup.py`` counts what they import.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from leonet.errors import InputError
    from leonet.results import Results, run
    from leonet.scenario import (
        ConstellationSpec,
        GroundSpec,
        NetworkSpec,
        RoutingSpec,
        Scenario,
        ShellSpec,
        StationSpec,
        TimeSpec,
        builtin_names,
        load_scenario,
        parse_scenario,
    )

#: public name -> the module that defines it
_LAZY = {
    "InputError": "leonet.errors",
    "Results": "leonet.results",
    "run": "leonet.results",
    **{
        name: "leonet.scenario"
        for name in (
            "ConstellationSpec",
            "GroundSpec",
            "NetworkSpec",
            "RoutingSpec",
            "Scenario",
            "ShellSpec",
            "StationSpec",
            "TimeSpec",
            "builtin_names",
            "load_scenario",
            "parse_scenario",
        )
    },
}

__all__ = [
    "ConstellationSpec",
    "GroundSpec",
    "InputError",
    "NetworkSpec",
    "Results",
    "RoutingSpec",
    "Scenario",
    "ShellSpec",
    "StationSpec",
    "TimeSpec",
    "builtin_names",
    "load_scenario",
    "parse_scenario",
    "run",
]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'leonet' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
