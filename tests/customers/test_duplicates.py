"""The duplicate finder: it finds email and fuzzy name duplicates, scores them, and respects dismissals."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from crm.errors import ApplicationError
from crm.schedule import DEFAULT_JOBS
from customers.models import Customer, DuplicatePair
from customers.services.duplicates import duplicate_dismiss, duplicates_find
from customers.tasks.duplicates import find_duplicates_task
from tests.customers_factories import AddressFactory, CustomerFactory, EmailFactory, MobileFactory

pytestmark = pytest.mark.django_db


def pair_of(a, b):
    low, high = sorted([a.pk, b.pk])
    return DuplicatePair.objects.get(customer_low_id=low, customer_high_id=high)


def test_it_finds_two_customers_with_the_same_email():
    first = CustomerFactory(given_name="Marie", family_name="Martin")
    second = CustomerFactory(given_name="Marie", family_name="Martin")
    stranger = CustomerFactory(given_name="Paul", family_name="Durand")
    EmailFactory(customer=first, value="marie.martin@example.fr")
    EmailFactory(customer=second, value="marie.martin@example.fr")
    EmailFactory(customer=stranger)

    assert duplicates_find() == 1

    pair = pair_of(first, second)
    assert pair.status == DuplicatePair.Status.PENDING
    assert float(pair.score) >= 0.9
    assert {"same_email", "same_name"} <= set(pair.reasons)


def test_it_finds_the_same_mobile_number():
    first, second = (
        CustomerFactory(given_name="Jean", family_name="Dupont"),
        CustomerFactory(given_name="Jean", family_name="Dupond"),
    )
    MobileFactory(customer=first, value="+33612345678")
    MobileFactory(customer=second, value="+33612345678")

    assert duplicates_find() == 1
    assert "same_phone" in pair_of(first, second).reasons


def test_it_finds_a_misspelt_name_in_the_same_postcode():
    marie = CustomerFactory(given_name="Marie", family_name="Lefèvre")
    typo = CustomerFactory(given_name="Marie", family_name="Lefebvre")
    elsewhere = CustomerFactory(given_name="Marie", family_name="Lefebvre")
    AddressFactory(customer=marie, postcode="75011")
    AddressFactory(customer=typo, postcode="75011")
    AddressFactory(customer=elsewhere, postcode="13001")

    duplicates_find()

    pair = pair_of(marie, typo)
    assert {"similar_name_postcode", "similar_name"} <= set(pair.reasons)
    assert not DuplicatePair.objects.filter(customer_high=elsewhere).exclude(customer_low=typo).exists()


def test_it_finds_the_same_name_and_birth_date():
    born = datetime.date(1975, 3, 14)
    first = CustomerFactory(given_name="Élodie", family_name="Moreau", birth_date=born)
    second = CustomerFactory(given_name="Elodie", family_name="Moreau", birth_date=born)

    duplicates_find()

    assert {"similar_name_birth_date", "same_birth_date"} <= set(pair_of(first, second).reasons)


def test_it_does_not_propose_namesakes_born_on_different_days_or_spouses():
    first = CustomerFactory(given_name="Marie", family_name="Martin", birth_date=datetime.date(1980, 1, 1))
    second = CustomerFactory(given_name="Marie", family_name="Martin", birth_date=datetime.date(1990, 6, 6))
    wife, husband = (
        CustomerFactory(given_name="Claire", family_name="Petit"),
        CustomerFactory(given_name="Hugo", family_name="Petit"),
    )
    for customer in (first, second, wife, husband):
        AddressFactory(customer=customer, postcode="33000")

    assert duplicates_find() == 0
    assert not DuplicatePair.objects.exists()


def test_it_never_proposes_a_dismissed_pair_again(supervisor):
    first, second = CustomerFactory(), CustomerFactory()
    EmailFactory(customer=first, value="shared@example.fr")
    EmailFactory(customer=second, value="shared@example.fr")
    duplicates_find()
    pair = DuplicatePair.objects.get()

    duplicate_dismiss(pair=pair, acting_user=supervisor)
    found_again = duplicates_find()

    pair.refresh_from_db()
    assert found_again == 0
    assert pair.status == DuplicatePair.Status.DISMISSED
    assert pair.reviewed_by == supervisor
    assert DuplicatePair.objects.count() == 1


def test_it_refuses_to_dismiss_a_pair_already_reviewed(supervisor):
    pair = DuplicatePair.objects.create(customer_low=CustomerFactory(), customer_high=CustomerFactory(), score=0.8,
                                        status=DuplicatePair.Status.MERGED)  # fmt: skip

    with pytest.raises(ApplicationError):
        duplicate_dismiss(pair=pair, acting_user=supervisor)

    pair.refresh_from_db()
    assert pair.status == DuplicatePair.Status.MERGED
    assert pair.reviewed_by is None


def test_it_ignores_merged_and_anonymised_customers():
    live = CustomerFactory(given_name="Anne", family_name="Roux")
    merged = CustomerFactory(given_name="Anne", family_name="Roux", merged_into=live, merged_at=timezone.now())
    gone = CustomerFactory(given_name="Anne", family_name="Roux", anonymised_at=timezone.now())
    for customer in (live, merged, gone):
        EmailFactory(customer=customer, value="anne@example.fr", is_primary=True)

    assert duplicates_find() == 0
    assert Customer.objects.count() == 3


def test_it_can_look_at_some_customers_only():
    first, second, third, fourth = (CustomerFactory(given_name="Luc", family_name=f"Blanc{n}") for n in range(4))
    EmailFactory(customer=first, value="a@example.fr")
    EmailFactory(customer=second, value="a@example.fr")
    EmailFactory(customer=third, value="b@example.fr")
    EmailFactory(customer=fourth, value="b@example.fr")

    assert duplicates_find(customer_ids=[third.pk]) == 1
    assert DuplicatePair.objects.get().customer_high == fourth
    assert duplicates_find(customer_ids=[]) == 0


def test_it_runs_as_a_nightly_task():
    first, second = CustomerFactory(), CustomerFactory()
    EmailFactory(customer=first, value="same@example.fr")
    EmailFactory(customer=second, value="same@example.fr")

    assert find_duplicates_task.delay().get() == 1
    assert find_duplicates_task.delay().get() == 0
    assert "customers.find_duplicates_task" in {job.task for job in DEFAULT_JOBS}
