"""The audit log's hash chain (pure: no database here).

Entry ``k`` carries ``prev_hash`` (entry ``k-1``'s ``hash``; :data:`GENESIS` for the first) and
``hash = sha256(canonical_json({seq, at_utc, actor, action, entity, before, after, prev_hash}))``, where
``before`` / ``after`` are the canonical JSON texts as stored.  Changing, removing or reordering any entry
breaks the chain at that entry (or, for the last entries removed, is seen against the recorded count only by
whoever kept a later hash: a chain can be truncated at its end without a trace, as every hash chain can).
Canonical JSON: sorted keys, no whitespace, UTF-8, non-finite floats refused.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

GENESIS = "0" * 64


def canonical_json(value: Any) -> str:
    """One text per value: sorted keys, ``(",", ":")`` separators, UTF-8 kept, NaN/inf refused."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


@dataclass(frozen=True)
class Entry:
    seq: int
    at_utc: str
    actor: str
    action: str
    entity: str
    before: str  # canonical JSON text
    after: str
    prev_hash: str
    hash: str = ""


def entry_hash(e: Entry) -> str:
    body = {
        "seq": e.seq,
        "at_utc": e.at_utc,
        "actor": e.actor,
        "action": e.action,
        "entity": e.entity,
        "before": e.before,
        "after": e.after,
        "prev_hash": e.prev_hash,
    }
    return hashlib.sha256(canonical_json(body).encode("utf-8")).hexdigest()


def chained(prev: Entry | None, at_utc: str, actor: str, action: str, entity: str, before: Any, after: Any) -> Entry:
    """The entry that follows ``prev`` (None: the first), hashed."""
    seq = 1 if prev is None else prev.seq + 1
    e = Entry(
        seq,
        at_utc,
        actor,
        action,
        entity,
        canonical_json(before),
        canonical_json(after),
        GENESIS if prev is None else prev.hash,
    )
    return Entry(**{**e.__dict__, "hash": entry_hash(e)})


@dataclass(frozen=True)
class Verdict:
    entries: int
    broken_seq: int | None  # the first entry that does not verify (None: the chain is intact)
    problem: str

    @property
    def intact(self) -> bool:
        return self.broken_seq is None


def verify(entries: Iterable[Entry]) -> Verdict:
    """Check a chain given in ``seq`` order: consecutive seq from 1, each ``prev_hash`` the previous hash,
    each ``hash`` recomputed."""
    prev_hash, expect, n = GENESIS, 1, 0
    for e in entries:
        n += 1
        if e.seq != expect:
            return Verdict(
                n, e.seq, f"seq {e.seq} follows seq {expect - 1}; expected seq {expect} (an entry is missing)"
            )
        if e.prev_hash != prev_hash:
            return Verdict(n, e.seq, "its prev_hash is not the previous entry's hash (an entry was removed or changed)")
        if entry_hash(e) != e.hash:
            return Verdict(n, e.seq, "its hash does not match its contents (the entry was changed)")
        prev_hash, expect = e.hash, expect + 1
    return Verdict(n, None, "")
