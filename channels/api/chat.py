"""The widget API (/api/v1/widget/<site key>/...): chat and call-back for visitors of a customer's site.

Public endpoints for browsers: no session, no API token. The site key in the path names the site; the
page must be one of that site's allowed origins or Relais's own (``channels.origins``: the Origin header,
else Sec-Fetch-Site or the Referer); CORS headers answer only those.
Inside a chat, the token returned by "start" is required: header ``X-Chat-Token`` (or ``token`` in the
query string for the event stream, since ``EventSource`` cannot send headers).
"""

from __future__ import annotations

import json

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import permissions, renderers, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from channels import realtime
from channels.origins import cors_origin, request_origin_allowed
from channels.services import callbacks as callback_services
from channels.services import chat as chat_services
from crm.api.fields import DateTimeField
from crm.errors import ApplicationError

TAGS = ["widget"]
TOKEN_HEADER = "X-Chat-Token"
TOKEN_PARAMETER = OpenApiParameter(TOKEN_HEADER, OpenApiTypes.STR, OpenApiParameter.HEADER, required=True,
                                   description=_lazy("The token returned when the chat started."))  # fmt: skip


class WidgetRateThrottle(SimpleRateThrottle):
    """Counts a visitor's calls per IP address and site (``WIDGET_RATE``, default 120/min)."""

    scope = "widget"

    def get_rate(self):
        # Read per request (not at import) so a changed setting takes effect; WIDGET_RATE wins when set.
        from rest_framework.settings import api_settings

        return getattr(settings, "WIDGET_RATE", None) or api_settings.DEFAULT_THROTTLE_RATES.get("widget", "120/min")

    def get_cache_key(self, request, view):
        site_key = view.kwargs.get("site_key", "")
        return self.cache_format % {"scope": self.scope, "ident": f"{site_key}:{self.get_ident(request)}"}


class EventStreamRenderer(renderers.BaseRenderer):
    media_type = "text/event-stream"
    format = "sse"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        # Only errors are rendered here (the stream itself is a StreamingHttpResponse): as an SSE comment.
        return f": {json.dumps(data)}\n\n".encode()


