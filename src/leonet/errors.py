"""The one exception type that the edges (CLI, server) turn into a one-line message and exit code 2."""

from __future__ import annotations


class InputError(ValueError):
    """Bad input from a user: a file, a line or a field, and what was expected.

    ``str(err)`` is one line: ``"<where>: <what was wrong>; expected <what>"``.
    """

    def __init__(self, where: str, problem: str) -> None:
        self.where = where
        self.problem = problem
        super().__init__(f"{where}: {problem}")
