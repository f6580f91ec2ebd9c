"""/api/v1/cases/: the service desk's cases (list with filters, create, read, change).

Thin: input serializers check shapes, ``channels.services.cases`` applies the rules (status transitions,
SLA recomputation, assignment), output serializers answer. Reading needs ``channels.view_case``;
creating ``channels.add_case``; changing ``channels.change_case``.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _lazy
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from channels.access import case_get_for_user
from channels.choices import CaseCategory, CasePriority, CaseStatus, InteractionChannel
from channels.models import Case, Queue
from channels.selectors_desk import CaseFilters, case_list_queryset
from channels.services import cases
from crm.api.pagination import CursorPagination
from crm.api.permissions import HasPermission
from crm.api.serializers import ModelSerializer
from customers.choices import RecordSource
from customers.models import Customer

TAGS = ["cases"]


class CaseOutputSerializer(ModelSerializer):
    customer = serializers.IntegerField(source="customer_id", allow_null=True, read_only=True)
    queue = serializers.IntegerField(source="queue_id", allow_null=True, read_only=True)
    assignee = serializers.IntegerField(source="assignee_id", allow_null=True, read_only=True)
    url = serializers.SerializerMethodField()

    class Meta:
        model = Case
        fields = ["id", "number", "customer", "subject", "description", "category", "priority", "status", "channel",
                  "queue", "assignee", "first_response_due_at", "resolution_due_at", "first_responded_at",
                  "resolved_at", "closed_at", "first_response_breached", "resolution_breached", "reopened_count",
                  "created_at", "updated_at", "url"]  # fmt: skip

    def get_url(self, case: Case) -> str:
        return case.get_absolute_url()


class CaseCreateInputSerializer(serializers.Serializer):
    subject = serializers.CharField(max_length=255)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    category = serializers.ChoiceField(choices=CaseCategory.choices, default=CaseCategory.REQUEST)
    priority = serializers.ChoiceField(choices=CasePriority.choices, default=CasePriority.NORMAL)
    channel = serializers.ChoiceField(choices=InteractionChannel.choices, default=InteractionChannel.PHONE)
    customer = serializers.PrimaryKeyRelatedField(queryset=Customer.objects.all(), required=False, allow_null=True)
    queue = serializers.PrimaryKeyRelatedField(queryset=Queue.objects.filter(is_active=True), required=False,
                                               allow_null=True)  # fmt: skip
    assignee = serializers.PrimaryKeyRelatedField(queryset=get_user_model().objects.filter(is_active=True),
                                                  required=False, allow_null=True)  # fmt: skip


class CasePatchInputSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=CaseStatus.choices, required=False)
    priority = serializers.ChoiceField(choices=CasePriority.choices, required=False)
    category = serializers.ChoiceField(choices=CaseCategory.choices, required=False)
    assignee = serializers.PrimaryKeyRelatedField(queryset=get_user_model().objects.filter(is_active=True),
                                                  required=False, allow_null=True)  # fmt: skip
    queue = serializers.PrimaryKeyRelatedField(queryset=Queue.objects.filter(is_active=True), required=False,
                                               allow_null=True)  # fmt: skip


class CaseListFilterInputSerializer(serializers.Serializer):
    """The list's query parameters: an unknown value is a 400 naming it, not a silently unfiltered list."""

    status = serializers.ChoiceField(choices=CaseStatus.values, required=False)
    queue = serializers.IntegerField(min_value=1, max_value=2**63 - 1, required=False)
    assignee = serializers.RegexField(r"^(me|none|[0-9]{1,18})$", required=False)
    category = serializers.ChoiceField(choices=CaseCategory.choices, required=False)
    priority = serializers.ChoiceField(choices=CasePriority.choices, required=False)
    breached = serializers.ChoiceField(choices=["any", "first_response", "resolution"], required=False)
    customer = serializers.IntegerField(min_value=1, max_value=2**63 - 1, required=False)
    q = serializers.CharField(max_length=255, required=False)

    @classmethod
    def check(cls, params) -> None:
        # A blank parameter means "no filter", as the desk's HTML form sends it.
        given = {name: params[name].strip() for name in cls._declared_fields if (params.get(name) or "").strip()}
        cls(data=given).is_valid(raise_exception=True)


