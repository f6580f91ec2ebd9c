"""/api/v1/ timeline endpoints: a customer's interactions (cursor pages), record one, read one.

Thin: input serializers check shape, ``channels.selectors`` reads, ``channels.services.timeline_ingest``
writes, output serializers answer. A merged-away customer's timeline answers 308 to the survivor's,
as every customer URL of the API does; an unknown customer is a 404.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from channels.choices import Direction, InteractionChannel, InteractionKind
from channels.models import Interaction
from channels.selectors import interaction_timeline_queryset
from channels.services.timeline_ingest import interaction_ingest
from crm.api.fields import DateTimeField
from crm.api.pagination import CursorPagination
from crm.api.permissions import HasPermission
from crm.api.serializers import ModelSerializer
from customers.api.customers import MERGED, CustomerApiMixin

TAGS = ["channels"]


class AgentOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    name = serializers.SerializerMethodField()

    def get_name(self, obj) -> str:
        return obj.get_full_name() or obj.username


class InteractionOutputSerializer(ModelSerializer):
    agent = AgentOutputSerializer(allow_null=True)
    case_number = serializers.SerializerMethodField()

    class Meta:
        model = Interaction
        fields = [
            "id", "customer", "channel", "direction", "kind", "occurred_at", "agent", "subject", "summary", "body",
            "outcome", "duration_seconds", "cost", "currency", "case", "case_number", "conversation",
            "external_id", "metadata",
        ]  # fmt: skip

    def get_case_number(self, obj) -> str | None:
        return obj.case.number if obj.case_id and obj.case else None


class InteractionInputSerializer(serializers.Serializer):
    channel = serializers.ChoiceField(choices=InteractionChannel.choices)
    direction = serializers.ChoiceField(choices=Direction.choices)
    kind = serializers.ChoiceField(choices=InteractionKind.choices)
    customer = serializers.IntegerField(
        required=False, min_value=1, help_text=_lazy("The customer's id; or give email, phone or account_number.")
    )
    email = serializers.CharField(required=False, allow_blank=True, max_length=254)
    phone = serializers.CharField(required=False, allow_blank=True, max_length=40)
    account_number = serializers.CharField(required=False, allow_blank=True, max_length=40)
    subject = serializers.CharField(required=False, allow_blank=True, max_length=255)
    body = serializers.CharField(required=False, allow_blank=True, max_length=200_000,
                                 help_text=_lazy("HTML; sanitised before it is stored."))  # fmt: skip
    summary = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    outcome = serializers.CharField(required=False, allow_blank=True, max_length=100)
    duration_seconds = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=86_400)
    occurred_at = DateTimeField(required=False)
    external_id = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=255,
        help_text=_lazy(
            "Your reference; posting it again on the same channel returns the interaction recorded the first time."
        ),
    )
    metadata = serializers.DictField(required=False)


class InteractionRecordedSerializer(serializers.Serializer):
    interaction = InteractionOutputSerializer()
    created = serializers.BooleanField()
    matched_by = serializers.ListField(child=serializers.CharField())


class InteractionPagination(CursorPagination):
    ordering = ("-occurred_at", "-id")


def _queryset_for_output(queryset):
    return queryset.select_related("agent", "case")


@extend_schema(
    summary=_lazy("A customer's timeline"),
    description=_lazy(
        "Every interaction of the customer, newest first, on every channel. Pages are cursors: follow `next`. "
        "Needs `channels.view_interaction`."
    ),
    parameters=[
        OpenApiParameter(
            "channel",
            OpenApiTypes.STR,
            many=True,
            enum=InteractionChannel.values,
            description=_lazy("Only these channels (repeat the parameter)."),
        ),
        OpenApiParameter(
            "kind",
            OpenApiTypes.STR,
            many=True,
            enum=InteractionKind.values,
            description=_lazy("Only these kinds (repeat the parameter)."),
        ),
        OpenApiParameter("since", OpenApiTypes.DATETIME, description=_lazy("From this time (included).")),
        OpenApiParameter("until", OpenApiTypes.DATETIME, description=_lazy("Before this time (excluded).")),
    ],  # fmt: skip
    responses={200: InteractionOutputSerializer(many=True), 308: MERGED},
    tags=TAGS,
)
class CustomerInteractionListApi(CustomerApiMixin, generics.ListAPIView):
    permission_classes = [HasPermission("channels.view_interaction")]
    serializer_class = InteractionOutputSerializer
    pagination_class = InteractionPagination

    class Filters(serializers.Serializer):
        channel = serializers.ListField(child=serializers.ChoiceField(choices=InteractionChannel.choices),
                                        required=False)  # fmt: skip
        kind = serializers.ListField(child=serializers.ChoiceField(choices=InteractionKind.choices), required=False)
        since = DateTimeField(required=False)
        until = DateTimeField(required=False)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # drf-spectacular reading the view for the schema
            return Interaction.objects.none()
        customer = self.customer(self.kwargs["pk"])
        query = self.request.query_params
        filters = self.Filters(data={"channel": query.getlist("channel"), "kind": query.getlist("kind"),
                                     **{k: query[k] for k in ("since", "until") if query.get(k)}})  # fmt: skip
        filters.is_valid(raise_exception=True)
        values = filters.validated_data
        return interaction_timeline_queryset(
            customer=customer, channels=values.get("channel"), kinds=values.get("kind"),
            since=values.get("since"), until=values.get("until"),
        )  # fmt: skip


class InteractionCreateApi(APIView):
    permission_classes = [HasPermission("channels.add_interaction")]

    @extend_schema(
        summary=_lazy("Record an interaction"),
        description=_lazy(
            "From an integration (telephony, e-commerce, helpdesk...). Name the customer by `customer` id or by "
            "`email` / `phone` / `account_number` (identity resolution; an unknown person is recorded without a "
            "customer). The channel's cost is applied and `body` is sanitised. Idempotent per channel on "
            "`external_id`: 201 the first time, 200 with the same interaction afterwards. Needs "
            "`channels.add_interaction`."
        ),
        request=InteractionInputSerializer,
        responses={
            201: InteractionRecordedSerializer,
            200: OpenApiResponse(InteractionRecordedSerializer, description=_lazy("Already recorded.")),
        },
        tags=TAGS,
    )
    def post(self, request: Request) -> Response:
        data = InteractionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        result = interaction_ingest(
            channel=values["channel"], direction=values["direction"], kind=values["kind"],
            customer_id=values.get("customer"), email=values.get("email", ""), phone=values.get("phone", ""),
            account_number=values.get("account_number", ""), subject=values.get("subject", ""),
            body_html=values.get("body", ""), summary=values.get("summary", ""), outcome=values.get("outcome", ""),
            duration_seconds=values.get("duration_seconds"), occurred_at=values.get("occurred_at"),
            external_id=values.get("external_id", ""), metadata=values.get("metadata"), acting_user=request.user,
        )  # fmt: skip
        interaction = _queryset_for_output(Interaction.objects).get(pk=result.interaction.pk)
        body = {"interaction": InteractionOutputSerializer(interaction).data, "created": result.created,
                "matched_by": result.match_reasons}  # fmt: skip
        return Response(body, status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK)


class InteractionDetailApi(APIView):
    permission_classes = [HasPermission("channels.view_interaction")]

    @extend_schema(
        summary=_lazy("One interaction"),
        description=_lazy("Needs `channels.view_interaction`."),
        responses={200: InteractionOutputSerializer},
        tags=TAGS,
    )
    def get(self, request: Request, pk: int) -> Response:
        interaction = generics.get_object_or_404(_queryset_for_output(Interaction.objects), pk=pk)
        return Response(InteractionOutputSerializer(interaction).data)
