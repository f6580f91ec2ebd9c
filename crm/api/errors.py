"""The one error format of the API, used by every endpoint and every kind of failure.

    {"error": {"code": "validation_error", "message": "...", "status": 400,
               "fields": {"email": [{"code": "invalid", "message": "Enter a valid email address."}]}}}

``fields`` appears on validation errors only; nested serializers use dotted paths
(``lines.0.quantity``) and errors not tied to one field use the key ``non_field_errors``.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from crm.errors import ApplicationError

__all__ = ["ApplicationError", "error_body", "error_response", "exception_handler", "flatten_errors"]


def flatten_errors(detail, prefix: str = "") -> dict[str, list[dict[str, str]]]:
    fields: dict[str, list[dict[str, str]]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            fields.update(flatten_errors(value, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(detail, list):
        if all(isinstance(item, (exceptions.ErrorDetail, str)) for item in detail):
            fields[prefix or "non_field_errors"] = [
                {"code": getattr(item, "code", None) or "invalid", "message": str(item)} for item in detail
            ]
        else:
            for index, item in enumerate(detail):
                fields.update(flatten_errors(item, f"{prefix}.{index}" if prefix else str(index)))
    else:
        code = getattr(detail, "code", None) or "invalid"
        fields[prefix or "non_field_errors"] = [{"code": code, "message": str(detail)}]
    return fields


def error_body(*, code: str, message: str, status_code: int, fields: dict | None = None) -> dict:
    body = {"code": code, "message": message, "status": status_code}
    if fields:
        body["fields"] = fields
    return {"error": body}


def too_many_error() -> ApplicationError:
    return ApplicationError("too_many", _("The request has too many fields or files."))


def too_large_error() -> ApplicationError:
    return ApplicationError("too_large", _("The request body is too large."), status_code=413)


def exception_handler(exc, context):
    """DRF's exception hook: every error leaves the API in the format above."""
    if isinstance(exc, ApplicationError):
        fields = {exc.field: [{"code": exc.code, "message": exc.message}]} if exc.field else None
        return Response(
            error_body(code=exc.code, message=exc.message, status_code=exc.status_code, fields=fields),
            status=exc.status_code,
        )
    if isinstance(exc, RequestDataTooBig):
        # Django's body limits (DATA_UPLOAD_MAX_*) raise SuspiciousOperation: a 400 HTML page, or a
        # debug page with DEBUG on. A client sending too much deserves the API's answer instead.
        return exception_handler(too_large_error(), context)
    if isinstance(exc, (TooManyFieldsSent, TooManyFilesSent)):
        return exception_handler(too_many_error(), context)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # an unexpected error: Django's 500 handling and logging take over

    if isinstance(exc, exceptions.ValidationError):
        body = error_body(
            code="validation_error",
            message=_("The request has invalid fields."),
            status_code=response.status_code,
            fields=flatten_errors(exc.detail),
        )
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        code = getattr(detail, "code", None) or getattr(exc, "default_code", "error")
        if isinstance(exc, exceptions.Throttled):
            code = "throttled"
        body = error_body(code=str(code), message=str(detail), status_code=response.status_code)
    response.data = body
    return response


def error_response(*, code: str, message: str, status_code: int = status.HTTP_400_BAD_REQUEST) -> Response:
    return Response(error_body(code=code, message=message, status_code=status_code), status=status_code)
