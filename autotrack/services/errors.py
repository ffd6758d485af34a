"""Domain errors: raised by services, turned into a page or a JSON error by the caller."""


class DomainError(Exception):
    """A refused request; `status` is the HTTP status a web or API caller should answer with."""

    status = 400
    code = "bad_request"

    def __init__(self, message, fields=None):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}

    def to_dict(self):
        error = {"code": self.code, "message": self.message}
        if self.fields:
            error["fields"] = self.fields
        return {"error": error}


class ValidationError(DomainError):
    status = 422
    code = "validation_error"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class NotFound(DomainError):
    """Also what another organization's object looks like: it does not exist for you."""

    status = 404
    code = "not_found"

    def __init__(self, message="Not found.", fields=None):
        super().__init__(message, fields)


class InvalidTransition(DomainError):
    status = 409
    code = "invalid_transition"


class Unauthorized(DomainError):
    """No valid credentials (API: a missing, expired, forged or revoked token)."""

    status = 401
    code = "unauthorized"


class TooManyRequests(DomainError):
    status = 429
    code = "too_many_requests"

    def __init__(self, message, retry_after):
        super().__init__(message)
        self.retry_after = retry_after
