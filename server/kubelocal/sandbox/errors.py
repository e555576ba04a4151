"""Errors of the sandbox's API server, shaped like the Kubernetes API's `Status` failures.

Exception tree::

    ApiError                 any failure the API server reports (code, reason, message, details)
    ├── BadRequest           400 malformed request or object that cannot be decoded
    ├── Unauthorized         401 no or unknown bearer token
    ├── Forbidden            403 e.g. creating in a namespace that is being terminated
    ├── NotFound             404 the object, namespace or resource does not exist
    ├── MethodNotAllowed     405 the verb is not supported on that resource
    ├── AlreadyExists        409 create of a name that exists
    ├── Conflict             409 stale resourceVersion or failed precondition
    ├── Gone                 410 watch/list from a resourceVersion older than the retained history
    ├── UnsupportedMediaType 415 patch type or content type the server does not take
    └── Invalid              422 object fails validation; `details.causes` lists each field

Messages follow the real API server's wording, because clients (kubectl, the official client and
kubelocal itself) show them to people and sometimes match on them.
"""

from __future__ import annotations

import dataclasses
from typing import Any


@dataclasses.dataclass(frozen=True)
class Cause:
    """One field-level problem, as in `Status.details.causes`."""

    reason: str  # FieldValueInvalid, FieldValueRequired, FieldValueNotSupported, FieldValueDuplicate...
    message: str
    field: str

    def to_dict(self) -> dict[str, str]:
        return {"reason": self.reason, "message": self.message, "field": self.field}


class ApiError(Exception):
    """A failure the API server reports as a `Status` object with an HTTP code."""

    code: int = 500
    reason: str = "InternalError"

    def __init__(
        self,
        message: str,
        *,
        kind: str | None = None,
        name: str | None = None,
        group: str | None = None,
        causes: list[Cause] | None = None,
        retry_after_seconds: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details: dict[str, Any] = {}
        if name is not None:
            self.details["name"] = name
        if group is not None:
            self.details["group"] = group
        if kind is not None:
            self.details["kind"] = kind
        if causes:
            self.details["causes"] = [cause.to_dict() for cause in causes]
        if retry_after_seconds is not None:
            self.details["retryAfterSeconds"] = retry_after_seconds

    def to_status(self) -> dict[str, Any]:
        """The `Status` object the real API server returns for this failure."""
        status: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if self.details:
            status["details"] = dict(self.details)
        return status


class BadRequest(ApiError):
    code = 400
    reason = "BadRequest"


class Unauthorized(ApiError):
    code = 401
    reason = "Unauthorized"


class Forbidden(ApiError):
    code = 403
    reason = "Forbidden"


class NotFound(ApiError):
    code = 404
    reason = "NotFound"


class MethodNotAllowed(ApiError):
    code = 405
    reason = "MethodNotAllowed"


class AlreadyExists(ApiError):
    code = 409
    reason = "AlreadyExists"


class Conflict(ApiError):
    code = 409
    reason = "Conflict"


class Gone(ApiError):
    code = 410
    reason = "Expired"


class UnsupportedMediaType(ApiError):
    code = 415
    reason = "UnsupportedMediaType"


class Invalid(ApiError):
    code = 422
    reason = "Invalid"


def qualified_resource(plural: str, group: str) -> str:
    """`pods`, `deployments.apps`: how the real server names a resource in messages."""
    return f"{plural}.{group}" if group else plural


def not_found(*, plural: str, group: str, name: str) -> NotFound:
    return NotFound(
        f'{qualified_resource(plural, group)} "{name}" not found', kind=plural, name=name, group=group or None
    )


def already_exists(*, plural: str, group: str, name: str) -> AlreadyExists:
    return AlreadyExists(
        f'{qualified_resource(plural, group)} "{name}" already exists',
        kind=plural,
        name=name,
        group=group or None,
    )


def conflict(*, plural: str, group: str, name: str, why: str | None = None) -> Conflict:
    """409 for a stale resourceVersion (or a failed precondition when `why` is given)."""
    why = why or "the object has been modified; please apply your changes to the latest version and try again"
    return Conflict(
        f'Operation cannot be fulfilled on {qualified_resource(plural, group)} "{name}": {why}',
        kind=plural,
        name=name,
        group=group or None,
    )


def invalid(*, kind: str, group: str, name: str, causes: list[Cause]) -> Invalid:
    """422 with the real server's message: `Deployment.apps "x" is invalid: field: message, ...`."""
    qualified_kind = f"{kind}.{group}" if group else kind
    details = ", ".join(
        f"{cause.field}: {cause.message}" if cause.field else cause.message for cause in causes
    )
    if len(causes) > 1:
        details = f"[{details}]"
    return Invalid(
        f'{qualified_kind} "{name}" is invalid: {details}',
        kind=kind,
        name=name,
        group=group or None,
        causes=causes,
    )
