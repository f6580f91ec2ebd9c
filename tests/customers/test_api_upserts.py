"""Idempotent upserts by external id: customers, products, orders with lines, contracts, invoices."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from crm.services import api_token_create
from customers.models import (
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
from customers.services.backoffice import BULK_LIMIT
from tests.customers_factories import CustomerFactory, ExternalIdFactory, ProductFactory

pytestmark = pytest.mark.django_db


def put(client, url, data, **extra):
    return client.put(url, data, content_type="application/json", **extra)


def post(client, url, data, **extra):
    return client.post(url, data, content_type="application/json", **extra)


CUSTOMER = {
    "given_name": "Jeanne",
    "family_name": "Bernard",
    "emails": ["jeanne.bernard@example.fr"],
    "phones": ["01 42 68 53 00"],
    "addresses": [{"line4": "8 rue Oberkampf", "postcode": "75011", "city": "Paris"}],
    "stage": "customer",
}


def _order(external_id: str, customer: dict, lines: int = 3, **fields) -> dict:
    return {
        "source": "eshop",
        "external_id": external_id,
        "customer": customer,
        "status": "paid",
        "placed_at": "2026-03-01T10:00:00+01:00",
        "lines": [
            {"sku": f"SKU-{n}", "label": f"Article {n}", "quantity": "2", "unit_price": "9.95"} for n in range(lines)
        ],
        **fields,
    }


# --- customers --------------------------------------------------------------------------------------------------


def test_it_upserts_a_customer_by_external_id_idempotently(client, agent):
    client.force_login(agent)
    url = "/api/v1/customers/by-external-id/erp/ERP-1/"

    first = put(client, url, CUSTOMER)
    second = put(client, url, CUSTOMER)

    assert first.status_code == 201, first.json()
    assert (first.json()["status"], second.json()["status"]) == ("created", "unchanged")
    assert second.status_code == 200
    assert first.json()["id"] == second.json()["id"]
    assert Customer.objects.count() == 1
    assert ContactPoint.objects.count() == 2
    assert PostalAddress.objects.count() == 1
    assert list(CustomerExternalId.objects.values_list("source", "value")) == [("erp", "ERP-1")]


def test_it_updates_a_customer_and_adds_what_it_lacks(client, agent):
    client.force_login(agent)
    url = "/api/v1/customers/by-external-id/erp/ERP-1/"
    put(client, url, CUSTOMER)

    response = put(client, url, {**CUSTOMER, "stage": "loyal", "emails": ["jeanne@work.example.fr"]})

    assert response.json()["status"] == "updated"
    customer = Customer.objects.get()
    assert customer.stage == "loyal"
    assert set(customer.contact_points.filter(kind="email").values_list("value", flat=True)) == {
        "jeanne.bernard@example.fr",
        "jeanne@work.example.fr",
    }


def test_it_refuses_a_bad_customer_upsert_and_writes_nothing(client, agent):
    client.force_login(agent)

    response = put(client, "/api/v1/customers/by-external-id/erp/ERP-1/", {**CUSTOMER, "phones": ["12"]})

    assert response.status_code == 400
    assert "phones.0" in response.json()["error"]["fields"]
    assert not Customer.objects.exists() and not CustomerExternalId.objects.exists()


def test_it_saves_the_good_customers_of_a_bulk_and_reports_the_bad_one(client, agent):
    client.force_login(agent)
    records = [
        {**CUSTOMER, "source": "erp", "external_id": "A", "emails": ["a@example.fr"], "phones": []},
        {**CUSTOMER, "source": "erp", "external_id": "B", "emails": ["b@example"], "phones": []},
        {
            **CUSTOMER,
            "source": "erp",
            "external_id": "C",
            "emails": ["c@example.fr"],
            "phones": [],
            "addresses": [{"line4": "x" * 39, "postcode": "75011", "city": "Paris"}],
        },
        {**CUSTOMER, "source": "erp", "external_id": "D", "emails": ["d@example.fr"], "phones": []},
    ]

    response = post(client, "/api/v1/customers/bulk/", {"records": records})

    assert response.status_code == 200, response.json()
    body = response.json()
    assert [r["status"] for r in body["results"]] == ["created", "error", "error", "created"]
    assert body["results"][1]["errors"]["emails.0"][0]["code"] == "invalid_email"
    assert body["results"][2]["errors"]["addresses.0.line4"][0]["code"] == "line_too_long"
    assert (body["created"], body["errors"]) == (2, 2)
    assert set(CustomerExternalId.objects.values_list("value", flat=True)) == {"A", "D"}
    assert Customer.objects.count() == 2
    assert not ContactPoint.objects.filter(value__in=["b@example", "c@example.fr"]).exists()


def test_it_refuses_a_customer_upsert_without_permission(client, marketer):
    client.force_login(marketer)

    response = put(client, "/api/v1/customers/by-external-id/erp/ERP-1/", CUSTOMER)

    assert response.status_code == 403
    assert not Customer.objects.exists()


# --- orders --------------------------------------------------------------------------------------------------------


def test_it_upserts_an_order_with_lines_idempotently(client, admin_staff):
    customer = CustomerFactory()
    ProductFactory(sku="SKU-0", name="Bouilloire")
    client.force_login(admin_staff)
    url = "/api/v1/orders/by-external-id/eshop/CMD-1/"
    order = _order("ignored", {"id": customer.pk})

    first = put(client, url, order)
    second = put(client, url, order)

    assert first.status_code == 201, first.json()
    assert (first.json()["status"], second.json()["status"]) == ("created", "unchanged")
    saved = Order.objects.get()
    assert (saved.customer_id, saved.source, saved.external_id, saved.number) == (
        customer.pk,
        "eshop",
        "CMD-1",
        "CMD-1",
    )
    assert saved.total_amount == Decimal("59.70")
    lines = list(OrderLine.objects.filter(order=saved).order_by("id"))
    assert [line.amount for line in lines] == [Decimal("19.90")] * 3
    assert lines[0].product.name == "Bouilloire" and lines[1].product is None


def test_it_replaces_an_orders_lines_on_update(client, admin_staff):
    customer = CustomerFactory()
    client.force_login(admin_staff)
    url = "/api/v1/orders/by-external-id/eshop/CMD-1/"
    put(client, url, _order("CMD-1", {"id": customer.pk}, lines=3))

    response = put(client, url, _order("CMD-1", {"id": customer.pk}, lines=1, status="shipped"))

    assert response.json()["status"] == "updated"
    assert Order.objects.get().status == "shipped"
    assert OrderLine.objects.count() == 1


def test_it_names_an_orders_customer_by_external_id_or_account_number(client, admin_staff):
    external = ExternalIdFactory(source="erp", value="ERP-9")
    customer = CustomerFactory()
    customer.refresh_from_db()
    client.force_login(admin_staff)

    by_external = put(
        client, "/api/v1/orders/by-external-id/eshop/A/", _order("A", {"source": "erp", "external_id": "ERP-9"})
    )
    by_account = put(
        client, "/api/v1/orders/by-external-id/eshop/B/", _order("B", {"account_number": customer.account_number})
    )

    assert by_external.status_code == 201 and by_account.status_code == 201
    assert Order.objects.get(external_id="A").customer_id == external.customer_id
    assert Order.objects.get(external_id="B").customer_id == customer.pk


def test_it_refuses_an_order_for_an_unknown_customer(client, admin_staff):
    client.force_login(admin_staff)

    response = put(client, "/api/v1/orders/by-external-id/eshop/A/", _order("A", {"account_number": "C-9999999"}))

    assert response.status_code == 400
    assert response.json()["error"]["fields"]["customer"][0]["code"] == "customer_not_found"
    assert not Order.objects.exists()


def test_it_saves_the_good_orders_of_a_bulk_and_writes_nothing_of_the_bad_ones(client, admin_staff):
    customer = CustomerFactory()
    client.force_login(admin_staff)
    bad_line = _order("BAD-LINE", {"id": customer.pk})
    bad_line["lines"][0]["quantity"] = "lots"
    records = [
        _order("GOOD-1", {"id": customer.pk}),
        bad_line,
        _order("NO-CUSTOMER", {"source": "erp", "external_id": "nobody"}),
        _order("GOOD-2", {"id": customer.pk}),
        _order("GOOD-1", {"id": customer.pk}),
    ]

    response = post(client, "/api/v1/orders/bulk/", {"records": records})

    assert response.status_code == 200
    results = response.json()["results"]
    assert [(r["index"], r["status"]) for r in results] == [
        (0, "created"),
        (1, "error"),
        (2, "error"),
        (3, "created"),
        (4, "error"),
    ]
    assert results[1]["errors"]["lines.0.quantity"][0]["code"] == "invalid"
    assert results[2]["errors"]["customer"][0]["code"] == "customer_not_found"
    assert results[4]["errors"]["external_id"][0]["code"] == "duplicate_in_request"
    assert set(Order.objects.values_list("external_id", flat=True)) == {"GOOD-1", "GOOD-2"}
    assert OrderLine.objects.count() == 6


def test_it_upserts_a_thousand_orders_with_three_lines_in_one_request(client, admin_staff):
    customers = [CustomerFactory() for _ in range(50)]
    for n in range(3):
        ProductFactory(sku=f"SKU-{n}")
    client.force_login(admin_staff)
    records = [_order(f"CMD-{n:05d}", {"id": customers[n % 50].pk}) for n in range(1000)]

    started = time.perf_counter()
    response = post(client, "/api/v1/orders/bulk/", {"records": records})
    created_in = time.perf_counter() - started
    started = time.perf_counter()
    again = post(client, "/api/v1/orders/bulk/", {"records": records})
    unchanged_in = time.perf_counter() - started
    records[0]["status"] = "delivered"
    started = time.perf_counter()
    changed = post(client, "/api/v1/orders/bulk/", {"records": [{**r, "store": "Lyon"} for r in records]})
    updated_in = time.perf_counter() - started

    print(
        f"\n1,000 orders x 3 lines: created in {created_in:.2f} s, unchanged in {unchanged_in:.2f} s, "
        f"updated in {updated_in:.2f} s"
    )
    assert response.status_code == 200
    assert response.json()["created"] == 1000
    assert again.json()["unchanged"] == 1000
    assert changed.json()["updated"] == 1000
    assert Order.objects.count() == 1000
    assert OrderLine.objects.count() == 3000
    assert Order.objects.filter(store="Lyon").count() == 1000
    assert created_in < 10 and updated_in < 10


def test_it_refuses_a_bulk_over_the_limit(client, admin_staff):
    customer = CustomerFactory()
    client.force_login(admin_staff)
    records = [_order(f"CMD-{n}", {"id": customer.pk}, lines=0) for n in range(BULK_LIMIT + 1)]

    response = post(client, "/api/v1/orders/bulk/", {"records": records})

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "too_many_records"
    assert "5,000" in error["message"] and "5,001" in error["message"]
    assert not Order.objects.exists()


def test_it_refuses_a_bulk_that_is_not_a_list(client, admin_staff):
    client.force_login(admin_staff)

    response = post(client, "/api/v1/orders/bulk/", {"records": {"external_id": "x"}})

    assert response.status_code == 400
    assert "records" in response.json()["error"]["fields"]


def test_it_lets_an_agent_token_sync_customers_but_not_orders(client, agent):
    customer = CustomerFactory()
    _token, key = api_token_create(user=agent, name="ERP", acting_user=agent)
    auth = {"HTTP_AUTHORIZATION": f"Token {key}"}

    customers = post(
        client, "/api/v1/customers/bulk/", {"records": [{**CUSTOMER, "source": "erp", "external_id": "T-1"}]}, **auth
    )
    orders = put(client, "/api/v1/orders/by-external-id/eshop/A/", _order("A", {"id": customer.pk}), **auth)

    assert customers.status_code == 200 and customers.json()["created"] == 1
    assert orders.status_code == 403
    assert not Order.objects.exists()


# --- products, contracts, invoices ------------------------------------------------------------------------------


def test_it_upserts_products_by_sku_and_by_external_id(client, admin_staff):
    client.force_login(admin_staff)
    product = {"name": "Bouilloire", "price": "39.90", "category": "Cuisine"}

    by_sku = put(client, "/api/v1/products/by-sku/BOU-1/", product)
    same = put(client, "/api/v1/products/by-sku/BOU-1/", product)
    by_external = put(client, "/api/v1/products/by-external-id/pim/P-1/", {**product, "sku": "BOU-1"})
    renamed = put(client, "/api/v1/products/by-external-id/pim/P-1/", {**product, "sku": "BOU-2"})

    assert [r.json()["status"] for r in (by_sku, same, by_external, renamed)] == [
        "created",
        "unchanged",
        "updated",
        "updated",
    ]
    saved = Product.objects.get()
    assert (saved.sku, saved.source, saved.external_id, saved.price) == ("BOU-2", "pim", "P-1", Decimal("39.90"))


def test_it_refuses_a_sku_another_product_holds(client, admin_staff):
    ProductFactory(sku="TAKEN", source="pim", external_id="P-9")
    client.force_login(admin_staff)

    response = put(client, "/api/v1/products/by-external-id/pim/P-1/", {"sku": "TAKEN", "name": "Autre"})

    assert response.status_code == 400
    assert response.json()["error"]["fields"]["sku"][0]["code"] == "sku_taken"
    assert Product.objects.count() == 1


def test_it_upserts_contracts_and_invoices_linked_to_them(client, admin_staff):
    customer = CustomerFactory()
    client.force_login(admin_staff)
    contract = {
        "customer": {"id": customer.pk},
        "plan": "Fibre 1G",
        "start_date": "2026-01-01",
        "monthly_amount": "39.99",
    }
    invoice = {
        "customer": {"id": customer.pk},
        "amount": "39.99",
        "issued_on": "2026-02-01",
        "due_on": "2026-02-28",
        "contract_external_id": "CT-1",
    }

    created = put(client, "/api/v1/contracts/by-external-id/billing/CT-1/", contract)
    unchanged = put(client, "/api/v1/contracts/by-external-id/billing/CT-1/", contract)
    billed = post(
        client,
        "/api/v1/invoices/bulk/",
        {
            "records": [
                {**invoice, "source": "billing", "external_id": "F-1"},
                {**invoice, "source": "billing", "external_id": "F-2", "contract_external_id": "CT-404"},
                {**invoice, "source": "billing", "external_id": "F-3", "due_on": "2026-01-01"},
            ]
        },
    )

    assert (created.status_code, unchanged.json()["status"]) == (201, "unchanged")
    assert [r["status"] for r in billed.json()["results"]] == ["created", "error", "error"]
    assert "contract_external_id" in billed.json()["results"][1]["errors"]
    assert "due_on" in billed.json()["results"][2]["errors"]
    assert Invoice.objects.get().contract == Contract.objects.get()


def test_it_refuses_a_contract_ending_before_it_starts(client, admin_staff):
    customer = CustomerFactory()
    client.force_login(admin_staff)

    response = put(
        client,
        "/api/v1/contracts/by-external-id/billing/CT-1/",
        {"customer": {"id": customer.pk}, "plan": "Fibre", "start_date": "2026-01-01", "end_date": "2025-01-01"},
    )

    assert response.status_code == 400
    assert "end_date" in response.json()["error"]["fields"]
    assert not Contract.objects.exists()
