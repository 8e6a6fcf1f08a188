"""A TOML writer for JSON-like documents (dicts, lists, strings, numbers, booleans, aware datetimes; None left
out), enough for a scenario (``leonet control export``).  ``tomllib.loads(dumps(doc))`` gives ``doc`` back (without its
None values); non-finite floats are refused, as TOML scenarios refuse them."""

from __future__ import annotations

import json
import math
import re
from datetime import datetime
from typing import Any

_BARE = re.compile(r"^[A-Za-z0-9_-]+$")


def _key(k: str) -> str:
    return k if _BARE.match(k) else json.dumps(k, ensure_ascii=False)


def _inline(v: Any) -> str:
    if isinstance(v, datetime):
        if v.tzinfo is None:
            raise ValueError(f"{v} has no time zone; expected an aware (UTC) time")
        return v.isoformat().replace("+00:00", "Z")
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if not math.isfinite(v):
            raise ValueError(f"{v} has no TOML form in a scenario; expected a finite number")
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_inline(x) for x in v if x is not None) + "]"
    if isinstance(v, dict):
        items = [f"{_key(k)} = {_inline(x)}" for k, x in v.items() if x is not None]
        return "{ " + ", ".join(items) + " }" if items else "{}"
    raise TypeError(f"cannot write {type(v).__name__} as TOML")


def _tables_of(v: Any) -> bool:
    return isinstance(v, list) and bool(v) and all(isinstance(x, dict) for x in v)


def _table(out: list[str], path: list[str], d: dict[str, Any]) -> None:
    for k, v in d.items():
        if v is None or (isinstance(v, dict) and v) or _tables_of(v):
            continue
        out.append(f"{_key(k)} = {_inline(v)}")
    for k, v in d.items():
        if isinstance(v, dict) and v:
            out += ["", "[" + ".".join(_key(p) for p in [*path, k]) + "]"]
            _table(out, [*path, k], v)
    for k, v in d.items():
        if _tables_of(v):
            for item in v:
                out += ["", "[[" + ".".join(_key(p) for p in [*path, k]) + "]]"]
                _flat(out, item)


def _flat(out: list[str], d: dict[str, Any]) -> None:
    """An array-of-tables item: its values inline (nested tables and GeoJSON as inline tables)."""
    for k, v in d.items():
        if v is not None:
            out.append(f"{_key(k)} = {_inline(v)}")


def dumps(doc: dict[str, Any]) -> str:
    out: list[str] = []
    _table(out, [], doc)
    return "\n".join(out).lstrip("\n") + "\n"
