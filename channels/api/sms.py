"""The SMS provider's webhooks: inbound texts and delivery reports, authenticated by a shared token.

``POST /api/v1/channels/sms/inbound/`` and ``POST /api/v1/channels/sms/status/`` carry the header
``X-Relais-Webhook-Token: <SMS_WEBHOOK_TOKEN>``; they are not called by staff, so no user is involved.
"""

from __future__ import annotations

import hmac

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from channels.services.sms import DELIVERY_STATUSES, sms_inbound_receive, sms_status_update
from crm.api.fields import DateTimeField
from crm.api.serializers import ErrorSerializer
from crm.errors import ApplicationError

TAGS = ["channels"]
TOKEN_HEADER = "X-Relais-Webhook-Token"
TOKEN_PARAMETER = OpenApiParameter(
    TOKEN_HEADER, str, OpenApiParameter.HEADER, required=True,
    description=_lazy("The shared secret configured as SMS_WEBHOOK_TOKEN."),
)  # fmt: skip


class SmsWebhookToken(permissions.BasePermission):
    """Only the SMS provider, holding the shared token, may post (401 otherwise; 503 when none is set)."""

    def has_permission(self, request, view) -> bool:
        expected = settings.SMS_WEBHOOK_TOKEN
        if not expected:
            raise ApplicationError(
                "webhook_disabled", _("SMS webhooks are off: SMS_WEBHOOK_TOKEN is not configured."), status_code=503
            )
        given = request.headers.get(TOKEN_HEADER, "")
        if not hmac.compare_digest(given.encode(), expected.encode()):
            raise ApplicationError("invalid_token", _("Missing or wrong webhook token."), status_code=401)
        return True


class SmsInboundInputSerializer(serializers.Serializer):
    # "from" is a Python keyword: the field is declared under another name and renamed below.
    to = serializers.CharField(max_length=40, required=False, allow_blank=True, default="",
                               help_text=_lazy("The number or short code the customer wrote to."))  # fmt: skip
    text = serializers.CharField(max_length=2000, allow_blank=True, trim_whitespace=False)
    message_id = serializers.CharField(max_length=255, help_text=_lazy("The provider's id; a repeat is ignored."))
    received_at = DateTimeField(required=False, allow_null=True, default=None)


SmsInboundInputSerializer._declared_fields["from"] = serializers.CharField(
    max_length=40, help_text=_lazy("The customer's number, in any format (E.164 preferred).")
)


class SmsInboundOutputSerializer(serializers.Serializer):
    created = serializers.BooleanField(help_text=_lazy("False when this message_id was already received."))
    stop = serializers.BooleanField(help_text=_lazy("True when the text was a STOP keyword (consent withdrawn)."))
    customer_ids = serializers.ListField(child=serializers.IntegerField())
    interaction_ids = serializers.ListField(child=serializers.IntegerField())
    case_number = serializers.CharField(allow_null=True)


class SmsInboundApi(APIView):
    authentication_classes: list = []
    permission_classes = [SmsWebhookToken]
    throttle_classes: list = []

    @extend_schema(
        summary=_lazy("Receive an SMS (provider webhook)"),
        description=_lazy(
            "Records a customer's SMS on their timeline. The sender is matched by phone number. STOP, STOP SMS, "
            "ARRET, ARRÊT or UNSUBSCRIBE withdraw the SMS marketing consent and open no case; any other text "
            "goes to the open case of the customer's SMS thread or opens one. Idempotent on message_id."
        ),
        parameters=[TOKEN_PARAMETER],
        request=SmsInboundInputSerializer,
        responses={
            201: SmsInboundOutputSerializer,
            200: OpenApiResponse(SmsInboundOutputSerializer, description=_lazy("Already received (a repeat).")),
            503: OpenApiResponse(ErrorSerializer, description=_lazy("No webhook token is configured.")),
        },
        tags=TAGS,
        auth=[],
    )
    def post(self, request: Request) -> Response:
        serializer = SmsInboundInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            interactions, created = sms_inbound_receive(
                sender=data["from"], recipient=data["to"], text=data["text"], message_id=data["message_id"],
                received_at=data["received_at"],
            )  # fmt: skip
        except ApplicationError as error:
            if error.code == "invalid_phone":
                error.field = "from"
            raise
        case = next((i.case for i in interactions if i.case_id), None)
        body = {
            "created": created,
            "stop": any(i.metadata.get("stop") for i in interactions),
            "customer_ids": [i.customer_id for i in interactions if i.customer_id],
            "interaction_ids": [i.pk for i in interactions],
            "case_number": case.number if case else None,
        }
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class SmsStatusInputSerializer(serializers.Serializer):
    message_id = serializers.CharField(max_length=255, help_text=_lazy("The id the provider answered when sending."))
    status = serializers.ChoiceField(choices=[(s, s) for s in DELIVERY_STATUSES],
                                     help_text=_lazy("'undeliverable' marks the number undeliverable."))  # fmt: skip
    error_code = serializers.CharField(max_length=50, required=False, allow_blank=True, default="")
    error_message = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    occurred_at = DateTimeField(required=False, allow_null=True, default=None)


class SmsStatusOutputSerializer(serializers.Serializer):
    interaction_id = serializers.IntegerField()
    status = serializers.CharField()
    number_undeliverable = serializers.BooleanField()


class SmsStatusApi(APIView):
    authentication_classes: list = []
    permission_classes = [SmsWebhookToken]
    throttle_classes: list = []

    @extend_schema(
        summary=_lazy("Delivery report of an SMS (provider webhook)"),
        description=_lazy(
            "Updates the delivery status of an SMS sent from Relais. A permanent failure ('undeliverable') "
            "marks the customer's mobile number undeliverable, so agents see it and the next SMS is refused."
        ),
        parameters=[TOKEN_PARAMETER],
        request=SmsStatusInputSerializer,
        responses={200: SmsStatusOutputSerializer,
                   503: OpenApiResponse(ErrorSerializer, description=_lazy("No webhook token is configured."))},
        tags=TAGS,
        auth=[],
    )  # fmt: skip
    def post(self, request: Request) -> Response:
        serializer = SmsStatusInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        interaction = sms_status_update(
            message_id=data["message_id"], status=data["status"], error_code=data["error_code"],
            error_message=data["error_message"], at=data["occurred_at"],
        )  # fmt: skip
        return Response(
            {
                "interaction_id": interaction.pk,
                "status": interaction.metadata.get("status", ""),
                "number_undeliverable": data["status"] == "undeliverable",
            }
        )
