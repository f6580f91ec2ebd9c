"""POST /api/v1/channels/calls/: call events from the telephony system (HMAC-signed), answering the screen pop."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _lazy
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import permissions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from channels.choices import CallState, Direction
from channels.services.calls import EVENTS, call_event_process, call_event_verify
from crm.api.fields import DateTimeField
from crm.api.serializers import ErrorSerializer

TAGS = ["channels"]
TIMESTAMP_HEADER = "X-Relais-Timestamp"
SIGNATURE_HEADER = "X-Relais-Signature"


class SignedCallEvent(permissions.BasePermission):
    """Only the telephony system, proven by the HMAC of the raw body with the shared secret, may post.

    A refusal raises ``ApplicationError`` (401, or 503 when no secret is configured), which the API's
    exception handler turns into the error format.
    """

    def has_permission(self, request, view) -> bool:
        call_event_verify(
            timestamp=request.headers.get(TIMESTAMP_HEADER),
            signature=request.headers.get(SIGNATURE_HEADER),
            body=request._request.body,
        )
        return True


class CallEventInputSerializer(serializers.Serializer):
    event = serializers.ChoiceField(choices=[(event, event) for event in EVENTS])
    call_id = serializers.CharField(max_length=100, help_text=_lazy("The telephony system's id of the call."))
    caller_number = serializers.CharField(
        max_length=40, allow_blank=True, help_text=_lazy("In any format: 06 12 34 56 78, +33612345678, 0033 6...")
    )
    called_line = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    agent_extension = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
    occurred_at = DateTimeField(required=False, allow_null=True, default=None)
    direction = serializers.ChoiceField(choices=Direction.choices, required=False, default=Direction.INBOUND)


class CallOpenCaseOutputSerializer(serializers.Serializer):
    number = serializers.CharField()
    subject = serializers.CharField()
    status = serializers.CharField()
    status_label = serializers.CharField()
    priority = serializers.CharField()
    due_at = DateTimeField(allow_null=True)


class CallContactOutputSerializer(serializers.Serializer):
    channel = serializers.CharField()
    channel_label = serializers.CharField()
    direction = serializers.CharField()
    kind = serializers.CharField()
    occurred_at = DateTimeField()
    subject = serializers.CharField()
    outcome = serializers.CharField()


class CallLastCallOutputSerializer(serializers.Serializer):
    occurred_at = DateTimeField()
    direction = serializers.CharField()
    reason = serializers.CharField()
    summary = serializers.CharField()
    outcome = serializers.CharField()


class CallCustomerCardOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    account_number = serializers.CharField()
    name = serializers.CharField()
    kind = serializers.CharField()
    stage = serializers.CharField()
    stage_label = serializers.CharField()
    owner = serializers.CharField(allow_null=True)
    consents = serializers.DictField(
        child=serializers.CharField(allow_null=True),
        help_text=_lazy("Marketing consent per channel: granted, withdrawn or null (never asked)."),
    )
    open_cases = CallOpenCaseOutputSerializer(many=True)
    last_contacts = CallContactOutputSerializer(many=True, help_text=_lazy("The last 5 contacts on any channel."))
    last_call = CallLastCallOutputSerializer(allow_null=True)
    url = serializers.CharField(help_text=_lazy("The customer's 360 page."))


class CallCandidateOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    account_number = serializers.CharField()
    name = serializers.CharField()
    stage = serializers.CharField()
    url = serializers.CharField()


class CallEventOutputSerializer(serializers.Serializer):
    call_id = serializers.CharField()
    session_id = serializers.IntegerField()
    event = serializers.CharField()
    state = serializers.ChoiceField(choices=CallState.choices)
    agent_id = serializers.IntegerField(allow_null=True, help_text=_lazy("The agent of the extension, if known."))
    customer = CallCustomerCardOutputSerializer(
        allow_null=True, help_text=_lazy("On ringing: the caller's card when the number matched one customer.")
    )
    candidates = CallCandidateOutputSerializer(
        many=True, required=False, help_text=_lazy("On ringing, when several customers share the number.")
    )
    interaction_id = serializers.IntegerField(allow_null=True, help_text=_lazy("Set once the call is on the timeline."))
    duration_seconds = serializers.IntegerField(allow_null=True)


class CallEventApi(APIView):
    authentication_classes: list = []
    permission_classes = [SignedCallEvent]
    throttle_classes: list = []

    @extend_schema(
        summary=_lazy("Post a call event (computer-telephony integration)"),
        description=_lazy(
            "The telephony system posts ringing, answered, ended and missed events. Sign each request: "
            "`X-Relais-Timestamp` (Unix seconds, within 5 minutes of now) and `X-Relais-Signature`, the hex "
            "HMAC-SHA256 of `<timestamp>.<raw body>` with the shared secret CTI_SHARED_SECRET. On ringing the "
            "answer carries the caller's customer card (or `candidates` when the number is shared, or "
            "`customer: null`), and the agent of `agent_extension` gets a screen pop. Ended and missed calls "
            "become one phone interaction. Each (call_id, event) pair is accepted once (409 afterwards)."
        ),
        parameters=[
            OpenApiParameter(TIMESTAMP_HEADER, str, OpenApiParameter.HEADER, required=True),
            OpenApiParameter(SIGNATURE_HEADER, str, OpenApiParameter.HEADER, required=True),
        ],
        request=CallEventInputSerializer,
        responses={
            200: CallEventOutputSerializer,
            401: OpenApiResponse(ErrorSerializer, description=_lazy("Missing or bad signature, or a stale timestamp.")),
            409: OpenApiResponse(ErrorSerializer, description=_lazy("This event of this call was already processed.")),
            503: OpenApiResponse(ErrorSerializer, description=_lazy("No CTI_SHARED_SECRET configured.")),
        },
        tags=TAGS,
    )
    def post(self, request: Request) -> Response:
        serializer = CallEventInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        result = call_event_process(**serializer.validated_data)
        session = result.session
        interaction_id = session.interaction_id
        body = {
            "call_id": session.call_id,
            "session_id": session.pk,
            "event": result.event,
            "state": session.state,
            "agent_id": session.agent_id,
            "customer": result.customer_card,
            "interaction_id": interaction_id,
            "duration_seconds": None,
        }
        if result.candidates is not None:
            body["candidates"] = result.candidates
        if session.answered_at and session.ended_at:
            body["duration_seconds"] = int((session.ended_at - session.answered_at).total_seconds())
        return Response(CallEventOutputSerializer(body).data)
