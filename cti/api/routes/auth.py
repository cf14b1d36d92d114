from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from cti.api.deps import Anyone, ServicesDep
from cti.api.schemas import LoginIn, LoginOut

router = APIRouter(prefix="/api", tags=["auth"])


@router.post("/login", response_model=LoginOut)
async def login(body: LoginIn, svc: ServicesDep) -> LoginOut:
    result = await svc.auth.login(body.username, body.password)
    return LoginOut(access_token=result.access_token, role=result.role, username=result.username)


@router.post("/logout", status_code=204)
async def logout(
    user: Anyone,
    svc: ServicesDep,
    credentials: Annotated[HTTPAuthorizationCredentials, Depends(HTTPBearer())],
) -> None:
    await svc.auth.logout(credentials.credentials)


@router.get("/me")
async def me(user: Anyone) -> dict[str, str]:
    return {"username": user.username, "role": user.role}
