"""Errors shaped as OpenAI's API shapes them, so any client library can read them."""

from __future__ import annotations

from typing import Any

from desktop.engine.api import ErrorKind

# How an engine failure reaches a client: (HTTP status, error type, error code).
ENGINE_ERRORS: dict[str, tuple[int, str, str | None]] = {
    "context_full": (400, "invalid_request_error", "context_length_exceeded"),
    "bad_request": (400, "invalid_request_error", None),
    "load": (500, "server_error", "model_load_failed"),
    "crash": (500, "server_error", "engine_crashed"),
    "busy": (429, "rate_limit_error", "server_busy"),
}


class ApiError(Exception):
    """A request the server turns down, with the status and body OpenAI would send."""

    def __init__(self, status: int, message: str, type_: str = "invalid_request_error",
                 param: str | None = None, code: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type_
        self.param = param
        self.code = code
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {"error": {"message": self.message, "type": self.type, "param": self.param,
                          "code": self.code}}


def engine_error(kind: ErrorKind | str, message: str) -> ApiError:
    status, type_, code = ENGINE_ERRORS.get(kind, (500, "server_error", None))
    return ApiError(status, message, type_, None, code)


def bad_param(param: str, message: str) -> ApiError:
    return ApiError(400, message, "invalid_request_error", param, "invalid_value")
