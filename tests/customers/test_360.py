"""The 360 page: what an agent sees, merged and anonymised customers, access per role, query count."""

from __future__ import annotations

import pytest
from django.utils import timezone
from django.utils.translation import override as translation_override

from customers.services import records
from tests.customers_factories import (
    AddressFactory,
    ConsentFactory,
    ContractFactory,
    CustomerFactory,
    EmailFactory,
    InvoiceFactory,
    MobileFactory,
    OrderFactory,
    OrderLineFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer(agent):
    customer = records.customer_create(
        data=records.CustomerInput(given_name="Héloïse", family_name="Lefèvre", owner=agent, tags=["vip"],
                                   emails=["heloise@example.fr"], phones=["06 12 34 56 78"],
                                   addresses=[records.AddressInput(line4="12 rue de la Paix", postcode="75002",
                                                                   city="Paris")]),
        acting_user=agent,
    )  # fmt: skip
    ConsentFactory(customer=customer, channel="email", status="granted")
    ConsentFactory(customer=customer, channel="sms", status="withdrawn")
    order = OrderFactory(customer=customer, number="CMD-360-1")
    OrderLineFactory(order=order)
    OrderLineFactory(order=order)
    ContractFactory(customer=customer, plan="Premium")
    InvoiceFactory(customer=customer, number="FAC-360-1")
    return customer


def test_it_shows_the_identity_card_contacts_back_office_and_empty_sections(client, agent, customer):
    client.force_login(agent)
    response = client.get(f"/customers/{customer.pk}/")
    assert response.status_code == 200
    body = response.content.decode()
    for text in (customer.account_number, "Héloïse Lefèvre", "Prospect", "vip", "heloise@example.fr",
                 "06 12 34 56 78", "12 rue de la Paix", "75002 PARIS", "CMD-360-1", "2 lines", "Premium",
                 "FAC-360-1", "Not computed yet", "No interaction recorded yet", "No case yet",
                 "Not in any campaign yet", "No lead yet"):  # fmt: skip
        assert text in body, text
    assert 'data-testid="consent-email"' in body and "Email: yes" in body and "SMS: no" in body
    assert "Phone: not asked" in body
    assert "History of changes" in body and "added customer" in body


def test_it_records_changes_with_who_and_through_which_channel(client, agent, customer):
    client.force_login(agent)
    data = {"kind": "person", "given_name": "Héloïse", "family_name": "Martin", "language": "fr", "tags": "vip"}
    client.post(f"/customers/{customer.pk}/edit/", data)
    body = client.get(f"/customers/{customer.pk}/").content.decode()
    assert "changed customer" in body
    assert "Lefèvre" in body and "Martin" in body
    assert "web" in body


def test_the_history_shows_field_labels_and_names_and_starts_collapsed(client, agent, make_staff):
    import re

    owner = make_staff("Agent", username="owner.test", first_name="Odile", last_name="Marchand")
    customer = CustomerFactory(given_name="Zoé", family_name="Roux", stage="lead", owner=owner)
    client.force_login(agent)
    with translation_override("fr"):
        body = client.get(f"/customers/{customer.pk}/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    history = body[body.index('data-testid="history"') :]
    history = history[: history.index("</details>")]
    assert re.search(r"<details data-testid=\"history-details\">", history)  # collapsed: no "open"
    assert "Odile Marchand" in history and f">#{owner.pk}<" not in history
    assert "given_name" not in history and "owner" not in history.replace("owner.test", "")
    assert "Prénom" in history and "Prospect qualifié" in history  # labels, translated


def test_a_merged_customer_redirects_to_the_survivor_with_a_message(client, agent, customer):
    duplicate = CustomerFactory(merged_into=customer, merged_at=timezone.now())
    client.force_login(agent)
    response = client.get(f"/customers/{duplicate.pk}/", follow=True)
    assert response.redirect_chain == [(f"/customers/{customer.pk}/", 302)]
    assert "was merged into" in response.content.decode()


def test_an_anonymised_customer_shows_a_tombstone(client, agent):
    gone = CustomerFactory(given_name="Secret", family_name="Person", anonymised_at=timezone.now())
    client.force_login(agent)
    body = client.get(f"/customers/{gone.pk}/").content.decode()
    assert 'data-testid="tombstone"' in body and "Secret" not in body


def test_it_shows_actions_by_permission(client, agent, marketer, make_staff, customer):
    client.force_login(agent)
    body = client.get(f"/customers/{customer.pk}/").content.decode()
    assert 'data-testid="edit-customer"' in body and 'data-testid="record-consent"' in body
    client.force_login(marketer)
    response = client.get(f"/customers/{customer.pk}/")
    assert response.status_code == 200 and "Héloïse Lefèvre" in response.content.decode()
    assert b'data-testid="edit-customer"' not in response.content
    assert b'data-testid="gdpr-erase"' not in response.content


def test_a_teammate_agent_sees_and_an_outsider_without_a_role_does_not(client, make_staff, customer):
    client.force_login(make_staff("Agent", username="teammate"))
    assert client.get(f"/customers/{customer.pk}/").status_code == 200
    client.force_login(make_staff(None, username="outsider"))
    response = client.get(f"/customers/{customer.pk}/")
    assert response.status_code == 403
    assert "Lefèvre" not in response.content.decode()


def test_all_orders_are_paged_on_their_own_page(client, agent, customer):
    for index in range(25):
        OrderFactory(customer=customer, number=f"CMD-MANY-{index:02d}")
    client.force_login(agent)
    body = client.get(f"/customers/{customer.pk}/").content.decode()
    assert "Show all 26 orders" in body
    assert body.count('data-testid="order"') == 20
    page = client.get(f"/customers/{customer.pk}/orders/").content.decode()
    assert page.count('data-testid="order"') == 26


def test_the_360_page_uses_a_constant_number_of_queries(client, agent, customer, django_assert_max_num_queries):
    for _index in range(50):
        order = OrderFactory(customer=customer)
        OrderLineFactory(order=order)
    for index in range(4):
        EmailFactory(customer=customer, is_primary=False, value=f"other{index}@example.fr")
        MobileFactory(customer=customer, is_primary=False, value=f"+3361000000{index}")
        AddressFactory(customer=customer, is_primary=False)
    for _index in range(10):
        InvoiceFactory(customer=customer)
    # The panels other apps add (timeline, cases, call-backs, web, cost of service) must not grow with data.
    from tests.channels_factories import CaseFactory, InteractionFactory

    for index in range(30):
        case = CaseFactory(customer=customer) if index % 10 == 0 else None
        InteractionFactory(customer=customer, case=case, channel=["phone", "email", "sms"][index % 3])
    client.force_login(agent)
    # Customer record 17; channels panels: timeline page + cost of service 2, cases 2, call-backs 1, web 1;
    # analytics scores panel 4 (score, monthly history, offers and their exploration pool).
    with django_assert_max_num_queries(27):
        response = client.get(f"/customers/{customer.pk}/")
    assert response.status_code == 200
