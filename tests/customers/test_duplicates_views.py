"""Duplicates screens: who may see, merge and dismiss; the preview; query counts on the list."""

from __future__ import annotations

import pytest
from django.urls import reverse

from customers.models import ContactPoint, Customer, DuplicatePair, Order
from customers.services.records import customer_update
from customers.tasks.duplicates import find_duplicates_task
from tests.customers_factories import CustomerFactory, EmailFactory, OrderFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def pair():
    low = CustomerFactory(given_name="Marie", family_name="Martin")
    high = CustomerFactory(given_name="Marie", family_name="Martin")
    high = customer_update(customer=high, family_name="Martin-Durand")
    EmailFactory(customer=low, value="marie@example.fr")
    EmailFactory(customer=high, value="marie@example.fr")
    OrderFactory(customer=high)
    return DuplicatePair.objects.create(customer_low=low, customer_high=high, score="0.950",
                                        reasons=["same_email", "similar_name"])  # fmt: skip


def test_it_lists_pending_pairs_best_first_with_their_reasons(client, agent, pair):
    weaker = DuplicatePair.objects.create(customer_low=CustomerFactory(given_name="Zoé"),
                                          customer_high=CustomerFactory(), score="0.610")  # fmt: skip
    DuplicatePair.objects.create(customer_low=CustomerFactory(given_name="Dismissed"), customer_high=CustomerFactory(),
                                 score="0.990", status=DuplicatePair.Status.DISMISSED)  # fmt: skip
    client.force_login(agent)

    response = client.get(reverse("customers:duplicates"))

    body = response.content.decode()
    assert response.status_code == 200
    assert "Same email address" in body and "Similar name" in body
    assert body.index(pair.customer_high.account_number) < body.index(weaker.customer_low.account_number)
    assert "Dismissed" not in body
    assert reverse("customers:duplicate_review", args=[pair.pk]) not in body  # agents cannot merge
    assert "Find duplicates now" not in body


def test_it_pins_the_query_count_of_the_list(client, supervisor, django_assert_max_num_queries):
    for _ in range(30):
        DuplicatePair.objects.create(customer_low=CustomerFactory(), customer_high=CustomerFactory(), score="0.8")
    client.force_login(supervisor)

    with django_assert_max_num_queries(8):
        response = client.get(reverse("customers:duplicates"))

    assert response.content.decode().count('data-testid="duplicate-row"') == 25
    assert "Page 1 of 2" in response.content.decode()


def test_it_shows_the_surviving_values_side_by_side(client, supervisor, pair):
    client.force_login(supervisor)

    response = client.get(reverse("customers:duplicate_review", args=[pair.pk]))

    body = response.content.decode()
    assert response.status_code == 200
    assert pair.customer_low.account_number in body and pair.customer_high.account_number in body
    assert "Martin-Durand" in body
    assert 'name="choice_family_name" value="duplicate" checked' in body
    assert "Changed more recently on the duplicate" in body


def test_a_supervisor_merges_a_pair_with_an_override(client, supervisor, pair):
    client.force_login(supervisor)
    low, high = pair.customer_low, pair.customer_high

    response = client.post(reverse("customers:duplicate_review", args=[pair.pk]),
                           {"survivor": low.pk, "choice_family_name": "survivor"})  # fmt: skip

    assert response.status_code == 302
    assert response["Location"] == low.get_absolute_url()
    high.refresh_from_db()
    low.refresh_from_db()
    pair.refresh_from_db()
    assert high.merged_into == low
    assert low.family_name == "Martin"
    assert Order.objects.get().customer == low
    assert ContactPoint.objects.filter(customer=low).count() == 1
    assert pair.status == DuplicatePair.Status.MERGED


def test_a_supervisor_can_keep_the_other_customer(client, supervisor, pair):
    client.force_login(supervisor)
    low, high = pair.customer_low, pair.customer_high

    response = client.post(reverse("customers:duplicate_review", args=[pair.pk]), {"survivor": high.pk})

    assert response["Location"] == high.get_absolute_url()
    low.refresh_from_db()
    assert low.merged_into_id == high.pk


@pytest.mark.parametrize("who", ["agent", "marketer"])
def test_others_cannot_review_merge_or_dismiss(client, request, who, pair):
    client.force_login(request.getfixturevalue(who))

    review = client.get(reverse("customers:duplicate_review", args=[pair.pk]))
    merge = client.post(reverse("customers:duplicate_review", args=[pair.pk]), {"survivor": pair.customer_low_id})
    dismiss = client.post(reverse("customers:duplicate_dismiss", args=[pair.pk]))
    by_hand = client.post(reverse("customers:merge", args=[pair.customer_low_id]), {"with": pair.customer_high_id})

    assert [review.status_code, merge.status_code, dismiss.status_code, by_hand.status_code] == [403] * 4
    assert pair.customer_high.account_number.encode() not in review.content
    pair.refresh_from_db()
    assert pair.status == DuplicatePair.Status.PENDING
    assert Customer.objects.filter(merged_into__isnull=False).count() == 0


