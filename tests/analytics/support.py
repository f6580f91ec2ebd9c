"""A small, hand-checkable order history for the analytics tests."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.utils import timezone

from customers.models import Customer, Order, OrderLine, Product

AS_OF = datetime.date(2026, 6, 30)


def at(days_before: int, *, as_of: datetime.date = AS_OF) -> datetime.datetime:
    """Noon, ``days_before`` days before ``as_of``, in the site's time zone."""
    day = as_of - datetime.timedelta(days=days_before)
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(12)))


def order(customer: Customer, days_before: int, amount: str, *, channel: str = "web", status: str = "paid",
          products: list[Product] = (), as_of: datetime.date = AS_OF) -> Order:  # fmt: skip
    number = f"T-{customer.pk}-{Order.objects.filter(customer=customer).count() + 1}"
    placed = Order.objects.create(customer=customer, number=number, external_id=number, status=status,
                                  sales_channel=channel, total_amount=Decimal(amount),
                                  placed_at=at(days_before, as_of=as_of))  # fmt: skip
    OrderLine.objects.bulk_create([
        OrderLine(customer=customer, order=placed, product=product, sku=product.sku, label=product.name,
                  amount=product.price, unit_price=product.price)
        for product in products
    ])  # fmt: skip
    return placed


def ten_buyers() -> list[Customer]:
    """Customer k (1..10) ordered k times, 20 days apart, 50 EUR each; the last order (11 - k) x 10 days ago.

    So frequency and spend rise with k and recency improves with k: the quintile scores are
    (R, F, M) = (ceil(k / 2),) * 3 and the cells hibernating x4, need attention x2, loyal x2,
    champions x2. Each also has a cancelled order that must not count.
    """
    customers = Customer.objects.bulk_create(
        [Customer(given_name=f"Client{k}", family_name="Rfm") for k in range(1, 11)]
    )  # fmt: skip
    for k, customer in enumerate(customers, start=1):
        last = (11 - k) * 10
        for n in range(k):
            order(customer, last + 20 * n, "50.00", channel="store" if k == 10 else "web")
        order(customer, 1, "999.00", status="cancelled")
    return customers


def catalogue() -> dict[str, Product]:
    """Eight products in four categories (two each), priced 10..80 EUR."""
    rows = [("BOOK-1", "Roman", "books", 10), ("BOOK-2", "Essai", "books", 20), ("MUS-1", "Album", "music", 30),
            ("MUS-2", "Vinyle", "music", 40), ("GAME-1", "Jeu", "games", 50), ("GAME-2", "Console", "games", 60),
            ("TEA-1", "Thé", "tea", 70), ("TEA-2", "Théière", "tea", 80)]  # fmt: skip
    products = Product.objects.bulk_create([Product(sku=sku, name=name, category=category, price=Decimal(price))
                                            for sku, name, category, price in rows])  # fmt: skip
    return {product.sku: product for product in products}
