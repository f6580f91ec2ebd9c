"""POST /api/v1/channels/letters/{id}/returned/: the mail house (or the mailroom) reports returned mail."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _lazy
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from channels.access import letter_get_for_user
from channels.choices import LetterStatus
from channels.documents.letters import letter_reference
from channels.services.postal import letter_mark_returned
from crm.api.fields import DateTimeField
from crm.api.permissions import HasPermission
from customers.choices import RecordSource

TAGS = ["channels"]


class LetterReturnedInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="",
                                   help_text=_lazy("Why it came back, as written on the envelope."))  # fmt: skip


class LetterOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reference = serializers.CharField()
    customer_id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=LetterStatus.choices)
    returned_at = DateTimeField(allow_null=True)
    address_lines = serializers.ListField(child=serializers.CharField())
    address_undeliverable = serializers.BooleanField()
    changed = serializers.BooleanField(help_text=_lazy("False when the letter was already marked returned."))


class LetterReturnedApi(APIView):
    permission_classes = [HasPermission("channels.change_letter")]

    @extend_schema(
        summary=_lazy("Mark a letter returned undelivered"),
        description=_lazy(
            "The letter's status becomes 'returned', the address it went to is marked undeliverable (later "
            "letters refuse it) and a 'letter returned' entry goes on the customer's timeline. Idempotent."
        ),
        request=LetterReturnedInputSerializer,
        responses={200: LetterOutputSerializer},
        tags=TAGS,
    )
    def post(self, request: Request, pk: int) -> Response:
        letter = letter_get_for_user(user=request.user, pk=pk, action="change")
        serializer = LetterReturnedInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        letter, changed = letter_mark_returned(
            letter=letter, acting_user=request.user, reason=serializer.validated_data["reason"],
            source=RecordSource.API,
        )  # fmt: skip
        address = letter.address
        return Response(
            LetterOutputSerializer(
                {
                    "id": letter.pk, "reference": letter_reference(letter), "customer_id": letter.customer_id,
                    "status": letter.status, "returned_at": letter.returned_at,
                    "address_lines": [line for line in letter.address_lines if line],
                    "address_undeliverable": bool(address and address.is_undeliverable),
                    "changed": changed,
                }
            ).data
        )  # fmt: skip
