"""OpenAPI schema generation: every operation documents the API's error format.

Registered as ``REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"] = "crm.api.schema.AutoSchema"``. It adds the
``Error`` component (``crm.api.serializers.ErrorSerializer``, the shape ``crm.api.errors`` produces)
and references it for 400, 401, 403, 404 and 429 on every operation that does not document those
codes itself, and it describes the token authentication scheme.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular import openapi
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiResponse

ERROR_RESPONSES = {
    "400": _("Invalid request: the error's `fields` names each invalid field (code `validation_error`)."),
    "401": _("No credentials, or a malformed, unknown or revoked token."),
    "403": _("The caller lacks the permission this endpoint needs."),
    "404": _("No such object, or one the caller may not see."),
    "429": _("Too many requests for this token or user; retry after the `Retry-After` header's seconds."),
}


class AutoSchema(openapi.AutoSchema):
    def _get_response_bodies(self, direction="response"):
        # drf-spectacular has no public hook for responses every operation shares; this one method
        # builds the response map, so the error codes are added to what the view itself declared.
        from crm.api.serializers import ErrorSerializer

        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for code, description in ERROR_RESPONSES.items():
            if code not in responses:
                responses[code] = self._get_response_for_code(
                    OpenApiResponse(ErrorSerializer, description=str(description)), code, direction=direction
                )
        return responses


class ApiTokenAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "crm.api.authentication.ApiTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": str(
                _("An API token created on the API tokens page, sent as `Authorization: Token <key>` (or `Bearer`).")
            ),
        }
