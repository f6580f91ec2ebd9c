"""/api/v1/channels/email/inbound/: mail gateways post raw RFC 5322 messages here."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import parsers, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from channels.services.email_in import DUPLICATE, email_inbound_record, email_inbound_record_many
from crm.api.parsers import MultiPartParser
from crm.api.permissions import HasPermission
from crm.api.serializers import ErrorSerializer
from crm.errors import ApplicationError

TAGS = ["channels"]
FORM_FIELDS = ("message", "body-mime", "email")
MAX_BATCH = 100  # messages in one batch post (the field ``message`` repeated)


class RawEmailParser(parsers.BaseParser):
    """``Content-Type: message/rfc822``: the body is the message itself, kept as bytes."""

    media_type = "message/rfc822"

    def parse(self, stream, media_type=None, parser_context=None) -> bytes:
        if stream is None:
            return b""
        limit = settings.EMAIL_INBOUND_MAX_BYTES
        data = stream.read(limit + 1)
        return data


class InboundFormSerializer(serializers.Serializer):
    message = serializers.FileField(help_text=_lazy("The raw message (an .eml file, or the text as a form field)."))


class InboundOutputSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=["created", "duplicate", "auto_reply", "bounce"],
        help_text=_lazy(
            "created: stored on its thread (case opened or reopened); auto_reply: stored, no case; bounce: the "
            "failed addresses were marked undeliverable; duplicate: this Message-ID was already stored."
        ),
    )
    message_id = serializers.CharField()
    interaction = serializers.IntegerField()
    conversation = serializers.IntegerField(allow_null=True)
    case = serializers.IntegerField(allow_null=True)
    case_number = serializers.CharField(allow_null=True)
    customer = serializers.IntegerField(allow_null=True)
    dropped_attachments = serializers.ListField(child=serializers.DictField(), required=False)
    undeliverable = serializers.ListField(child=serializers.CharField(), required=False)


class EmailInboundApi(APIView):
    permission_classes = [HasPermission("channels.ingest_email")]
    parser_classes = [RawEmailParser, MultiPartParser, parsers.FormParser]

    @extend_schema(
        operation_id="channels_email_inbound",
        summary=_lazy("Post an inbound email"),
        description=_lazy(
            "Accepts one raw RFC 5322 message, as mail gateways post them: the body with `Content-Type: "
            "message/rfc822`, or a multipart form field `message` (`body-mime` and `email`, the fields Mailgun and "
            "SendGrid post, are accepted too). The message is threaded by Message-ID / "
            "In-Reply-To / References, its sender matched to a customer, and attached to the thread's open case "
            "or a new one. Posting the same Message-ID again answers 200 with status `duplicate`. "
            "A batch: repeat the form field `message` (at most 100); the messages are stored in one transaction "
            'and the answer (200) is `{"results": [...]}`, one entry per message in order, each as the answer '
            'to one message, or `{"status": "rejected", "error": {"code", "message"}}`.'
        ),
        request={"message/rfc822": OpenApiTypes.BINARY, "multipart/form-data": InboundFormSerializer},
        responses={
            201: OpenApiResponse(InboundOutputSerializer, description=_lazy("Stored (created, auto_reply or bounce).")),
            200: OpenApiResponse(InboundOutputSerializer, description=_lazy("Already stored (duplicate).")),
            400: OpenApiResponse(ErrorSerializer, description=_lazy("The message cannot be stored; the reason.")),
        },
        tags=TAGS,
    )
    def post(self, request: Request) -> Response:
        batch = _raw_batch(request)
        if batch is not None:
            return _batch_response(batch)
        raw = _raw_message(request)
        result = email_inbound_record(raw=raw, source="api")
        body = _result_body(result)
        code = status.HTTP_200_OK if result.status == DUPLICATE else status.HTTP_201_CREATED
        return Response(InboundOutputSerializer(body).data, status=code)


def _result_body(result) -> dict:
    interaction = result.interaction
    return {
        "status": result.status,
        "message_id": interaction.external_id,
        "interaction": interaction.pk,
        "conversation": result.conversation.pk if result.conversation else None,
        "case": result.case.pk if result.case else None,
        "case_number": result.case.number if result.case else None,
        "customer": interaction.customer_id,
        "dropped_attachments": result.dropped,
        "undeliverable": result.undeliverable,
    }


def _raw_batch(request: Request) -> list[bytes] | None:
    """The messages of a batch post (the form field ``message`` given more than once), else None."""
    data = request.data
    if isinstance(data, bytes) or not hasattr(data, "getlist"):
        return None
    values = data.getlist("message")
    if len(values) < 2:
        return None
    if len(values) > MAX_BATCH:
        raise ApplicationError(
            "too_many", _("Post at most %(max)d messages at once.") % {"max": MAX_BATCH}, field="message"
        )
    raws = []
    for value in values:
        raw = value.read(settings.EMAIL_INBOUND_MAX_BYTES + 1) if hasattr(value, "read") else str(value)
        raws.append(raw.encode("utf-8", "surrogateescape") if isinstance(raw, str) else raw)
    return raws


def _batch_response(raws: list[bytes]) -> Response:
    """One transaction for the batch (``email_inbound_record_many``); one answer per message, in order."""
    results = []
    for outcome in email_inbound_record_many(raws, source="api"):
        if isinstance(outcome, ApplicationError):
            results.append({"status": "rejected", "error": {"code": outcome.code, "message": outcome.message}})
        else:
            results.append(InboundOutputSerializer(_result_body(outcome)).data)
    return Response({"results": results}, status=status.HTTP_200_OK)


def _raw_message(request: Request) -> bytes:
    data = request.data
    if isinstance(data, bytes):
        raw = data
    else:
        # "message" is ours; "body-mime" (Mailgun) and "email" (SendGrid's raw inbound parse) are the
        # names the common gateways use, so they can post here without an adapter.
        value = None
        for name in FORM_FIELDS:
            value = data.get(name) if hasattr(data, "get") else None
            if value is not None:
                break
        if value is None:
            raise ApplicationError(
                "required",
                _("Post the raw message as the body (Content-Type: message/rfc822) or as the form field 'message'."),
                field="message",
            )
        if hasattr(value, "read"):
            raw = value.read(settings.EMAIL_INBOUND_MAX_BYTES + 1)
        else:
            raw = str(value).encode("utf-8", "surrogateescape")
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "surrogateescape")
    return raw
