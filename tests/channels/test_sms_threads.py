"""One open SMS thread per customer: two texts arriving at once, on two real database connections,
end in the same thread; a merge of two customers who each have one keeps one open."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, transaction

from channels.models import Conversation, Interaction
from channels.services.sms import sms_inbound_receive
from crm.errors import ApplicationError
from customers.services.merge import customer_merge
from tests.customers_factories import CustomerFactory, MobileFactory


def _waiting_on_a_lock() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


def _race(sender: str) -> list[BaseException]:
    """The first text's transaction stays open (its thread inserted, not committed) while the second
    text arrives: the second finds no thread to lock. Then the first commits and both finish."""
    inserted, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def first():
        try:
            with transaction.atomic():
                sms_inbound_receive(sender=sender, recipient="38000", text="Bonjour, mon colis ?", message_id="race-1")
                inserted.set()
                release.wait(10)
        except BaseException as error:  # noqa: BLE001 -- reported to the test below
            errors.append(error)
            inserted.set()
        finally:
            connection.close()

    def second():
        try:
            sms_inbound_receive(sender=sender, recipient="38000", text="Toujours rien reçu.", message_id="race-2")
        except BaseException as error:  # noqa: BLE001
            errors.append(error)
        finally:
            connection.close()

    one = threading.Thread(target=first)
    one.start()
    assert inserted.wait(10)
    two = threading.Thread(target=second)
    two.start()
    # The second either waits for the first (on the unique index) or, without the constraint, gets through.
    deadline = time.monotonic() + 10
    while two.is_alive() and not _waiting_on_a_lock() and time.monotonic() < deadline:
        time.sleep(0.02)
    release.set()
    one.join(10)
    two.join(10)
    return errors


@pytest.mark.django_db(transaction=True)
def test_it_puts_two_concurrent_texts_of_one_customer_in_one_thread():
    customer = CustomerFactory(given_name="Paul", family_name="Durand")
    MobileFactory(customer=customer, value="+33698765432")

    errors = _race("+33698765432")

    assert errors == []
    [thread] = Conversation.objects.filter(kind="sms", customer=customer)
    assert thread.status != "closed"
    texts = Interaction.objects.filter(channel="sms", direction="inbound").order_by("external_id")
    assert [(i.external_id, i.conversation_id, i.customer_id) for i in texts] == [
        ("race-1", thread.pk, customer.pk),
        ("race-2", thread.pk, customer.pk),
    ]


@pytest.mark.django_db(transaction=True)
def test_it_puts_two_concurrent_texts_of_an_unknown_number_in_one_thread():
    errors = _race("+33611223344")

    assert errors == []
    [thread] = Conversation.objects.filter(kind="sms", customer__isnull=True)
    assert thread.visitor_id == "tel:+33611223344"
    assert set(Interaction.objects.filter(channel="sms").values_list("conversation_id", flat=True)) == {thread.pk}


@pytest.mark.django_db
def test_the_database_refuses_a_second_open_sms_thread_but_not_a_closed_one_or_an_email_thread():
    customer = CustomerFactory()
    Conversation.objects.create(customer=customer, kind="sms", status="open")
    Conversation.objects.create(customer=customer, kind="sms", status="closed")
    Conversation.objects.create(customer=customer, kind="email", status="open")
    Conversation.objects.create(customer=customer, kind="email", status="open")

    with pytest.raises(Exception, match="conversation_one_open_sms"), transaction.atomic():
        Conversation.objects.create(customer=customer, kind="sms", status="waiting")

    assert Conversation.objects.filter(customer=customer, kind="sms").count() == 2


@pytest.mark.django_db
def test_merging_two_customers_with_an_open_sms_thread_each_keeps_one_open(admin_staff):
    survivor, duplicate = CustomerFactory(), CustomerFactory()
    kept = Conversation.objects.create(customer=survivor, kind="sms", status="open")
    other = Conversation.objects.create(customer=duplicate, kind="sms", status="open")

    try:
        customer_merge(survivor=survivor, duplicate=duplicate, acting_user=admin_staff)
    except ApplicationError as error:  # what the constraint gave before the merge rule existed
        pytest.fail(f"the merge was refused: {error.message}")

    other.refresh_from_db()
    kept.refresh_from_db()
    assert other.customer_id == survivor.pk and other.status == "closed" and other.closed_at is not None
    assert kept.customer_id == survivor.pk and kept.status == "open"