def test_a_marketer_cannot_see_the_list(client, marketer, pair):
    client.force_login(marketer)

    response = client.get(reverse("customers:duplicates"))

    assert response.status_code == 403
    assert pair.customer_low.account_number.encode() not in response.content


def test_anonymous_visitors_are_sent_to_sign_in(client, pair):
    for url in (reverse("customers:duplicates"), reverse("customers:duplicate_review", args=[pair.pk])):
        response = client.get(url)
        assert response.status_code == 302
        assert "/login" in response["Location"] or "login" in response["Location"]


def test_a_supervisor_dismisses_a_pair(client, supervisor, pair):
    client.force_login(supervisor)

    response = client.post(reverse("customers:duplicate_dismiss", args=[pair.pk]), follow=True)

    pair.refresh_from_db()
    assert pair.status == DuplicatePair.Status.DISMISSED
    assert pair.customer_high.account_number not in response.content.decode()
    assert "will not be proposed again" in response.content.decode()


def test_it_merges_two_customers_chosen_by_hand(client, supervisor):
    survivor, duplicate = CustomerFactory(), CustomerFactory()
    OrderFactory(customer=duplicate)
    client.force_login(supervisor)

    preview = client.get(reverse("customers:merge", args=[survivor.pk]), {"with": duplicate.account_number})
    response = client.post(reverse("customers:merge", args=[survivor.pk]), {"with": duplicate.pk})

    assert preview.status_code == 200 and duplicate.account_number in preview.content.decode()
    assert response.status_code == 302
    duplicate.refresh_from_db()
    assert duplicate.merged_into == survivor


def test_it_refuses_to_merge_a_customer_into_itself_and_says_why(client, supervisor):
    marie = CustomerFactory()
    client.force_login(supervisor)

    response = client.post(reverse("customers:merge", args=[marie.pk]), {"with": marie.pk})

    assert response.status_code == 400
    assert "cannot be merged into itself" in response.content.decode()
    marie.refresh_from_db()
    assert marie.is_live


def test_a_supervisor_starts_a_scan(client, supervisor, django_capture_on_commit_callbacks):
    first, second = CustomerFactory(), CustomerFactory()
    EmailFactory(customer=first, value="same@example.fr")
    EmailFactory(customer=second, value="same@example.fr")
    client.force_login(supervisor)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(reverse("customers:duplicates_scan"))

    assert response.status_code == 302
    assert len(callbacks) == 1
    assert DuplicatePair.objects.filter(status=DuplicatePair.Status.PENDING).count() == 1


def test_an_agent_cannot_start_a_scan(client, agent, django_capture_on_commit_callbacks):
    client.force_login(agent)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(reverse("customers:duplicates_scan"))

    assert response.status_code == 403
    assert callbacks == []


def test_a_scan_shows_its_progress_and_the_list_reloads_when_it_ends(client, supervisor):
    from django.core.cache import cache

    from customers.services.duplicates import SCAN_STATE_KEY

    cache.delete(SCAN_STATE_KEY)
    first, second = CustomerFactory(), CustomerFactory()
    EmailFactory(customer=first, value="same@example.fr")
    EmailFactory(customer=second, value="same@example.fr")
    client.force_login(supervisor)

    queued = client.post(reverse("customers:duplicates_scan"), follow=True).content.decode()  # no worker yet
    status_url = reverse("customers:duplicates_scan_status")
    assert f'hx-get="{status_url}?watching=1" hx-trigger="every 2s"' in queued
    assert "This list refreshes by itself when the search is done." in queued
    polled = client.get(status_url, {"watching": "1"}, HTTP_HX_REQUEST="true")
    assert "HX-Refresh" not in polled and 'hx-trigger="every 2s"' in polled.content.decode()

    find_duplicates_task.delay()  # the worker runs the scan
    ended = client.get(status_url, {"watching": "1"}, HTTP_HX_REQUEST="true")
    assert ended["HX-Refresh"] == "true"
    page = client.get(reverse("customers:duplicates")).content.decode()
    assert "Last search: 1 new pair found." in page and 'hx-trigger="every 2s"' not in page