class WidgetApi(APIView):
    """Base: public, CORS for the site's allowed origins, throttled per IP."""

    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]
    throttle_classes = [WidgetRateThrottle]

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        site = chat_services.site_for_widget(key=kwargs.get("site_key", ""))
        if not request_origin_allowed(request, site=site, servers_allowed=False):
            raise ApplicationError(
                "origin_not_allowed", _("This page's origin is not allowed for this site."), status_code=403
            )
        self.site = site

    def options(self, request, *args, **kwargs):
        # The preflight of a cross-origin POST with a JSON body or the token header.
        return Response(status=status.HTTP_204_NO_CONTENT)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        site = getattr(self, "site", None)
        if site is None and request.headers.get("Origin"):
            # Errors raised before the site was known (a throttled call) still reach an allowed origin's page.
            try:
                site = chat_services.site_for_widget(key=kwargs.get("site_key", ""))
            except ApplicationError:
                site = None
        allowed_origin = cors_origin(request, site=site) if site is not None else None
        if allowed_origin:
            response["Access-Control-Allow-Origin"] = allowed_origin
            response["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
            response["Access-Control-Allow-Headers"] = f"Content-Type, {TOKEN_HEADER}"
            response["Access-Control-Max-Age"] = "600"
        response["Vary"] = "Origin"
        return response

    def chat(self, request: Request, pk: int, *, token: str | None = None):
        token = token if token is not None else request.headers.get(TOKEN_HEADER, "")
        return chat_services.chat_for_token(conversation_id=pk, token=token, site=self.site)


class ChatStartInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    email = serializers.EmailField(
        required=False, allow_blank=True, max_length=254,
        help_text=_lazy("What the visitor says their email is: shown to agents as claimed, not verified; it never "
                        "links the chat to a customer by itself."),
    )  # fmt: skip
    message = serializers.CharField(max_length=chat_services.MESSAGE_MAX_LENGTH, trim_whitespace=True)
    visitor_id = serializers.CharField(required=False, allow_blank=True, max_length=64)
    url = serializers.CharField(required=False, allow_blank=True, max_length=1000)


class ChatLineSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    author = serializers.ChoiceField(choices=["visitor", "agent", "system"])
    body = serializers.CharField(help_text=_lazy("Plain text: display it as text, never as HTML."))
    pushed_url = serializers.CharField(help_text=_lazy("Set when the agent pushed a page (http or https)."))
    agent = serializers.CharField(help_text=_lazy("The answering agent's first name."))
    created_at = DateTimeField()


class ChatStartOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    token = serializers.CharField(help_text=_lazy("Shown once: send it as X-Chat-Token on every later call."))
    status = serializers.CharField()
    messages = ChatLineSerializer(many=True)


class ChatStateSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    messages = ChatLineSerializer(many=True)


class ChatPostInputSerializer(serializers.Serializer):
    body = serializers.CharField(max_length=chat_services.MESSAGE_MAX_LENGTH)


def _state(conversation, *, after: int = 0) -> dict:
    lines = chat_services.chat_lines(conversation=conversation, after=after).select_related("agent")
    return {
        "id": conversation.pk,
        "status": conversation.status,
        "messages": [chat_services.line_payload(line) for line in lines],
    }


class ChatStartApi(WidgetApi):
    @extend_schema(
        summary=_lazy("Start a chat"),
        description=_lazy(
            "Opens a chat waiting for an agent, with the visitor's first message. Returns the token the "
            "widget sends as `X-Chat-Token` afterwards (only its hash is stored). The request's Origin "
            "must be one of the site's allowed origins."
        ),
        request=ChatStartInputSerializer,
        responses={201: ChatStartOutputSerializer},
        auth=[],
        tags=TAGS,
    )
    def post(self, request: Request, site_key: str) -> Response:
        data = ChatStartInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        started = chat_services.chat_start(site=self.site, **data.validated_data)
        body = _state(started.conversation)
        body["token"] = started.token
        return Response(body, status=status.HTTP_201_CREATED)


class ChatMessagesApi(WidgetApi):
    @extend_schema(
        summary=_lazy("Read a chat's messages"),
        description=_lazy("The chat's status and its messages after message id `after` (0: all), oldest first."),
        parameters=[TOKEN_PARAMETER, OpenApiParameter("after", OpenApiTypes.INT, required=False)],
        responses={200: ChatStateSerializer},
        auth=[],
        tags=TAGS,
    )
    def get(self, request: Request, site_key: str, pk: int) -> Response:
        conversation = self.chat(request, pk)
        try:
            after = max(0, int(request.query_params.get("after", 0)))
        except ValueError:
            raise ApplicationError("invalid", _("“after” must be a message id."), field="after") from None
        return Response(_state(conversation, after=after))

    @extend_schema(
        summary=_lazy("Post a visitor message"),
        parameters=[TOKEN_PARAMETER],
        request=ChatPostInputSerializer,
        responses={201: ChatLineSerializer, 409: OpenApiResponse(description=_lazy("The chat has ended."))},
        auth=[],
        tags=TAGS,
    )
    def post(self, request: Request, site_key: str, pk: int) -> Response:
        conversation = self.chat(request, pk)
        data = ChatPostInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        line = chat_services.chat_visitor_post(conversation=conversation, body=data.validated_data["body"])
        return Response(chat_services.line_payload(line), status=status.HTTP_201_CREATED)


class ChatEndApi(WidgetApi):
    @extend_schema(
        summary=_lazy("End a chat"),
        description=_lazy("The visitor closes the chat; it is recorded on the timeline. Ending twice is harmless."),
        parameters=[TOKEN_PARAMETER],
        request=None,
        responses={200: ChatStateSerializer},
        auth=[],
        tags=TAGS,
    )
    def post(self, request: Request, site_key: str, pk: int) -> Response:
        conversation = chat_services.chat_visitor_end(conversation=self.chat(request, pk))
        return Response(_state(conversation))


class ChatStreamApi(WidgetApi):
    renderer_classes = [EventStreamRenderer, renderers.JSONRenderer]

    @extend_schema(
        summary=_lazy("Stream a chat (server-sent events)"),
        description=_lazy(
            "Events `line` (a message as JSON, the same shape as in the message list) and `status`. The "
            "stream ends after about a minute; EventSource reconnects, then read the messages after the "
            "last id you have."
        ),
        parameters=[OpenApiParameter("token", OpenApiTypes.STR, required=True)],
        responses={(200, "text/event-stream"): OpenApiTypes.STR},
        auth=[],
        tags=TAGS,
    )
    def get(self, request: Request, site_key: str, pk: int):
        conversation = self.chat(request, pk, token=request.query_params.get("token", ""))
        chat_services.db_release_for_stream()
        return realtime.sse_response(request._request, [chat_services.chat_topic(conversation.pk)])


class CallbackInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=120)
    phone = serializers.CharField(max_length=40)
    preferred_from = DateTimeField()
    preferred_to = DateTimeField()
    reason = serializers.CharField(max_length=255)
    visitor_id = serializers.CharField(required=False, allow_blank=True, max_length=64)


class CallbackOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    phone = serializers.CharField(help_text=_lazy("E.164"))
    preferred_from = DateTimeField()
    preferred_to = DateTimeField()
    status = serializers.CharField()


class CallbackRequestApi(WidgetApi):
    @extend_schema(
        summary=_lazy("Ask for a call-back"),
        description=_lazy(
            "A visitor asks to be called back in a time slot (business hours, Monday to Friday 09:00-18:00 "
            "Paris time, not a public holiday, not in the past). The phone may be typed in any common format."
        ),
        request=CallbackInputSerializer,
        responses={201: CallbackOutputSerializer},
        auth=[],
        tags=TAGS,
    )
    def post(self, request: Request, site_key: str) -> Response:
        data = CallbackInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        callback = callback_services.callback_request(site=self.site, **data.validated_data)
        return Response(
            CallbackOutputSerializer(callback).data,
            status=status.HTTP_201_CREATED,
        )
