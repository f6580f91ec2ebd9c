"""/api/v1/ endpoints of the project package: the caller, their API tokens, the staff directory.

Views are thin: an input serializer checks the request, a service (``crm.services``) or a selector
does the work, an output serializer shapes the answer. Every view lists its permission classes; the
error responses every endpoint may give are documented by ``crm.api.schema.AutoSchema``.
"""

from __future__ import annotations

import operator
from functools import reduce

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db.models import Prefetch, Q, QuerySet
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as django_filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import filters, generics, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from crm import services
from crm.api.permissions import HasPermission, SessionOnly
from crm.api.serializers import (
    ApiTokenCreatedOutputSerializer,
    ApiTokenCreateInputSerializer,
    ApiTokenOutputSerializer,
    MeOutputSerializer,
    StaffOutputSerializer,
)
from crm.models import ApiToken
from crm.roles import ROLE_PERMISSIONS


@extend_schema_view(
    get=extend_schema(
        summary=_("The caller"),
        description=_("Who the caller is: their account, roles and every permission they hold."),
        responses=MeOutputSerializer,
        tags=["account"],
    )
)
class MeApi(APIView):
    permission_classes = [IsAuthenticated]

    def get(self, request: Request) -> Response:
        return Response(MeOutputSerializer(request.user).data)


@extend_schema_view(
    get=extend_schema(
        summary=_("List my API tokens"),
        description=_("The caller's tokens, active and revoked, newest first. Keys are never listed."),
        tags=["account"],
    ),
    post=extend_schema(
        summary=_("Create an API token"),
        description=_(
            "The response carries the secret key; it is never returned again. Needs a signed-in browser "
            "session: a request authenticated by a token gets 403."
        ),
        request=ApiTokenCreateInputSerializer,
        responses={201: ApiTokenCreatedOutputSerializer},
        tags=["account"],
    ),
)
class ApiTokenListCreateApi(generics.ListAPIView):
    """The caller's tokens; POST creates one."""

    permission_classes = [HasPermission("crm.use_api_tokens")]
    serializer_class = ApiTokenOutputSerializer
    filter_backends: list = []

    def get_queryset(self) -> QuerySet[ApiToken]:
        return ApiToken.objects.filter(user=self.request.user)

    def get_permissions(self):
        # Creating a key needs a person at a browser: a leaked key must not be able to mint more.
        extra = [SessionOnly()] if self.request.method == "POST" else []
        return [*super().get_permissions(), *extra]

    def post(self, request: Request) -> Response:
        serializer = ApiTokenCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        token, key = services.api_token_create(
            user=request.user, name=serializer.validated_data["name"], acting_user=request.user
        )
        response = Response(
            ApiTokenCreatedOutputSerializer(token, context={"key": key}).data, status=status.HTTP_201_CREATED
        )
        add_never_cache_headers(response)
        return response


@extend_schema_view(
    delete=extend_schema(
        summary=_("Revoke an API token"),
        description=_("Revoking is immediate and idempotent. Another staff member's token answers 404."),
        responses={204: None},
        tags=["account"],
    )
)
class ApiTokenDetailApi(APIView):
    permission_classes = [HasPermission("crm.use_api_tokens")]

    def delete(self, request: Request, id: int) -> Response:  # noqa: A002 (the documented path parameter)
        token = services.api_token_get_for_user(user=request.user, pk=id)
        services.api_token_revoke(token=token, acting_user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class StaffFilter(django_filters.FilterSet):
    role = django_filters.ChoiceFilter(
        field_name="groups__name",
        choices=[(name, name) for name in ROLE_PERMISSIONS],
        help_text=_("Only staff holding this role."),
    )
    is_active = django_filters.BooleanFilter(help_text=_("Only active (true) or deactivated (false) accounts."))
    search = django_filters.CharFilter(
        method="filter_search",
        help_text=_("Words that must each appear in the first name, last name, username or email."),
    )

    class Meta:
        model = get_user_model()
        fields = ["role", "is_active", "search"]

    def filter_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        for word in value.split()[:10]:
            queryset = queryset.filter(
                reduce(
                    operator.or_,
                    (Q(**{f"{field}__icontains": word}) for field in ("first_name", "last_name", "username", "email")),
                )
            )
        return queryset


@extend_schema_view(
    get=extend_schema(
        summary=_("Staff directory"),
        description=_("Staff members with their roles, by username. Pages are cursors: follow `next`."),
        tags=["staff"],
    )
)
class StaffListApi(generics.ListAPIView):
    permission_classes = [HasPermission("crm.view_user")]
    serializer_class = StaffOutputSerializer
    filter_backends = [django_filters.DjangoFilterBackend, filters.OrderingFilter]
    filterset_class = StaffFilter
    ordering_fields = ["username", "id"]
    ordering = ["username"]

    def get_queryset(self) -> QuerySet:
        return get_user_model().objects.prefetch_related(Prefetch("groups", queryset=Group.objects.only("id", "name")))
