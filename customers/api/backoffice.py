"""Idempotent upserts by external id: one record by PUT, up to ``BULK_LIMIT`` records by POST .../bulk/.

A bulk request answers 200 with one result per record (``created``, ``updated``, ``unchanged`` or
``error`` with the record's field errors); good records are saved, a bad one writes nothing. The
records are validated one by one here (shape and types), then handed to the service in one call so
it can work set-based (``customers.services.backoffice``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from crm.api.errors import error_body, flatten_errors
from crm.api.permissions import HasPermission
from customers.api import backoffice_serializers as b
from customers.api.serializers import CustomerUpsertInputSerializer
from customers.choices import RecordSource
from customers.services import backoffice
from customers.services.backoffice import ERROR, UpsertRejected, UpsertResult

TAGS = ["back office"]
BULK_DESCRIPTION = _lazy(
    'Creates or updates up to 5,000 records in one request (`{"records": [...]}`). The answer lists one '
    "result per record, in order: `created`, `updated`, `unchanged` (nothing to change: sending the same "
    "payload twice is safe) or `error` with the record's field errors. Good records are saved; a refused "
    "record writes nothing."
)
SINGLE_RESPONSES = {
    200: OpenApiResponse(b.UpsertResultSerializer, description=_lazy("Updated, or unchanged.")),
    201: OpenApiResponse(b.UpsertResultSerializer, description=_lazy("Created.")),
}


def _permissions(model: str) -> list[HasPermission]:
    return [HasPermission(f"customers.add_{model}"), HasPermission(f"customers.change_{model}")]


def _rejected_response(error: UpsertRejected) -> Response:
    body = error_body(
        code="validation_error",
        message=_("The request has invalid fields."),
        status_code=status.HTTP_400_BAD_REQUEST,
        fields=error.errors,
    )
    return Response(body, status=status.HTTP_400_BAD_REQUEST)


def upsert_one(request: Request, serializer_class, service: Callable, **fixed) -> Response:
    """Validate one record (URL parts in ``fixed`` win over the body), upsert it, answer 201/200 or 400."""
    body = request.data if isinstance(request.data, dict) else {}
    serializer = serializer_class(data={**body, **fixed})
    serializer.is_valid(raise_exception=True)
    try:
        result = service(data=serializer.validated_data, acting_user=request.user, source=RecordSource.API)
    except UpsertRejected as error:
        return _rejected_response(error)
    code = status.HTTP_201_CREATED if result.status == backoffice.CREATED else status.HTTP_200_OK
    return Response(result.as_dict(), status=code)


def upsert_bulk(request: Request, serializer_class, service: Callable) -> Response:
    """Validate each record on its own, upsert the valid ones in one service call, answer every result."""
    records = request.data.get("records") if isinstance(request.data, dict) else None
    if not isinstance(records, list):
        raise exceptions.ValidationError(
            {"records": [exceptions.ErrorDetail(_("Give the records as a list."), code="required")]}
        )
    backoffice.bulk_limit_check(len(records))
    validator = serializer_class()
    results: list[UpsertResult | None] = [None] * len(records)
    valid: list[tuple[int, dict]] = []
    for index, record in enumerate(records):
        try:
            valid.append((index, validator.run_validation(record)))
        except serializers.ValidationError as error:
            results[index] = UpsertResult(index=index, status=ERROR, errors=flatten_errors(error.detail))
    if valid:
        saved = service(records=[data for _index, data in valid], acting_user=request.user, source=RecordSource.API)
        for (index, _data), result in zip(valid, saved, strict=True):
            result.index = index
            results[index] = result
    counts = Counter(result.status for result in results)
    return Response(
        {
            "results": [result.as_dict() for result in results],
            "created": counts["created"],
            "updated": counts["updated"],
            "unchanged": counts["unchanged"],
            "errors": counts[ERROR],
        }
    )


def _bulk_schema(serializer, summary):
    return extend_schema(
        summary=summary,
        description=BULK_DESCRIPTION,
        request=serializer,
        responses={200: b.BulkOutputSerializer},
        tags=TAGS,
    )


def _single_schema(serializer, summary, description):
    return extend_schema(
        summary=summary, description=description, request=serializer, responses=SINGLE_RESPONSES, tags=TAGS
    )


class CustomerUpsertApi(APIView):
    permission_classes = _permissions("customer")

    @_single_schema(
        CustomerUpsertInputSerializer,
        _lazy("Upsert a customer by external id"),
        _lazy(
            "Creates the customer holding this external id, or updates the fields sent and adds the "
            "emails, phones and addresses it lacks (none is removed). Idempotent."
        ),
    )
    def put(self, request: Request, source: str, external_id: str) -> Response:
        return upsert_one(
            request, CustomerUpsertInputSerializer, backoffice.customer_upsert, source=source, external_id=external_id
        )


class CustomerBulkUpsertApi(APIView):
    permission_classes = _permissions("customer")

    @_bulk_schema(b.CustomerBulkInputSerializer, _lazy("Upsert customers in bulk"))
    def post(self, request: Request) -> Response:
        return upsert_bulk(request, CustomerUpsertInputSerializer, backoffice.customer_bulk_upsert)


class ProductUpsertApi(APIView):
    permission_classes = _permissions("product")

    @_single_schema(
        b.ProductInputSerializer,
        _lazy("Upsert a product by external id"),
        _lazy("Finds the product by source and external id (then by SKU); creates it if none. Idempotent."),
    )
    def put(self, request: Request, source: str, external_id: str) -> Response:
        return upsert_one(
            request, b.ProductInputSerializer, backoffice.product_upsert, source=source, external_id=external_id
        )


class ProductSkuUpsertApi(APIView):
    permission_classes = _permissions("product")

    @_single_schema(
        b.ProductInputSerializer,
        _lazy("Upsert a product by SKU"),
        _lazy("Creates or updates the product with this SKU. Idempotent."),
    )
    def put(self, request: Request, sku: str) -> Response:
        return upsert_one(request, b.ProductInputSerializer, backoffice.product_upsert, sku=sku)


class ProductBulkUpsertApi(APIView):
    permission_classes = _permissions("product")

    @_bulk_schema(b.ProductBulkInputSerializer, _lazy("Upsert products in bulk"))
    def post(self, request: Request) -> Response:
        return upsert_bulk(request, b.ProductInputSerializer, backoffice.product_bulk_upsert)


class OrderUpsertApi(APIView):
    permission_classes = _permissions("order")

    @_single_schema(
        b.OrderInputSerializer,
        _lazy("Upsert an order by external id"),
        _lazy(
            "An order is unique per customer, source and external id; its lines are replaced by "
            "the ones sent. The customer is named by Relais id, account number or external id. "
            "Idempotent."
        ),
    )
    def put(self, request: Request, source: str, external_id: str) -> Response:
        return upsert_one(
            request, b.OrderInputSerializer, backoffice.order_upsert, source=source, external_id=external_id
        )


class OrderBulkUpsertApi(APIView):
    permission_classes = _permissions("order")

    @_bulk_schema(b.OrderBulkInputSerializer, _lazy("Upsert orders in bulk"))
    def post(self, request: Request) -> Response:
        return upsert_bulk(request, b.OrderInputSerializer, backoffice.order_bulk_upsert)


class ContractUpsertApi(APIView):
    permission_classes = _permissions("contract")

    @_single_schema(
        b.ContractInputSerializer,
        _lazy("Upsert a contract by external id"),
        _lazy("A contract is unique per customer, source and external id. Idempotent."),
    )
    def put(self, request: Request, source: str, external_id: str) -> Response:
        return upsert_one(
            request, b.ContractInputSerializer, backoffice.contract_upsert, source=source, external_id=external_id
        )


class ContractBulkUpsertApi(APIView):
    permission_classes = _permissions("contract")

    @_bulk_schema(b.ContractBulkInputSerializer, _lazy("Upsert contracts in bulk"))
    def post(self, request: Request) -> Response:
        return upsert_bulk(request, b.ContractInputSerializer, backoffice.contract_bulk_upsert)


class InvoiceUpsertApi(APIView):
    permission_classes = _permissions("invoice")

    @_single_schema(
        b.InvoiceInputSerializer,
        _lazy("Upsert an invoice by external id"),
        _lazy(
            "An invoice is unique per customer, source and external id; it may name the customer's "
            "order or contract of the same source. Idempotent."
        ),
    )
    def put(self, request: Request, source: str, external_id: str) -> Response:
        return upsert_one(
            request, b.InvoiceInputSerializer, backoffice.invoice_upsert, source=source, external_id=external_id
        )


class InvoiceBulkUpsertApi(APIView):
    permission_classes = _permissions("invoice")

    @_bulk_schema(b.InvoiceBulkInputSerializer, _lazy("Upsert invoices in bulk"))
    def post(self, request: Request) -> Response:
        return upsert_bulk(request, b.InvoiceInputSerializer, backoffice.invoice_bulk_upsert)
