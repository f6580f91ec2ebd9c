"""Idempotent upserts by external id: customers, products, orders (with lines), contracts, invoices.

Each ``*_upsert`` takes one validated record (a dict shaped by the API's input serializers or an
import) and returns an ``UpsertResult`` whose status is ``created``, ``updated`` or ``unchanged``; it
raises ``UpsertRejected`` (an ``ApplicationError`` carrying every field error) for a record it refuses.
Each ``*_bulk_upsert`` takes a list of records and returns one result per record, in order; bad
records are reported and nothing of them is written, good ones are saved.

Bulk writes are set-based: existing rows are fetched by external id in one query per table, new rows
go in with ``bulk_create`` and changed ones with ``bulk_update``, order lines are replaced in two
statements. Should the set-based write fail (a concurrent insert of the same key, say), the batch
falls back to one savepoint per record, so one record's failure never takes the others down.
"""

from customers.services.backoffice._common import (
    BULK_LIMIT,
    CREATED,
    ERROR,
    UNCHANGED,
    UPDATED,
    UpsertRejected,
    UpsertResult,
    bulk_limit_check,
    customers_resolve,
)
from customers.services.backoffice.customers import customer_bulk_upsert, customer_upsert
from customers.services.backoffice.orders import (
    contract_bulk_upsert,
    contract_upsert,
    invoice_bulk_upsert,
    invoice_upsert,
    order_bulk_upsert,
    order_upsert,
)
from customers.services.backoffice.products import product_bulk_upsert, product_upsert

__all__ = [
    "BULK_LIMIT",
    "CREATED",
    "ERROR",
    "UNCHANGED",
    "UPDATED",
    "UpsertRejected",
    "UpsertResult",
    "bulk_limit_check",
    "contract_bulk_upsert",
    "contract_upsert",
    "customer_bulk_upsert",
    "customer_upsert",
    "customers_resolve",
    "invoice_bulk_upsert",
    "invoice_upsert",
    "order_bulk_upsert",
    "order_upsert",
    "product_bulk_upsert",
    "product_upsert",
]