FILTER_PARAMETERS = [
    OpenApiParameter(
        "status",
        str,
        enum=CaseStatus.values,
        description=_lazy("A status, or `open` for new, open and waiting."),
    ),
    OpenApiParameter("queue", int, description=_lazy("Queue id.")),
    OpenApiParameter("assignee", str, description=_lazy("A user id, `me` or `none`.")),
    OpenApiParameter("category", str, enum=CaseCategory.values),
    OpenApiParameter("priority", str, enum=CasePriority.values),
    OpenApiParameter("breached", str, enum=["any", "first_response", "resolution"]),
    OpenApiParameter("customer", int, description=_lazy("Customer id.")),
    OpenApiParameter("q", str, description=_lazy("A case number, or words of the subject.")),
]


class CasePagination(CursorPagination):
    ordering = ("-created_at", "-id")


@extend_schema_view(
    get=extend_schema(summary=_lazy("List cases"), parameters=FILTER_PARAMETERS,
                      description=_lazy("Newest first, filtered. Pages are cursors: follow `next`."),
                      responses=CaseOutputSerializer(many=True), tags=TAGS),
    post=extend_schema(
        summary=_lazy("Open a case"),
        description=_lazy("SLA due dates come from the category's policy; an unassigned case is assigned by its "
                          "queue's rule. Needs `channels.add_case`."),
        request=CaseCreateInputSerializer,
        responses={201: CaseOutputSerializer},
        tags=TAGS,
    ),
)  # fmt: skip
class CaseListCreateApi(generics.ListAPIView):
    permission_classes = [HasPermission("channels.view_case")]
    serializer_class = CaseOutputSerializer
    pagination_class = CasePagination

    def get_permissions(self):
        extra = [HasPermission("channels.add_case")] if self.request.method == "POST" else []
        return [*super().get_permissions(), *extra]

    def get_queryset(self):
        CaseListFilterInputSerializer.check(self.request.query_params)
        filters = CaseFilters.from_params(self.request.query_params)
        return case_list_queryset(filters=filters, user=self.request.user)

    def post(self, request: Request) -> Response:
        serializer = CaseCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        case = cases.case_create_by_agent(acting_user=request.user, source=RecordSource.API,
                                          **serializer.validated_data)  # fmt: skip
        return Response(CaseOutputSerializer(case).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    get=extend_schema(summary=_lazy("A case"), responses={200: CaseOutputSerializer}, tags=TAGS),
    patch=extend_schema(
        summary=_lazy("Change a case"),
        description=_lazy(
            "Only the fields sent change, all or nothing. `status` follows the allowed transitions (a resolved "
            "or closed case reopens to `open`); a new `category` or `priority` recomputes the due dates from "
            "the case's creation. Needs `channels.change_case`."
        ),
        request=CasePatchInputSerializer,
        responses={200: CaseOutputSerializer},
        tags=TAGS,
    ),
)
class CaseDetailApi(APIView):
    permission_classes = [HasPermission("channels.view_case")]

    def get_permissions(self):
        extra = [HasPermission("channels.change_case")] if self.request.method == "PATCH" else []
        return [*super().get_permissions(), *extra]

    def get(self, request: Request, pk: int) -> Response:
        case = case_get_for_user(user=request.user, pk=pk)
        return Response(CaseOutputSerializer(case).data)

    def patch(self, request: Request, pk: int) -> Response:
        case = case_get_for_user(user=request.user, pk=pk, action="change")
        serializer = CasePatchInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        case = cases.case_update(case=case, acting_user=request.user, source=RecordSource.API,
                                 **serializer.validated_data)  # fmt: skip
        return Response(CaseOutputSerializer(case).data)
