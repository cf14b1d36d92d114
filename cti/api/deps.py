"""Request dependencies: the services, the signed-in user and role checks (deny by default)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from cti.auth.service import Principal
from cti.domain.errors import Forbidden, Unauthorised
from cti.wiring import Services

_bearer = HTTPBearer(auto_error=False)


async def services(request: Request) -> Services:
    # async: FastAPI runs a plain ``def`` dependency in a worker thread, a thread hop on every request.
    svc: Services = request.app.state.services
    return svc


ServicesDep = Annotated[Services, Depends(services)]


async def principal(
    svc: ServicesDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        raise Unauthorised(
            "sign in first: send 'Authorization: Bearer <token>'", error_id="not_authenticated"
        )
    return await svc.auth.authenticate(credentials.credentials)


def require(*roles: str) -> Callable[[Principal], Awaitable[Principal]]:
    async def check(user: Annotated[Principal, Depends(principal)]) -> Principal:
        if user.role not in roles:
            raise Forbidden(f"this needs one of the roles: {', '.join(roles)}", error_id="role_forbidden")
        return user

    return check


Anyone = Annotated[Principal, Depends(principal)]
AgentLike = Annotated[Principal, Depends(require("agent", "specialist"))]
Supervisor = Annotated[Principal, Depends(require("supervisor", "admin"))]
Staff = Annotated[Principal, Depends(require("agent", "specialist", "supervisor", "admin"))]
Admin = Annotated[Principal, Depends(require("admin"))]
