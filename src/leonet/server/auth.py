"""Roles on the HTTP edge: ``require(role)`` is a FastAPI dependency that reads ``Authorization: Bearer
<token>``, looks the token up in the control store (``request.app.state.store``, a
:class:`~leonet.control.ControlStore`) and returns the caller's :class:`~leonet.control.Principal`.

No token, a malformed header, or an unknown or revoked token: 401 ``{"detail": ...}`` with
``WWW-Authenticate: Bearer``; a token whose role is below ``role``: 403 naming the role needed.  Roles are
ordered: ``viewer`` < ``operator`` < ``admin`` (each includes the ones before).  The token is never logged
nor echoed in a response.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from fastapi import HTTPException, Request, status

from leonet.control.tokens import RANK, Principal

RoleName = Literal["viewer", "operator", "admin"]


NO_TOKEN = "no API token; expected the header 'Authorization: Bearer <token>'"
MALFORMED = "malformed Authorization header; expected 'Authorization: Bearer <token>'"
NOT_LIVE = "unknown or revoked API token; expected a live token (admins make them at /api/tokens)"


def parse_bearer(header: str | None) -> tuple[str | None, str]:
    """The token of an ``Authorization`` header's value, or None and why (the 401's detail)."""
    if not header:
        return None, NO_TOKEN
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None, MALFORMED
    return token, ""


def unauthorized(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail, headers={"WWW-Authenticate": "Bearer"})


def bearer_token(request: Request) -> str:
    token, problem = parse_bearer(request.headers.get("authorization"))
    if token is None:
        raise unauthorized(problem)
    return token


def require(role: RoleName) -> Callable[[Request], Principal]:
    """A dependency admitting callers whose token has ``role`` or a higher one."""
    if role not in RANK:
        raise ValueError(f"unknown role {role!r}")

    def dependency(request: Request) -> Principal:
        token = bearer_token(request)
        who: Principal | None = request.app.state.store.authenticate(token)
        if who is None:
            raise unauthorized(NOT_LIVE)
        if not who.may(role):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                f"this needs the {role} role (or higher); token {who.name!r} has the {who.role} role",
            )
        request.state.principal = who
        return who

    dependency.__name__ = f"require_{role}"
    return dependency
