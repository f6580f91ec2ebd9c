"""/api/v1/customers/: the customer record, its contact points, addresses and consent ledger.

Views are thin: an input serializer checks the request, ``customers.access`` fetches and authorises,
a service in ``customers.services.records`` writes, an output serializer answers. A merged-away
customer's URLs answer 308 to the survivor's (DESIGN.md: merged ids redirect). There is no DELETE of
a customer: erasure is ``POST /api/v1/customers/{id}/erase/``.
"""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django_filters import rest_framework as django_filters
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from crm.api.errors import error_body
from crm.api.permissions import HasPermission
from crm.errors import ApplicationError
from customers.access import customer_get_for_user, customer_survivor
from customers.api import serializers as s
from customers.choices import Channel, ConsentSource, Purpose, RecordSource
from customers.filters import CustomerFilter
from customers.models import Consent, ContactPoint, Customer, CustomerExternalId, PostalAddress
from customers.selectors import consent_effective
from customers.services import records

TAGS = ["customers"]
MERGED = OpenApiResponse(
    s.MergedErrorSerializer,
    description=_lazy("The customer was merged into another: `Location` and `error.survivor` name the survivor."),
)


class MergedAway(Exception):  # noqa: N818 (a control-flow signal, not an error)
    def __init__(self, survivor: Customer) -> None:
        self.survivor = survivor


def customer_queryset() -> QuerySet[Customer]:
    """Customers with what the output serializer reads, prefetched (one query per relation per page)."""
    return Customer.objects.prefetch_related(
        Prefetch(
            "contact_points", queryset=ContactPoint.objects.only("id", "customer_id", "kind", "value", "is_primary")
        ),
        Prefetch("addresses", queryset=PostalAddress.objects.all()),
        Prefetch("external_ids", queryset=CustomerExternalId.objects.order_by("source", "value")),
    )


class CustomerApiMixin:
    """Fetch the customer of the URL for an action; a merged-away one redirects to its survivor."""

    def handle_exception(self, exc):
        if isinstance(exc, MergedAway):
            return merged_response(self.request, exc.survivor)
        return super().handle_exception(exc)

    def customer(self, pk: int, action: str = "view", *, live: bool = False) -> Customer:
        customer = customer_get_for_user(user=self.request.user, pk=pk, action=action)
        if customer.merged_into_id is not None:
            raise MergedAway(customer_survivor(customer))
        if live and not customer.is_live:
            raise ApplicationError(
                "not_live", _("This customer was anonymised and cannot be changed."), status_code=409
            )
        return customer


def merged_response(request: Request, survivor: Customer) -> Response:
    match = request.resolver_match
    kwargs = {**match.kwargs, "pk": survivor.pk}
    location = request.build_absolute_uri(reverse(match.view_name, kwargs=kwargs))
    body = error_body(
        code="merged",
        message=_("This customer was merged into %(account)s.") % {"account": survivor.account_number},
        status_code=status.HTTP_308_PERMANENT_REDIRECT,
    )
    body["error"]["survivor"] = survivor.pk
    return Response(body, status=status.HTTP_308_PERMANENT_REDIRECT, headers={"Location": location})


def _output(customer: Customer) -> dict:
    return s.CustomerOutputSerializer(customer_queryset().get(pk=customer.pk)).data


@extend_schema_view(
    get=extend_schema(
        summary=_lazy("List customers"),
        description=_lazy(
            "Customers that were not merged away, newest first, filtered. Pages are cursors: follow `next`."
        ),
        responses=s.CustomerOutputSerializer(many=True),
        tags=TAGS,
    ),
    post=extend_schema(
        summary=_lazy("Create a customer"),
        description=_lazy(
            "With emails, phones, AFNOR addresses, external ids and custom attributes; all or "
            "nothing. Needs `customers.add_customer`."
        ),
        request=s.CustomerCreateInputSerializer,
        responses={201: s.CustomerOutputSerializer},
        tags=TAGS,
    ),
)
class CustomerListCreateApi(generics.ListAPIView):
    permission_classes = [HasPermission("customers.view_customer")]
    serializer_class = s.CustomerOutputSerializer
    filter_backends = [django_filters.DjangoFilterBackend]
    filterset_class = CustomerFilter

    def get_permissions(self):
        extra = [HasPermission("customers.add_customer")] if self.request.method == "POST" else []
        return [*super().get_permissions(), *extra]

    def get_queryset(self) -> QuerySet[Customer]:
        return customer_queryset().filter(merged_into__isnull=True)

    def post(self, request: Request) -> Response:
        serializer = s.CustomerCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        customer = records.customer_create(
            data=records.CustomerInput(**data), acting_user=request.user, source=RecordSource.API
        )
        return Response(_output(customer), status=status.HTTP_201_CREATED)


