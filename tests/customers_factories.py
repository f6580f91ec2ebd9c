"""factory_boy factories for the customer record (shared by every app's tests)."""

from __future__ import annotations

import datetime
from decimal import Decimal

import factory
from django.utils import timezone

from customers.choices import ConsentSource, ConsentStatus, ContactKind
from customers.models import (
    Consent,
    ContactPoint,
    Contract,
    Customer,
    CustomerExternalId,
    Invoice,
    Order,
    OrderLine,
    PostalAddress,
    Product,
)


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    given_name = factory.Faker("first_name", locale="fr_FR")
    family_name = factory.Faker("last_name", locale="fr_FR")
    language = "fr"


class EmailFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContactPoint

    customer = factory.SubFactory(CustomerFactory)
    kind = ContactKind.EMAIL
    value = factory.Sequence(lambda n: f"person{n}@example.fr")
    raw_value = factory.LazyAttribute(lambda o: o.value)
    is_primary = True


class MobileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContactPoint

    customer = factory.SubFactory(CustomerFactory)
    kind = ContactKind.MOBILE
    value = factory.Sequence(lambda n: f"+3361{n:07d}")
    raw_value = factory.LazyAttribute(lambda o: o.value)
    is_primary = True


class AddressFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PostalAddress

    customer = factory.SubFactory(CustomerFactory)
    line1 = factory.LazyAttribute(lambda o: f"{o.customer.given_name} {o.customer.family_name}".upper()[:38])
    line4 = "12 RUE DE LA PAIX"
    line6 = "75002 PARIS"
    postcode = "75002"
    city = "Paris"
    country = "FR"
    is_primary = True


class ConsentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Consent

    customer = factory.SubFactory(CustomerFactory)
    channel = "email"
    purpose = "marketing"
    status = ConsentStatus.GRANTED
    source = ConsentSource.AGENT
    proof_text = "Accepte de recevoir nos offres par email."


class ExternalIdFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CustomerExternalId

    customer = factory.SubFactory(CustomerFactory)
    source = "erp"
    value = factory.Sequence(lambda n: f"ERP-{n:06d}")


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product
        django_get_or_create = ("sku",)

    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    name = factory.Faker("word", locale="fr_FR")
    category = "Maison"
    price = Decimal("19.90")


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Order

    customer = factory.SubFactory(CustomerFactory)
    number = factory.Sequence(lambda n: f"CMD-{n:08d}")
    external_id = factory.LazyAttribute(lambda o: o.number)
    total_amount = Decimal("59.70")
    placed_at = factory.LazyFunction(timezone.now)


class OrderLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrderLine

    order = factory.SubFactory(OrderFactory)
    customer = factory.LazyAttribute(lambda o: o.order.customer)
    label = "Article"
    quantity = Decimal("3")
    unit_price = Decimal("19.90")
    amount = Decimal("59.70")


class ContractFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contract

    customer = factory.SubFactory(CustomerFactory)
    number = factory.Sequence(lambda n: f"CTR-{n:06d}")
    external_id = factory.LazyAttribute(lambda o: o.number)
    plan = "Essentiel"
    start_date = datetime.date(2025, 1, 1)
    monthly_amount = Decimal("29.00")


class InvoiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Invoice

    customer = factory.SubFactory(CustomerFactory)
    number = factory.Sequence(lambda n: f"FAC-{n:07d}")
    external_id = factory.LazyAttribute(lambda o: o.number)
    amount = Decimal("29.00")
    issued_on = datetime.date(2026, 10, 1)
    due_on = datetime.date(2026, 10, 31)
