"""Scenario documents as TOML text (``leonet control export``), written by ``tomli-w``.

TOML has no null: ``None`` values (a rule's unset optional fields) are left out, which is what the scenario
parser reads as "unset".  Non-finite floats are refused, as the scenario parser refuses them.
``tomllib.loads(dumps(doc))`` gives ``doc`` back without its ``None`` values.
"""

from __future__ import annotations

import math
from typing import Any

import tomli_w


def _without_none(v: Any) -> Any:
    if isinstance(v, dict):
        return {k: _without_none(x) for k, x in v.items() if x is not None}
    if isinstance(v, list | tuple):
        return [_without_none(x) for x in v if x is not None]
    if isinstance(v, float) and not math.isfinite(v):
        raise ValueError(f"{v} has no TOML form in a scenario; expected a finite number")
    return v


def dumps(doc: dict[str, Any]) -> str:
    """``doc`` (JSON-like: dicts, lists, strings, numbers, booleans, datetimes; ``None`` left out) as TOML."""
    return tomli_w.dumps(_without_none(doc))
