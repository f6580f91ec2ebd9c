"""/api/v1/customers/resolve/, .../{id}/merge/, and the GDPR endpoints .../{id}/export/ and .../{id}/erase/."""

from __future__ import annotations

from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from crm.api.permissions import HasPermission
from crm.api.serializers import ErrorSerializer
from customers.access import customer_get_for_user
from customers.api.customers import MERGED, CustomerApiMixin, _output, customer_queryset
from customers.api.serializers import CustomerOutputSerializer
from customers.choices import RecordSource

TAGS = ["customers"]


class ExternalIdInputSerializer(serializers.Serializer):
    source = serializers.CharField(max_length=50)
    value = serializers.CharField(max_length=100)


class ResolveInputSerializer(serializers.Serializer):
    email = serializers.CharField(required=False, allow_blank=True, max_length=254)
    phone = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=50,
        help_text=_lazy("In any format: 06 12 34 56 78, +33612345678, 0033 6..."),
    )
    account_number = serializers.CharField(required=False, allow_blank=True, max_length=16)
    external_id = ExternalIdInputSerializer(required=False)
    given_name = serializers.CharField(required=False, allow_blank=True, max_length=100)
    family_name = serializers.CharField(required=False, allow_blank=True, max_length=100)
    company_name = serializers.CharField(required=False, allow_blank=True, max_length=200)
    postcode = serializers.CharField(required=False, allow_blank=True, max_length=12)
    birth_date = serializers.DateField(required=False, allow_null=True)
    limit = serializers.IntegerField(required=False, min_value=1, max_value=20, default=5)


class CandidateOutputSerializer(serializers.Serializer):
    customer = CustomerOutputSerializer()
    confidence = serializers.FloatField(help_text=_lazy("From 0 to 1."))
    reasons = serializers.ListField(child=serializers.CharField())


class ResolveOutputSerializer(serializers.Serializer):
    match = CustomerOutputSerializer(
        allow_null=True, help_text=_lazy("Set only when one customer is the clear answer.")
    )
    confidence = serializers.FloatField()
    reasons = serializers.ListField(child=serializers.CharField())
    candidates = CandidateOutputSerializer(many=True, help_text=_lazy("Best first; ambiguous results stay here."))


class ResolveApi(APIView):
    permission_classes = [HasPermission("customers.view_customer")]

    @extend_schema(
        summary=_lazy("Resolve an identity"),
        description=_lazy(
            "Finds the customer these details describe: exact matches on email, phone (any format), "
            "account number or external id first, then names with postcode or birth date. An "
            "ambiguous answer has no `match`, only `candidates`. Read-only."
        ),
        request=ResolveInputSerializer,
        responses={200: ResolveOutputSerializer},
        tags=TAGS,
    )
    def post(self, request: Request) -> Response:
        from customers.services.identity import identity_resolve

        serializer = ResolveInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        external_id = data.pop("external_id", None)
        if external_id:
            data["external_id"] = (external_id["source"], external_id["value"])
        data = {name: value for name, value in data.items() if value not in (None, "")}
        result = identity_resolve(**data)
        ids = {candidate.customer.pk for candidate in result.candidates}
        if result.match is not None:
            ids.add(result.match.pk)
        customers = {customer.pk: customer for customer in customer_queryset().filter(pk__in=ids)}
        answer = {
            "match": customers[result.match.pk] if result.match is not None else None,
            "confidence": result.confidence,
            "reasons": result.reasons,
            "candidates": [
                {"customer": customers[c.customer.pk], "confidence": c.confidence, "reasons": c.reasons}
                for c in result.candidates
            ],
        }
        return Response(ResolveOutputSerializer(answer).data)


class MergeInputSerializer(serializers.Serializer):
    duplicate = serializers.IntegerField(min_value=1, help_text=_lazy("The customer merged into this one."))
    overrides = serializers.DictField(
        child=serializers.ChoiceField(choices=["survivor", "duplicate"]),
        required=False,
        default=dict,
        help_text=_lazy("Per field, whose value to keep, overriding the survivorship rules."),
    )


