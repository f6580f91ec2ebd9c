"""The consent ledger's date limits hold on every write path, not only the API's serializer."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from crm.errors import ApplicationError
from customers.models import Consent
from customers.services.records import consent_record
from tests.customers_factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("occurred_at", "message"),
    [
        (datetime.datetime(1969, 12, 31, 23, 0, tzinfo=datetime.UTC), "A consent cannot be dated before 1970."),
        (datetime.datetime(1900, 1, 1, tzinfo=datetime.UTC), "A consent cannot be dated before 1970."),
        (timezone.now() + datetime.timedelta(minutes=10), "A consent cannot be dated in the future."),
    ],
)
def test_the_service_refuses_a_consent_dated_beyond_the_ledger_limits(occurred_at, message):
    customer = CustomerFactory()
    with pytest.raises(ApplicationError) as refused:
        consent_record(customer=customer, channel="email", purpose="marketing", status="granted", source="import",
                       occurred_at=occurred_at)  # fmt: skip
    assert (refused.value.code, refused.value.field, refused.value.message) == ("invalid_date", "occurred_at", message)
    assert not Consent.objects.filter(customer=customer).exists()


def test_a_consent_dated_just_now_or_in_1970_is_recorded():
    customer = CustomerFactory()
    for when in (datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC), timezone.now()):
        consent_record(customer=customer, channel="email", purpose="marketing", status="granted", source="import",
                       occurred_at=when)  # fmt: skip
    assert Consent.objects.filter(customer=customer).count() == 2