@extend_schema_view(
    get=extend_schema(summary=_lazy("A customer"), responses={200: s.CustomerOutputSerializer, 308: MERGED}, tags=TAGS),
    patch=extend_schema(
        summary=_lazy("Change a customer"),
        description=_lazy("Only the fields sent change; a new `stage` is recorded with the time it was entered."),
        request=s.CustomerUpdateInputSerializer,
        responses={200: s.CustomerOutputSerializer, 308: MERGED},
        tags=TAGS,
    ),
)
class CustomerDetailApi(CustomerApiMixin, APIView):
    permission_classes = [HasPermission("customers.view_customer")]

    def get(self, request: Request, pk: int) -> Response:
        return Response(_output(self.customer(pk)))

    def patch(self, request: Request, pk: int) -> Response:
        customer = self.customer(pk, "change", live=True)
        serializer = s.CustomerUpdateInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        customer = records.customer_update(
            customer=customer, acting_user=request.user, source=RecordSource.API, **serializer.validated_data
        )
        return Response(_output(customer))


@extend_schema_view(
    get=extend_schema(
        summary=_lazy("A customer's contact points"),
        responses={200: s.ContactPointOutputSerializer(many=True), 308: MERGED},
        tags=TAGS,
    ),
    post=extend_schema(
        summary=_lazy("Add a contact point"),
        description=_lazy(
            "Normalised (lower-case email, E.164 phone; mobile or fixed detected). Adding one the "
            "customer already has returns it with 200."
        ),
        request=s.ContactPointInputSerializer,
        responses={201: s.ContactPointOutputSerializer, 200: s.ContactPointOutputSerializer, 308: MERGED},
        tags=TAGS,
    ),
)
class ContactPointListApi(CustomerApiMixin, APIView):
    permission_classes = [HasPermission("customers.view_customer")]

    def get(self, request: Request, pk: int) -> Response:
        customer = self.customer(pk)
        return Response(s.ContactPointOutputSerializer(customer.contact_points.all(), many=True).data)

    def post(self, request: Request, pk: int) -> Response:
        customer = self.customer(pk, "change", live=True)
        serializer = s.ContactPointInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        known = set(customer.contact_points.values_list("pk", flat=True))
        point = records.contact_point_add(
            customer=customer, acting_user=request.user, source=RecordSource.API, **serializer.validated_data
        )
        code = status.HTTP_200_OK if point.pk in known else status.HTTP_201_CREATED
        return Response(s.ContactPointOutputSerializer(point).data, status=code)


