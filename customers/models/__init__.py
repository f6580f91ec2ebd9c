"""Models of the unified customer record (see the package's modules, one per topic)."""

from customers.models.backoffice import Contract, Invoice, Order, OrderLine, Product
from customers.models.contact import Consent, ContactPoint, PostalAddress
from customers.models.customer import (
    AttributeDefinition,
    Customer,
    CustomerExternalId,
    SavedFilter,
    StageChange,
)
from customers.models.operations import DuplicatePair, ImportJob, ImportMapping, ImportRowError

__all__ = [
    "AttributeDefinition",
    "Consent",
    "ContactPoint",
    "Contract",
    "Customer",
    "CustomerExternalId",
    "DuplicatePair",
    "ImportJob",
    "ImportMapping",
    "ImportRowError",
    "Invoice",
    "Order",
    "OrderLine",
    "PostalAddress",
    "Product",
    "SavedFilter",
    "StageChange",
]
