"""Errors with a stable ``error_id`` and an HTTP status.

Tree::

    FrontdoorError
     +-- InvalidInput          (422)  bad value from a client; names the field
     +-- NotFound              (404)
     +-- Conflict              (409)  the request is valid but the state does not allow it
     |    +-- IllegalTransition       a state machine refused a transition
     +-- Unauthorised          (401)
     +-- Forbidden             (403)
     +-- ConfigError                 invalid configuration at start (names file, entry, field)
"""

from __future__ import annotations

from typing import Any


class FrontdoorError(Exception):
    error_id = "frontdoor_error"
    status = 500

    def __init__(self, message: str, *, error_id: str | None = None, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        if error_id is not None:
            self.error_id = error_id
        self.details = details

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error_id": self.error_id, "message": self.message}
        if self.details:
            body["details"] = self.details
        return body


class InvalidInput(FrontdoorError):
    error_id = "invalid_input"
    status = 422


class NotFound(FrontdoorError):
    error_id = "not_found"
    status = 404


class Conflict(FrontdoorError):
    error_id = "conflict"
    status = 409


class IllegalTransition(Conflict):
    error_id = "illegal_transition"

    def __init__(self, machine: str, current: str, event: str, expected: tuple[str, ...] = ()) -> None:
        expected_text = f" (allowed from: {', '.join(expected)})" if expected else ""
        super().__init__(
            f"{machine}: cannot {event} from {current}{expected_text}",
            machine=machine,
            current=current,
            event=event,
        )


class Unauthorised(FrontdoorError):
    error_id = "unauthorised"
    status = 401


class Forbidden(FrontdoorError):
    error_id = "forbidden"
    status = 403


class ConfigError(FrontdoorError):
    error_id = "config_invalid"

    def __init__(self, file: str, entry: str, field: str, problem: str) -> None:
        super().__init__(
            f"{file}: entry '{entry}', field '{field}': {problem}",
            file=file,
            entry=entry,
            field=field,
        )
