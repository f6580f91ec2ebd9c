"""The web events API: sites post batches of events with their public site key (track.js does).

Authentication is the site key (header ``X-Relais-Site-Key`` or ``site_key`` in the body), checked
with the page's ``Origin`` against the site's allowed origins; CORS preflights are answered for
allowed origins; each site key has its own rate limit (``WEB_EVENTS_RATE``).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from channels.choices import WebEventType
from channels.models import Site
from channels.origins import cors_origin, request_origin_allowed
from channels.services.web import (
    MAX_EVENTS_PER_REQUEST,
    site_for_key,
    web_events_ingest,
    web_events_payload_events,
)
from crm.api.errors import error_body
from crm.api.parsers import JSONParser
from crm.api.serializers import ErrorSerializer

SITE_KEY_HEADER = "X-Relais-Site-Key"
DEFAULT_RATE = "6000/min"
PREFLIGHT_MAX_AGE = "86400"


class EventBatchJSONParser(JSONParser):
    """The API's JSON parser, leaving characters to ``web_events_ingest``, which refuses bad events one by one."""

    check_characters = False


class PlainTextJSONParser(EventBatchJSONParser):
    """``navigator.sendBeacon`` posts ``text/plain`` (a JSON type would need a preflight it cannot make)."""

    media_type = "text/plain"


class SiteKeyAuthentication(BaseAuthentication):
    """The caller is a site: ``request.auth`` is the ``Site`` its key names (the user stays anonymous)."""

    def authenticate(self, request):
        key = request.headers.get(SITE_KEY_HEADER)
        if not key:
            try:
                body = request.data
            except (exceptions.ParseError, exceptions.UnsupportedMediaType):
                return None  # no key to read: 401, before any complaint about the body
            key = body.get("site_key") if isinstance(body, dict) else None
        if not key:
            return None
        site = site_for_key(key)
        if site is None:
            raise exceptions.AuthenticationFailed(_("Unknown site key."), code="invalid_site_key")
        return AnonymousUser(), site

    def authenticate_header(self, request) -> str:
        return 'SiteKey realm="web events"'


class HasActiveSite(BasePermission):
    """An active site, posting from one of its allowed origins (or from a server: no Origin header)."""

    message = _("Give the site key in the X-Relais-Site-Key header or as site_key in the body.")

    def has_permission(self, request, view) -> bool:
        site = request.auth
        if not isinstance(site, Site):
            return False
        if not site.is_active:
            self.message, self.code = _("This site is deactivated."), "site_inactive"
            return False
        if not request_origin_allowed(request, site=site, servers_allowed=True):
            self.message = _("This origin is not allowed for the site; add it to the site's allowed origins.")
            self.code = "origin_not_allowed"
            return False
        return True


class SiteKeyRateThrottle(SimpleRateThrottle):
    """Counts calls per site key (shared by every visitor of the site), in the Redis cache."""

    scope = "web_events"

    @property
    def THROTTLE_RATES(self):  # noqa: N802 (DRF's name)
        rates = api_settings.DEFAULT_THROTTLE_RATES
        return {**rates, "web_events": rates.get("web_events") or getattr(settings, "WEB_EVENTS_RATE", DEFAULT_RATE)}

    def get_cache_key(self, request, view):
        if isinstance(request.auth, Site):
            return self.cache_format % {"scope": self.scope, "ident": request.auth.pk}
        return None


EVENT_FIELDS_SCHEMA = {
    "type": serializers.ChoiceField(choices=WebEventType.choices),
    "visitor_id": serializers.CharField(max_length=64),
    "session_id": serializers.CharField(max_length=64),
    "occurred_at": serializers.DateTimeField(),
    "url": serializers.CharField(max_length=1000, required=False),
    "title": serializers.CharField(max_length=300, required=False),
    "product_sku": serializers.CharField(max_length=64, required=False),
    "properties": serializers.DictField(required=False, help_text="At most 2 KB of JSON."),
}
BatchIn = inline_serializer(
    "WebEventBatchIn",
    {
        "site_key": serializers.CharField(required=False, help_text="Or the X-Relais-Site-Key header."),
        "events": inline_serializer(
            "WebEventIn", EVENT_FIELDS_SCHEMA, many=True, help_text=f"1 to {MAX_EVENTS_PER_REQUEST} events."
        ),  # fmt: skip
    },
)
BatchOut = inline_serializer(
    "WebEventBatchOut",
    {
        "accepted": serializers.IntegerField(),
        "rejected": inline_serializer(
            "WebEventRejected", {"index": serializers.IntegerField(), "errors": serializers.DictField()}, many=True
        ),
    },
)


class WebEventIngestApi(APIView):
    """Receive a batch of web events from a site."""

    authentication_classes = [SiteKeyAuthentication]
    permission_classes = [HasActiveSite]
    throttle_classes = [SiteKeyRateThrottle]
    parser_classes = [EventBatchJSONParser, PlainTextJSONParser]

    def get_permissions(self):
        return [] if self.request.method == "OPTIONS" else super().get_permissions()

    def get_throttles(self):
        return [] if self.request.method == "OPTIONS" else super().get_throttles()

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        site = getattr(request, "_auth", None)
        if request.method != "OPTIONS":
            allowed_origin = cors_origin(request, site=site if isinstance(site, Site) else None)
            if allowed_origin:
                response["Access-Control-Allow-Origin"] = allowed_origin
                response["Vary"] = "Origin"
        return response

    @extend_schema(exclude=True)
    def options(self, request, *args, **kwargs):
        origin = cors_origin(request, site=None)
        if not origin:
            message = str(_("This origin is not allowed to post events; add it to a site's allowed origins."))
            return Response(error_body(code="origin_not_allowed", message=message, status_code=403), status=403)
        response = Response(status=204)
        response["Access-Control-Allow-Origin"] = origin
        response["Access-Control-Allow-Methods"] = "POST, OPTIONS"
        response["Access-Control-Allow-Headers"] = f"Content-Type, {SITE_KEY_HEADER}"
        response["Access-Control-Max-Age"] = PREFLIGHT_MAX_AGE
        response["Vary"] = "Origin"
        return response

    @extend_schema(
        operation_id="channels_events_create",
        summary="Post a batch of web events",
        description=(
            "Page views, product views, cart events, form submits, clicks and sign-ins from a web site, "
            f"1 to {MAX_EVENTS_PER_REQUEST} per request, authenticated by the site's public key. Each "
            "invalid event is refused with its index and reasons; the others are stored. A `login` or "
            "`form_submit` event whose properties carry `customer_email`, `customer_account` or "
            "`customer_external_id` + `customer_external_source` matching one customer exactly links the "
            "visitor to that customer."
        ),
        auth=[],
        parameters=[OpenApiParameter(SITE_KEY_HEADER, str, OpenApiParameter.HEADER, required=False)],
        request=BatchIn,
        responses={
            200: BatchOut,
            400: OpenApiResponse(
                ErrorSerializer, description="Malformed request (not a JSON object, no events, too many)."
            ),
            401: OpenApiResponse(ErrorSerializer, description="Missing or unknown site key."),
            403: OpenApiResponse(ErrorSerializer, description="Site deactivated or origin not allowed."),
            429: OpenApiResponse(ErrorSerializer, description="Rate limit of the site key reached."),
        },
    )
    def post(self, request, *args, **kwargs):
        events = web_events_payload_events(request.data)
        result = web_events_ingest(site=request.auth, events=events)
        return Response({"accepted": result.accepted, "rejected": result.rejected})
