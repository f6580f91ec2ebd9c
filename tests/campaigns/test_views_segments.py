"""Segment screens: the list (pinned queries, sparkline), the builder's live count and its errors,
saving, refresh on demand, CSV export, static segments from a list or a saved filter, and who may."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from campaigns.models import Segment, SegmentMember, SegmentSizeSnapshot
from campaigns.services.segments import segment_materialise
from customers.models import SavedFilter
from tests.customers_factories import CustomerFactory, EmailFactory

pytestmark = pytest.mark.django_db

STAGE_CUSTOMER = {"all": [{"field": "customer.stage", "op": "eq", "value": "customer"}]}


def _count(client, rules, **extra):
    return client.post(reverse("campaigns:segment_count_hx"), {"rules": json.dumps(rules), **extra})


def test_the_list_shows_size_last_refresh_and_a_trend_in_fixed_queries(client, marketer, django_assert_max_num_queries):
    for index in range(12):
        segment = Segment.objects.create(name=f"Segment {index:02d}", rules=STAGE_CUSTOMER, size=index * 10)
        for size in (index, index * 5, index * 10):
            SegmentSizeSnapshot.objects.create(segment=segment, size=size)
    client.force_login(marketer)

    with django_assert_max_num_queries(10):  # session, user, permissions, layout; 2 for the list
        response = client.get(reverse("campaigns:segment_list"))

    body = response.content.decode()
    assert response.status_code == 200
    assert body.count('data-testid="segment-row"') == 12
    assert "Segment 07" in body and ">70<" in body
    assert body.count("<polyline") == 12
    assert "Sizes over the last refreshes: 7, 35, 70" in body


def test_the_live_count_counts_the_rules_being_edited_and_samples_customers_linking_to_their_page(client, marketer):
    customers = CustomerFactory.create_batch(3, stage="customer")
    CustomerFactory.create_batch(2, stage="prospect")
    client.force_login(marketer)

    response = _count(client, STAGE_CUSTOMER)

    body = response.content.decode()
    assert response.status_code == 200
    assert '<div class="display-6" data-testid="live-count-value">3</div>' in body
    for customer in customers:
        assert reverse("customers:detail", args=[customer.pk]) in body
    assert not Segment.objects.exists()  # counting saves nothing


def test_a_rule_the_compiler_refuses_answers_a_message_naming_its_path(client, marketer):
    client.force_login(marketer)
    rules = {"all": [STAGE_CUSTOMER["all"][0], {"any": [{"field": "customer.password", "op": "eq", "value": "x"}]}]}

    response = _count(client, rules)

    body = response.content.decode()
    assert response.status_code == 200
    assert 'data-error-path="rules.all[1].any[0].field"' in body
    assert "rules.all[1].any[0].field: unknown field" in body


def test_saving_the_builder_creates_the_segment_and_queues_its_refresh(client, marketer,
                                                                       django_capture_on_commit_callbacks):  # fmt: skip
    CustomerFactory.create_batch(2, stage="customer")
    client.force_login(marketer)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("campaigns:segment_create"),
                               {"name": "Clients", "description": "", "rules": json.dumps(STAGE_CUSTOMER)})  # fmt: skip

    segment = Segment.objects.get(name="Clients")
    assert response.status_code == 302 and response["Location"] == reverse("campaigns:segment_detail",
                                                                            args=[segment.pk])  # fmt: skip
    assert segment.rules == STAGE_CUSTOMER and segment.owner == marketer
    segment.refresh_from_db()
    assert segment.size == 2 and segment.refresh_status == "idle"  # the eager task ran after commit


def test_saving_a_bad_tree_shows_the_path_and_saves_nothing(client, marketer):
    client.force_login(marketer)
    rules = {"all": [{"field": "orders.count", "op": "gte", "value": "many"}]}

    response = client.post(reverse("campaigns:segment_create"), {"name": "Gros", "rules": json.dumps(rules)})

    assert response.status_code == 200
    assert "rules.all[0].value: expected a number" in response.content.decode()
    assert not Segment.objects.exists()


def test_refresh_on_demand_recomputes_the_members(client, marketer, django_capture_on_commit_callbacks):
    segment = Segment.objects.create(name="Clients", rules=STAGE_CUSTOMER)
    segment_materialise(segment_id=segment.pk)
    CustomerFactory.create_batch(2, stage="customer")
    client.force_login(marketer)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("campaigns:segment_refresh", args=[segment.pk]))

    assert response.status_code == 302
    segment.refresh_from_db()
    assert segment.size == 2 and SegmentMember.objects.filter(segment=segment).count() == 2


def test_the_detail_page_polls_while_a_refresh_is_queued_and_reloads_when_done(client, marketer):
    segment = Segment.objects.create(name="Clients", rules=STAGE_CUSTOMER, refresh_status="queued")
    client.force_login(marketer)

    page = client.get(reverse("campaigns:segment_detail", args=[segment.pk])).content.decode()
    assert "every 2s" in page
    Segment.objects.filter(pk=segment.pk).update(refresh_status="idle")
    polled = client.get(reverse("campaigns:segment_status_hx", args=[segment.pk]) + "?watching=1")
    assert polled["HX-Refresh"] == "true"


def test_the_members_csv_follows_the_french_spreadsheet_rule(client, marketer):
    customer = CustomerFactory(given_name="=HYPERLINK(1)", family_name="Élodie", stage="customer")
    segment = Segment.objects.create(name="Clients", rules=STAGE_CUSTOMER)
    segment_materialise(segment_id=segment.pk)
    client.force_login(marketer)

    response = client.get(reverse("campaigns:segment_export", args=[segment.pk]), HTTP_ACCEPT_LANGUAGE="fr")

    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeffNuméro de compte;") or text.startswith("\ufeff")
    lines = text.lstrip("\ufeff").splitlines()
    assert ";" in lines[0] and len(lines) == 2
    assert lines[1].startswith(customer.account_number + ";")
    assert "'=HYPERLINK(1)" in lines[1] and "Élodie" in lines[1]


def test_the_members_csv_in_english_is_comma_separated_without_bom(client, marketer):
    CustomerFactory(stage="customer")
    segment = Segment.objects.create(name="Clients", rules=STAGE_CUSTOMER)
    segment_materialise(segment_id=segment.pk)
    client.force_login(marketer)

    text = b"".join(client.get(reverse("campaigns:segment_export", args=[segment.pk])).streaming_content).decode()

    assert text.startswith("Account number,Title,First name")


def test_a_static_segment_from_an_uploaded_list_adds_the_matches_and_reports_the_rest(client, marketer):
    from django.core.files.uploadedfile import SimpleUploadedFile

    known = CustomerFactory()
    EmailFactory(customer=known, value="anne.martin@example.fr")
    other = CustomerFactory()
    client.force_login(marketer)
    lines = f"email\nanne.martin@example.fr\n{other.account_number}\nnobody@example.fr\n"
    upload = SimpleUploadedFile("liste.csv", lines.encode())

    response = client.post(reverse("campaigns:segment_static_create"),
                           {"name": "Salon", "source": "upload", "file": upload}, follow=True)  # fmt: skip

    segment = Segment.objects.get(name="Salon")
    assert segment.kind == "static" and segment.size == 2
    assert set(SegmentMember.objects.filter(segment=segment).values_list("customer_id", flat=True)) == {
        known.pk,
        other.pk,
    }
    body = response.content.decode()
    assert "2 of 3 lines matched a customer." in body and "nobody@example.fr" in body


def test_a_static_segment_from_a_saved_filter(client, marketer):
    CustomerFactory.create_batch(2, stage="customer")
    CustomerFactory(stage="prospect")
    saved = SavedFilter.objects.create(owner=marketer, name="Mes clients", query="stage=customer")
    client.force_login(marketer)

    client.post(reverse("campaigns:segment_static_create"),
                {"name": "Figés", "source": "saved_filter", "saved_filter": saved.pk})  # fmt: skip

    assert Segment.objects.get(name="Figés").size == 2


def test_an_agent_may_not_open_the_builder_nor_count(client, agent):
    client.force_login(agent)

    assert client.get(reverse("campaigns:segment_list")).status_code == 403
    response = _count(client, STAGE_CUSTOMER)
    assert response.status_code == 403 and b"live-count-value" not in response.content
