"""leonet: a digital twin and control plane of a LEO satellite internet system.

The Python API in one screen::

    import leonet
    res = leonet.run(leonet.load_scenario("default"))
    res.routes            # pyarrow Table, one row per network, pair and snapshot
    res.summary           # per pair
    res.positions(30.0)   # every node at t = 30 s
    res.links(30.0)       # every link at t = 30 s
"""

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
