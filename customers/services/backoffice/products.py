"""Upserts of products: a reference table, keyed by SKU or by source and external id."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from customers.choices import RecordSource
from customers.models import Product
from customers.services.backoffice._common import (
    ERROR,
    PRODUCT_FIELDS,
    UpsertResult,
    _compare,
    _default_currency,
    _error,
    _reject_duplicate_keys,
    _results,
    _Row,
    _single,
    _update_from_values,
    _write,
    bulk_limit_check,
)

# --- products (a reference table: keyed by SKU, or by source and external id) ---------------------------------


def _product_write(rows: list[_Row]) -> dict[int, int]:
    ids: dict[int, int] = {}
    new = [row for row in rows if row.existing is None]
    created = Product.objects.bulk_create([Product(**row.values) for row in new], batch_size=1000)
    ids.update({row.index: product.pk for row, product in zip(new, created, strict=True)})
    changed = [row for row in rows if row.existing is not None]
    if changed:
        now = timezone.now()
        for row in changed:
            for name, value in row.values.items():
                setattr(row.existing, name, value)
            row.existing.updated_at = now
            ids[row.index] = row.existing.pk
        _update_from_values(Product, [row.existing for row in changed], [*PRODUCT_FIELDS, "updated_at"])
    return ids


@transaction.atomic
def product_bulk_upsert(*, records: list[dict], acting_user=None, source: str = RecordSource.API) -> list[UpsertResult]:
    """Create or update products, found by ``source`` + ``external_id`` when given, else by ``sku``.

    A product found by external id takes the record's SKU; a SKU that another product holds is refused.
    """
    bulk_limit_check(len(records))
    skus = {record["sku"] for record in records if record.get("sku")}
    external_ids = {record["external_id"] for record in records if record.get("external_id")}
    known = list(Product.objects.filter(sku__in=skus)) if skus else []
    if external_ids:
        known += list(Product.objects.filter(external_id__in=external_ids).exclude(sku__in=skus))
    by_sku = {product.sku: product for product in known}
    by_external_id = {(product.source, product.external_id): product for product in known if product.external_id}
    rows = []
    for index, record in enumerate(records):
        row = _Row(index=index)
        rows.append(row)
        key = (record.get("source") or "", record.get("external_id") or "")
        product = by_external_id.get(key) if key[1] else None
        holder = by_sku.get(record["sku"])
        if product is not None and holder is not None and holder.pk != product.pk:
            row.status = ERROR
            row.errors = _error(
                "sku", "sku_taken", _("SKU “%(sku)s” already belongs to another product.") % {"sku": record["sku"]}
            )
            continue
        if (
            holder is not None
            and product is None
            and holder.external_id
            and key[1]
            and ((holder.source, holder.external_id) != key)
        ):
            row.status = ERROR
            row.errors = _error(
                "sku",
                "sku_taken",
                _("SKU “%(sku)s” already belongs to %(source)s product “%(value)s”.")
                % {"sku": record["sku"], "source": holder.source, "value": holder.external_id},
            )
            continue
        row.existing = product or holder
        row.key = ("product", record["sku"])
        row.values = {
            "sku": record["sku"],
            "name": record["name"],
            "category": record.get("category") or "",
            "price": record.get("price", Decimal("0")),
            "currency": record.get("currency") or _default_currency(),
            "is_active": record.get("is_active", True),
            "source": key[0] if key[1] else getattr(row.existing, "source", ""),
            "external_id": key[1] or getattr(row.existing, "external_id", ""),
        }
        _compare(row, PRODUCT_FIELDS)
    _reject_duplicate_keys(rows)
    _write(rows, _product_write)
    return _results(rows)


def product_upsert(*, data: dict, acting_user=None, source: str = RecordSource.API) -> UpsertResult:
    """Create or update one product; raises ``UpsertRejected`` if it is refused."""
    return _single(product_bulk_upsert(records=[data], acting_user=acting_user, source=source))