class MergeApi(CustomerApiMixin, APIView):
    permission_classes = [HasPermission("customers.merge_customer")]

    @extend_schema(
        summary=_lazy("Merge a duplicate into this customer"),
        description=_lazy(
            "One transaction: contact points combined, every related row re-pointed, the duplicate "
            "kept as a tombstone whose URLs redirect here. Answers the surviving customer."
        ),
        request=MergeInputSerializer,
        responses={200: CustomerOutputSerializer, 308: MERGED},
        tags=TAGS,
    )
    def post(self, request: Request, pk: int) -> Response:
        from customers.services.merge import customer_merge

        survivor = self.customer(pk, "merge", live=True)
        serializer = MergeInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            duplicate = customer_get_for_user(
                user=request.user, pk=serializer.validated_data["duplicate"], action="merge"
            )
        except Http404:
            raise exceptions.ValidationError(
                {"duplicate": [exceptions.ErrorDetail(_("No such customer."), code="not_found")]}
            ) from None
        survivor = customer_merge(
            survivor=survivor,
            duplicate=duplicate,
            acting_user=request.user,
            overrides=serializer.validated_data["overrides"],
            source=RecordSource.API,
        )
        return Response(_output(survivor))


class ExportApi(CustomerApiMixin, APIView):
    permission_classes = [HasPermission("customers.export_customer")]

    @extend_schema(
        summary=_lazy("Export a customer's personal data"),
        description=_lazy(
            "Everything Relais holds about the customer, every table with a customer key, as JSON "
            "(GDPR right of access and portability). The export is recorded in the history."
        ),
        responses={200: OpenApiResponse(OpenApiTypes.OBJECT, description=_lazy("The data, by table.")), 308: MERGED},
        tags=TAGS,
    )
    def get(self, request: Request, pk: int) -> Response:
        from customers.services.gdpr import customer_export_data

        customer = self.customer(pk, "export")
        data = customer_export_data(customer=customer, acting_user=request.user, source=RecordSource.API)
        response = Response(data)
        response["Content-Disposition"] = f'attachment; filename="{customer.account_number}.json"'
        response["Cache-Control"] = "no-store"
        return response


class EraseInputSerializer(serializers.Serializer):
    confirm = serializers.CharField(help_text=_lazy("The customer's account number, typed again to confirm."))


class EraseApi(CustomerApiMixin, APIView):
    permission_classes = [HasPermission("customers.erase_customer")]

    @extend_schema(
        summary=_lazy("Erase a customer's personal data"),
        description=_lazy(
            "Irreversible: anonymises names, contact points, addresses, free text and history values, "
            "keeping orders and aggregates for statistics. The body must repeat the account number."
        ),
        request=EraseInputSerializer,
        responses={
            200: CustomerOutputSerializer,
            308: MERGED,
            409: OpenApiResponse(
                ErrorSerializer, description=_lazy("Already anonymised (error code `already_anonymised`).")
            ),
        },
        tags=TAGS,
    )
    def post(self, request: Request, pk: int) -> Response:
        from customers.services.gdpr import customer_erase

        customer = self.customer(pk, "erase")
        serializer = EraseInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        if serializer.validated_data["confirm"].strip().upper() != customer.account_number.upper():
            raise exceptions.ValidationError(
                {
                    "confirm": [
                        exceptions.ErrorDetail(
                            _("Type the customer's account number (%(account)s) to confirm the erasure.")
                            % {"account": customer.account_number},
                            code="confirmation_mismatch",
                        )
                    ]
                }
            )
        customer = customer_erase(customer=customer, acting_user=request.user, source=RecordSource.API)
        return Response(_output(customer), status=status.HTTP_200_OK)
