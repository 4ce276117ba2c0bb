"""Errors of the HTTP API: the OpenAI envelope `{"error": {message, type, code}}` with its status,
and Dify's `{"error_code", "error_msg"}` on `/retrieval`."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from rag.errors import IndexLoadError, QueryError, RagError, StorageError

DIFY_PATH = "/retrieval"
# Dify's documented codes for its external knowledge API.
DIFY_BAD_HEADER, DIFY_BAD_KEY, DIFY_NO_KNOWLEDGE = 1001, 1002, 2001


class ApiError(Exception):
    """A request that cannot be served, with the status and the code a client can branch on."""

    def __init__(self, status: int, message: str, type_: str, code: str, dify_code: int | None = None):
        super().__init__(message)
        self.status, self.message, self.type, self.code = status, message, type_, code
        self.dify_code = dify_code


def invalid(message: str, code: str = "invalid_request") -> ApiError:
    return ApiError(400, message, "invalid_request_error", code)


def error_response(request: Request, error: ApiError, headers: dict | None = None) -> JSONResponse:
    """The error in the shape the caller's protocol expects."""
    if request.url.path == DIFY_PATH:
        body: dict = {"error_code": error.dify_code or error.status, "error_msg": error.message}
    else:
        body = {"error": {"message": error.message, "type": error.type, "code": error.code}}
    return JSONResponse(body, status_code=error.status, headers=headers)


def from_rag_error(exc: RagError) -> ApiError:
    """A package error as an API error: the caller's mistake is a 400, a missing article a 404."""
    message = str(exc)
    if isinstance(exc, QueryError) and message.startswith("unknown article_id"):
        return ApiError(404, message, "not_found_error", "article_not_found")
    if isinstance(exc, QueryError):
        return invalid(message)
    if isinstance(exc, StorageError):
        return ApiError(507, message, "server_error", "storage_unavailable")
    if isinstance(exc, IndexLoadError):
        return ApiError(503, message, "server_error", "index_unavailable")
    return invalid(message)


def install_handlers(app: FastAPI) -> None:
    """Every error the app can meet answered in the envelope, never with a traceback."""

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        headers = {"Retry-After": "1"} if exc.status in (429, 503) else None
        if exc.status == 401:
            headers = {"WWW-Authenticate": "Bearer"}
        return error_response(request, exc, headers)

    @app.exception_handler(RagError)
    async def _rag_error(request: Request, exc: RagError) -> JSONResponse:
        return error_response(request, from_rag_error(exc))

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(part) for part in first.get("loc", ()) if part != "body")
        message = (
            f"{where}: {first.get('msg', 'invalid value')}" if where else first.get("msg", "invalid body")
        )
        return error_response(request, invalid(message, "invalid_field"))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed", 413: "body_too_large"}.get(
            exc.status_code, "http_error"
        )
        type_ = "not_found_error" if exc.status_code == 404 else "invalid_request_error"
        return error_response(request, ApiError(exc.status_code, str(exc.detail), type_, code))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        error = ApiError(
            500, f"internal error ({type(exc).__name__}); see the server log", "server_error", "internal"
        )
        return error_response(request, error)
