"""Control-plane errors in API Gateway's wire format."""

from __future__ import annotations

import json

STATUS = {
    "BadRequestException": 400,
    "UnauthorizedException": 401,
    "NotFoundException": 404,
    "ConflictException": 409,
    "LimitExceededException": 429,
    "TooManyRequestsException": 429,
}


class ApiError(Exception):
    def __init__(self, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = STATUS.get(code, 400)
        self.headers = headers or {}

    def response(self) -> tuple[int, dict[str, str], bytes]:
        headers = {
            "Content-Type": "application/json",
            "x-amzn-ErrorType": self.code,
            **self.headers,
        }
        body = json.dumps({"__type": self.code, "message": self.message}).encode()
        return self.status, headers, body
