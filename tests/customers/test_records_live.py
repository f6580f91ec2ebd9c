"""The record services refuse to write into a merged-away or anonymised customer (the survivor holds the record)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from crm.errors import ApplicationError
from customers.models import Consent, ContactPoint, PostalAddress
from customers.services.records import AddressInput, address_add, consent_record, contact_point_add
from tests.customers_factories import CustomerFactory


@pytest.fixture(params=["merged", "anonymised"])
def closed_customer(request, db):
    if request.param == "merged":
        return CustomerFactory(merged_into=CustomerFactory())
    return CustomerFactory(anonymised_at=timezone.now())


def _refused(call):
    with pytest.raises(ApplicationError) as error:
        call()
    assert error.value.code == "not_live" and error.value.status_code == 409


def test_it_adds_no_contact_point_to_a_closed_record(closed_customer, agent):
    _refused(lambda: contact_point_add(customer=closed_customer, kind="email", value="late@example.fr",
                                       acting_user=agent))  # fmt: skip
    assert not ContactPoint.objects.filter(customer=closed_customer).exists()


def test_it_adds_no_address_to_a_closed_record(closed_customer, agent):
    data = AddressInput(line4="3 rue des Lilas", postcode="69003", city="Lyon")
    _refused(lambda: address_add(customer=closed_customer, data=data, acting_user=agent))
    assert not PostalAddress.objects.filter(customer=closed_customer).exists()


def test_it_writes_no_consent_for_a_closed_record(closed_customer, agent):
    _refused(lambda: consent_record(customer=closed_customer, channel="email", purpose="marketing", status="granted",
                                    source="agent", acting_user=agent))  # fmt: skip
    assert not Consent.objects.filter(customer=closed_customer).exists()


def test_a_live_customer_still_gets_all_three(db, agent):
    customer = CustomerFactory()
    contact_point_add(customer=customer, kind="email", value="ok@example.fr", acting_user=agent)
    address_add(customer=customer, data=AddressInput(line4="3 rue des Lilas", postcode="69003", city="Lyon"),
                acting_user=agent)  # fmt: skip
    consent_record(customer=customer, channel="email", purpose="marketing", status="granted", source="agent",
                   acting_user=agent)  # fmt: skip
    assert customer.contact_points.count() == customer.addresses.count() == customer.consents.count() == 1