@extend_schema_view(
    delete=extend_schema(summary=_lazy("Remove a contact point"), responses={204: None, 308: MERGED}, tags=TAGS)
)
class ContactPointDetailApi(CustomerApiMixin, APIView):
    permission_classes = [HasPermission("customers.view_customer")]

    def delete(self, request: Request, pk: int, contact_point_id: int) -> Response:
        customer = self.customer(pk, "change", live=True)
        point = generics.get_object_or_404(ContactPoint, customer=customer, pk=contact_point_id)
        records.contact_point_remove(contact_point=point, acting_user=request.user, source=RecordSource.API)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    get=extend_schema(
        summary=_lazy("A customer's postal addresses"),
        responses={200: s.AddressOutputSerializer(many=True), 308: MERGED},
        tags=TAGS,
    ),
    post=extend_schema(
        summary=_lazy("Add a postal address"),
        description=_lazy(
            "Lines follow AFNOR NF Z10-011: at most 38 characters, line 6 is built from the postcode "
            "and city. A primary address demotes the previous one."
        ),
        request=s.AddressInputSerializer,
        responses={201: s.AddressOutputSerializer, 308: MERGED},
        tags=TAGS,
    ),
)
class AddressListApi(CustomerApiMixin, APIView):
    permission_classes = [HasPermission("customers.view_customer")]

    def get(self, request: Request, pk: int) -> Response:
        customer = self.customer(pk)
        return Response(s.AddressOutputSerializer(customer.addresses.all(), many=True).data)

    def post(self, request: Request, pk: int) -> Response:
        customer = self.customer(pk, "change", live=True)
        serializer = s.AddressInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        address = records.address_add(
            customer=customer, data=serializer.validated_data, acting_user=request.user, source=RecordSource.API
        )
        return Response(s.AddressOutputSerializer(address).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    patch=extend_schema(
        summary=_lazy("Change a postal address"),
        request=s.AddressPatchInputSerializer,
        responses={200: s.AddressOutputSerializer, 308: MERGED},
        tags=TAGS,
    )
)
class AddressDetailApi(CustomerApiMixin, APIView):
    permission_classes = [HasPermission("customers.view_customer")]

    def patch(self, request: Request, pk: int, address_id: int) -> Response:
        customer = self.customer(pk, "change", live=True)
        address = generics.get_object_or_404(PostalAddress, customer=customer, pk=address_id)
        serializer = s.AddressPatchInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        current = {
            name: getattr(address, name)
            for name in ("line2", "line3", "line4", "line5", "postcode", "city", "country", "valid_from")
        }
        # line1 left out keeps the recipient line the customer's name; sent, it replaces it.
        current["line1"] = address.line1
        merged = s.AddressInputSerializer(
            data={**current, "is_primary": address.is_primary, **serializer.validated_data}
        )
        merged.is_valid(raise_exception=True)
        address = records.address_update(
            address=address, data=merged.validated_data, acting_user=request.user, source=RecordSource.API
        )
        return Response(s.AddressOutputSerializer(address).data)


@extend_schema_view(
    get=extend_schema(
        summary=_lazy("A customer's consents"),
        description=_lazy("The ledger (append-only) and the state in force per channel and purpose."),
        responses={200: s.ConsentsOutputSerializer, 308: MERGED},
        tags=TAGS,
    ),
    post=extend_schema(
        summary=_lazy("Record a consent"),
        description=_lazy(
            "Appends an entry to the ledger (source `api` unless given). Entries are never edited or "
            "deleted: PUT, PATCH and DELETE answer 405. Needs `customers.record_consent`."
        ),
        request=s.ConsentInputSerializer,
        responses={201: s.ConsentOutputSerializer, 308: MERGED},
        tags=TAGS,
    ),
)
class ConsentListApi(CustomerApiMixin, APIView):
    permission_classes = [HasPermission("customers.view_customer")]

    def get(self, request: Request, pk: int) -> Response:
        customer = self.customer(pk)
        effective = consent_effective(customer=customer)
        states = []
        for channel in Channel.values:
            for purpose in Purpose.values:
                entry = effective.get((channel, purpose))
                states.append(
                    {
                        "channel": channel,
                        "purpose": purpose,
                        "status": entry.status if entry else None,
                        "occurred_at": entry.occurred_at if entry else None,
                        "source": entry.source if entry else None,
                    }
                )
        ledger = Consent.objects.filter(customer=customer).order_by("-occurred_at", "-id")
        return Response(s.ConsentsOutputSerializer({"effective": states, "ledger": ledger}).data)

    def post(self, request: Request, pk: int) -> Response:
        customer = self.customer(pk, "consent", live=True)
        serializer = s.ConsentInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        entry = records.consent_record(
            customer=customer, acting_user=request.user, **{**data, "source": data.get("source") or ConsentSource.API}
        )
        return Response(s.ConsentOutputSerializer(entry).data, status=status.HTTP_201_CREATED)
