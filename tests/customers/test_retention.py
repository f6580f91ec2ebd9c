"""Retention of prospects: flagged after RETENTION_PROSPECT_YEARS without contact, anonymised if enabled."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from customers.models import Customer
from customers.tasks.gdpr import retention_run_task
from tests.customers_factories import CustomerFactory, OrderFactory

pytestmark = pytest.mark.django_db
LONG_AGO = timezone.now() - datetime.timedelta(days=365 * 3 + 30)


def old_prospect(**fields):
    customer = CustomerFactory(**fields)
    Customer.objects.filter(pk=customer.pk).update(created_at=LONG_AGO, updated_at=LONG_AGO)
    return customer


def test_it_flags_prospects_without_contact_for_three_years_only():
    stale = old_prospect()
    recent_contact = old_prospect()
    Customer.objects.filter(pk=recent_contact.pk).update(last_contact_at=timezone.now())
    recent_order = old_prospect()
    OrderFactory(customer=recent_order)
    buyer = old_prospect(stage="customer")
    fresh = CustomerFactory()
    assert retention_run_task.delay().get() == 1
    flagged = set(Customer.objects.filter(retention_flagged_at__isnull=False).values_list("pk", flat=True))
    assert flagged == {stale.pk}
    assert not Customer.objects.filter(pk__in=[recent_contact.pk, recent_order.pk, buyer.pk, fresh.pk],
                                       retention_flagged_at__isnull=False).exists()  # fmt: skip
    stale.refresh_from_db()
    assert stale.anonymised_at is None and stale.family_name  # not erased unless configured


def test_it_honours_the_configured_period(settings):
    settings.RETENTION_PROSPECT_YEARS = 5
    old_prospect()
    assert retention_run_task.delay().get() == 0


def test_it_anonymises_flagged_prospects_when_enabled(settings):
    settings.RETENTION_AUTO_ANONYMISE = True
    stale = old_prospect(family_name="Oublie")
    kept = CustomerFactory(family_name="Garde")
    retention_run_task.delay().get()
    stale.refresh_from_db()
    kept.refresh_from_db()
    assert stale.anonymised_at and stale.family_name == ""
    assert kept.anonymised_at is None and kept.family_name == "Garde"


def test_it_clears_the_flag_when_the_prospect_is_contacted_again():
    stale = old_prospect()
    retention_run_task.delay().get()
    Customer.objects.filter(pk=stale.pk).update(last_contact_at=timezone.now())
    retention_run_task.delay().get()
    stale.refresh_from_db()
    assert stale.retention_flagged_at is None
