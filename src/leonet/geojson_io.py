"""Reading GeoJSON-like JSON safely: every malformed value is an :class:`~leonet.errors.InputError`, never a
crash (numbers that are booleans, NaN / infinity or integers too large for a float; ``properties`` that is not
an object; JSON too deep or with integers too long to parse)."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from leonet.errors import InputError


def finite_number(v: Any) -> float | None:
    """``v`` as a finite float, or None (not a number, a bool, NaN / infinity, or an integer too large)."""
    if isinstance(v, bool) or not isinstance(v, int | float):
        return None
    try:
        x = float(v)
    except OverflowError:
        return None
    return x if math.isfinite(x) else None


def feature_properties(f: Any, where: str) -> Mapping[str, Any]:
    """A feature's ``properties``: an object, or ``{}`` for null / absent (RFC 7946 §3.2); anything else is an
    error (a feature that is not an object has none)."""
    if not isinstance(f, Mapping):
        return {}
    props = f.get("properties")
    if props is None:
        return {}
    if not isinstance(props, Mapping):
        raise InputError(where, f"'properties' is {type(props).__name__}; expected an object or null (RFC 7946 §3.2)")
    return props


def parse_json(text: str, source: str) -> Any:
    """JSON text parsed, every failure an :class:`InputError` naming ``source`` (and the line when known):
    syntax errors, integers too long to convert, nesting too deep to parse."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{source}:{exc.lineno}", f"invalid JSON ({exc.msg}); expected GeoJSON") from None
    except (ValueError, RecursionError) as exc:
        raise InputError(source, f"unreadable JSON ({str(exc)[:80]}); expected GeoJSON") from None
