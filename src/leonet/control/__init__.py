"""The control plane's state on a database (SQLAlchemy 2 + Alembic): scenario, policy revisions and drafts,
clock, API tokens, the hash-chained audit log and the decision log.  See :class:`ControlStore`."""

from leonet.control.store import ClockState, ControlStore, DecisionRecord, RevisionInfo, RevisionMismatch, TerminalRow
from leonet.control.tokens import Principal

__all__ = [
    "ClockState",
    "ControlStore",
    "DecisionRecord",
    "Principal",
    "RevisionInfo",
    "RevisionMismatch",
    "TerminalRow",
]
