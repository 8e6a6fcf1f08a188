"""API tokens: 32 random bytes (base64url text), stored as their sha256 digest only, compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Literal

Role = Literal["viewer", "operator", "admin"]
ROLES: tuple[Role, ...] = ("viewer", "operator", "admin")
#: what each role may do: a role includes every role before it
RANK = {r: i for i, r in enumerate(ROLES)}


@dataclass(frozen=True)
class Principal:
    """Who is calling: the token's id, name and role (never the token)."""

    token_id: int
    name: str
    role: Role

    def may(self, role: Role) -> bool:
        return RANK[self.role] >= RANK[role]


def new_token() -> str:
    """A fresh token: 32 bytes from the OS's CSPRNG, URL-safe base64 (43 characters)."""
    return secrets.token_urlsafe(32)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def matches(token: str, stored_digest: str) -> bool:
    """Whether ``token`` hashes to ``stored_digest``, in constant time."""
    return hmac.compare_digest(digest(token), stored_digest)
