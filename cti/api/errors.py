"""Every error leaves as JSON with a stable ``error_id``; never a stack trace."""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from cti.domain.errors import FrontdoorError

log = structlog.get_logger(__name__)

_HTTP_IDS = {
    400: "bad_request",
    401: "unauthorised",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
}


def _field(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or str(loc[0] if loc else "body")


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(FrontdoorError)
    async def _domain(request: Request, exc: FrontdoorError) -> JSONResponse:
        status = exc.status if exc.status < 500 else 500
        if status >= 500:
            log.error("api.domain_error", error_id=exc.error_id, path=request.url.path)
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        return JSONResponse(exc.to_json(), status_code=status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        fields = [
            {"field": _field(tuple(e.get("loc", ()))), "message": str(e.get("msg", ""))} for e in exc.errors()
        ]
        names = ", ".join(f["field"] for f in fields)
        body = {
            "error_id": "invalid_request",
            "message": f"invalid request: {names}",
            "details": {"fields": fields},
        }
        return JSONResponse(body, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        error_id = _HTTP_IDS.get(exc.status_code, "http_error")
        message = exc.detail if isinstance(exc.detail, str) else error_id.replace("_", " ")
        return JSONResponse({"error_id": error_id, "message": message}, status_code=exc.status_code)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("api.unexpected_error", path=request.url.path)
        return JSONResponse(
            {"error_id": "internal_error", "message": "something went wrong"}, status_code=500
        )
