"""The consent ledger: append-only (enforced by PostgreSQL), latest entry wins, one query per segment."""

from __future__ import annotations

import datetime

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from crm.errors import ApplicationError
from customers.choices import ConsentSource, ConsentStatus
from customers.models import Consent
from customers.selectors import consent_badges, consent_effective, customers_with_consent
from customers.services.records import consent_record
from tests.customers_factories import CustomerFactory


def record(customer, status, *, minutes_ago=0, channel="email", agent=None, source=ConsentSource.WEB_FORM):
    return consent_record(
        customer=customer, channel=channel, purpose="marketing", status=status, source=source, acting_user=agent,
        occurred_at=timezone.now() - datetime.timedelta(minutes=minutes_ago), proof_text="Offres par email",
    )  # fmt: skip


def test_the_latest_entry_is_in_force(db):
    customer = CustomerFactory()
    record(customer, ConsentStatus.GRANTED, minutes_ago=60)
    record(customer, ConsentStatus.WITHDRAWN, minutes_ago=10)
    effective = consent_effective(customer=customer)
    assert effective[("email", "marketing")].status == ConsentStatus.WITHDRAWN
    assert Consent.objects.filter(customer=customer).count() == 2, "history is kept, not overwritten"


def test_an_entry_recorded_late_but_dated_earlier_does_not_override(db):
    customer = CustomerFactory()
    record(customer, ConsentStatus.WITHDRAWN, minutes_ago=5)
    record(customer, ConsentStatus.GRANTED, minutes_ago=120)  # a paper form typed in afterwards
    assert consent_effective(customer=customer)[("email", "marketing")].status == ConsentStatus.WITHDRAWN


def test_badges_show_unknown_for_channels_never_asked(db):
    customer = CustomerFactory()
    record(customer, ConsentStatus.GRANTED, channel="sms")
    badges = {badge["channel"]: badge["status"] for badge in consent_badges(customer=customer)}
    assert badges["sms"] == ConsentStatus.GRANTED
    assert badges["email"] is None


def test_the_database_refuses_to_edit_or_delete_the_ledger(db):
    customer = CustomerFactory()
    entry = record(customer, ConsentStatus.GRANTED)
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        Consent.objects.filter(pk=entry.pk).update(status=ConsentStatus.WITHDRAWN)
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        Consent.objects.filter(pk=entry.pk).delete()
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE customers_consent SET ip_address = '10.0.0.1' WHERE id = %s", [entry.pk])
    entry.refresh_from_db()
    assert entry.status == ConsentStatus.GRANTED


def test_a_merge_may_only_repoint_rows(db):
    customer, other = CustomerFactory(), CustomerFactory()
    entry = record(customer, ConsentStatus.GRANTED)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL relais.consent_maintenance = 'merge'")
        cursor.execute("UPDATE customers_consent SET customer_id = %s WHERE id = %s", [other.pk, entry.pk])
    entry.refresh_from_db()
    assert entry.customer_id == other.pk
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL relais.consent_maintenance = 'merge'")
        cursor.execute("UPDATE customers_consent SET status = 'withdrawn' WHERE id = %s", [entry.pk])


def test_the_model_refuses_to_save_an_existing_entry(db):
    entry = record(CustomerFactory(), ConsentStatus.GRANTED)
    entry.status = ConsentStatus.WITHDRAWN
    with pytest.raises(ValueError, match="append-only"):
        entry.save()


def test_it_rejects_bad_entries_and_writes_nothing(db, agent):
    customer = CustomerFactory()
    with pytest.raises(ApplicationError) as error:
        consent_record(customer=customer, channel="pigeon", purpose="marketing", status="granted", source="api")
    assert error.value.field == "channel"
    with pytest.raises(ApplicationError) as error:
        consent_record(customer=customer, channel="email", purpose="marketing", status="granted", source="agent")
    assert error.value.field == "agent", "an agent-recorded consent must name the agent"
    with pytest.raises(ApplicationError):
        consent_record(customer=customer, channel="email", purpose="marketing", status="granted", source="api",
                       occurred_at=timezone.now() + datetime.timedelta(days=1))  # fmt: skip
    assert not Consent.objects.filter(customer=customer).exists()


def test_segment_consent_state_is_one_query(db, django_assert_num_queries):
    granted, withdrawn, never = CustomerFactory(), CustomerFactory(), CustomerFactory()
    record(granted, ConsentStatus.GRANTED)
    record(withdrawn, ConsentStatus.GRANTED, minutes_ago=30)
    record(withdrawn, ConsentStatus.WITHDRAWN, minutes_ago=1)
    with django_assert_num_queries(1):
        ids = set(customers_with_consent(channel="email", purpose="marketing").values_list("pk", flat=True))
    assert ids == {granted.pk}
    assert never.pk not in ids
