"""The customer list: filters, sort, keyset pages, counts, saved filters, access, query count."""

from __future__ import annotations

import datetime
import re

import pytest
from django.utils import timezone

from customers.models import AttributeDefinition, Customer, SavedFilter
from customers.selectors_list import customer_list_count, customer_list_queryset
from tests.customers_factories import AddressFactory, ConsentFactory, CustomerFactory, EmailFactory, MobileFactory

pytestmark = pytest.mark.django_db


def shown(response) -> list[str]:
    body = response.content.decode()
    return re.findall(r'<a href="/customers/\d+/" class="fw-semibold[^"]*">([^<]+)</a>', body)


@pytest.fixture
def signed_in(client, agent):
    client.force_login(agent)
    return client


def test_it_lists_live_customers_newest_first(signed_in):
    CustomerFactory(given_name="Old", family_name="One", created_at=timezone.now() - datetime.timedelta(days=3))
    CustomerFactory(given_name="New", family_name="One")
    CustomerFactory(given_name="Gone", family_name="One", anonymised_at=timezone.now())
    assert shown(signed_in.get("/customers/")) == ["New One", "Old One"]


def test_it_filters_by_stage_owner_and_tag(signed_in, agent):
    CustomerFactory(given_name="Lead", family_name="Owned", stage="lead", owner=agent, tags=["vip"])
    CustomerFactory(given_name="Lead", family_name="Other", stage="lead")
    CustomerFactory(given_name="Prospect", family_name="Owned", owner=agent, tags=["vip"])
    assert shown(signed_in.get("/customers/", {"stage": "lead"})) == ["Lead Other", "Lead Owned"]
    assert shown(signed_in.get("/customers/", {"stage": "lead", "owner": agent.pk})) == ["Lead Owned"]
    assert shown(signed_in.get("/customers/", {"tag": "VIP", "sort": "name"})) == ["Lead Owned", "Prospect Owned"]


def test_it_filters_by_effective_consent(signed_in):
    granted = CustomerFactory(given_name="Gina", family_name="Granted")
    ConsentFactory(customer=granted, channel="email", status="granted")
    withdrawn = CustomerFactory(given_name="Will", family_name="Withdrawn")
    ConsentFactory(customer=withdrawn, channel="email", status="granted",
                   occurred_at=timezone.now() - datetime.timedelta(days=2))  # fmt: skip
    ConsentFactory(customer=withdrawn, channel="email", status="withdrawn")
    CustomerFactory(given_name="Nora", family_name="Never")
    params = {"consent_channel": "email", "consent_purpose": "marketing"}
    assert shown(signed_in.get("/customers/", {**params, "consent_status": "granted"})) == ["Gina Granted"]
    assert shown(signed_in.get("/customers/", {**params, "consent_status": "withdrawn"})) == ["Will Withdrawn"]
    assert shown(signed_in.get("/customers/", {**params, "consent_status": "unknown"})) == ["Nora Never"]


def test_it_filters_by_custom_attribute_and_created_range(signed_in):
    AttributeDefinition.objects.create(key="loyalty_card", label="Loyalty card", type="boolean")
    AttributeDefinition.objects.create(key="segment", label="Segment", type="text")
    CustomerFactory(given_name="Card", family_name="Holder", attributes={"loyalty_card": True, "segment": "gold"})
    CustomerFactory(given_name="No", family_name="Card", attributes={"loyalty_card": False},
                    created_at=timezone.now() - datetime.timedelta(days=40))  # fmt: skip
    assert shown(signed_in.get("/customers/", {"attribute": "loyalty_card", "attribute_value": "yes"})) == [
        "Card Holder"
    ]
    assert shown(signed_in.get("/customers/", {"attribute": "segment", "attribute_value": "gold"})) == ["Card Holder"]
    assert shown(signed_in.get("/customers/", {"attribute": "segment"})) == ["Card Holder"]
    since = (timezone.localdate() - datetime.timedelta(days=50)).isoformat()
    until = (timezone.localdate() - datetime.timedelta(days=30)).isoformat()
    assert shown(signed_in.get("/customers/", {"created_after": since, "created_before": until})) == ["No Card"]


def test_its_text_filter_reads_names_emails_and_phones(signed_in):
    customer = CustomerFactory(given_name="Élodie", family_name="Rémy")
    EmailFactory(customer=customer, value="elodie@example.fr")
    MobileFactory(customer=customer, value="+33611223344")
    CustomerFactory(given_name="Paul", family_name="Roux")
    assert shown(signed_in.get("/customers/", {"q": "elodie remy"})) == ["Élodie Rémy"]
    assert shown(signed_in.get("/customers/", {"q": "elodie@example.fr"})) == ["Élodie Rémy"]
    assert shown(signed_in.get("/customers/", {"q": "06 11 22 33 44"})) == ["Élodie Rémy"]


def test_it_sorts_by_name_both_ways(signed_in):
    for family in ("Bernard", "Adam", "Colin"):
        CustomerFactory(given_name="", family_name=family)
    assert shown(signed_in.get("/customers/", {"sort": "name"})) == ["Adam", "Bernard", "Colin"]
    assert shown(signed_in.get("/customers/", {"sort": "-name"})) == ["Colin", "Bernard", "Adam"]


@pytest.mark.parametrize("sort", ["-created", "created", "name", "-name", "stage"])
def test_it_pages_by_keyset_without_gaps_or_repeats(signed_in, sort):
    stamp = timezone.now()
    for index in range(57):
        CustomerFactory(given_name="P", family_name=f"Person{index:02d}", stage=["lead", "prospect"][index % 2],
                        created_at=stamp - datetime.timedelta(minutes=index // 3))  # fmt: skip
    first = signed_in.get("/customers/", {"sort": sort})
    names = shown(first)
    assert len(names) == 50
    next_url = re.search(r'href="(/customers/\?[^"]*cursor=[^"]+)"', first.content.decode()).group(1)
    second = signed_in.get(next_url.replace("&amp;", "&"))
    rest = shown(second)
    assert len(rest) == 7
    assert sorted(names + rest) == sorted(f"P Person{index:02d}" for index in range(57))
    assert b"next-page" not in second.content


def test_a_tampered_cursor_shows_the_first_page(signed_in):
    CustomerFactory(given_name="Only", family_name="One")
    assert shown(signed_in.get("/customers/", {"cursor": "not-a-cursor"})) == ["Only One"]


def test_it_counts_filtered_results_exactly_and_caps_large_counts(signed_in):
    for index in range(5):
        CustomerFactory(given_name="Lead", family_name=f"L{index}", stage="lead")
    response = signed_in.get("/customers/", {"stage": "lead"})
    assert "5 customers" in response.content.decode()
    count = customer_list_count(queryset=customer_list_queryset(), is_filtered=True, cap=3)
    assert (count.value, count.is_capped) == (3, True)


def test_the_list_page_uses_a_fixed_number_of_queries(signed_in, django_assert_max_num_queries):
    for index in range(30):
        customer = CustomerFactory(given_name="Q", family_name=f"Count{index}", tags=["a", "b"])
        EmailFactory(customer=customer)
        MobileFactory(customer=customer)
        AddressFactory(customer=customer)
    with django_assert_max_num_queries(12):
        response = signed_in.get("/customers/", {"stage": "prospect", "tag": "a", "sort": "name"})
    assert len(shown(response)) == 30


def test_an_htmx_request_gets_only_the_results(signed_in):
    CustomerFactory(given_name="Only", family_name="One")
    response = signed_in.get("/customers/", {"q": "only"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert 'id="customer-results"' in body and "<html" not in body and "Only One" in body


def test_a_saved_filter_is_listed_for_its_owner_and_shared_ones_for_the_team(client, agent, make_staff):
    teammate = make_staff("Agent", username="teammate")
    client.force_login(agent)
    response = client.post("/customers/filters/", {"name": "My leads", "query": "stage=lead&cursor=abc"})
    assert response.status_code == 302
    assert response["Location"] == "/customers/?stage=lead"
    client.post("/customers/filters/", {"name": "Team VIP", "query": "tag=vip", "is_shared": "on"})
    saved = SavedFilter.objects.get(name="My leads")
    assert (saved.owner, saved.query, saved.is_shared) == (agent, "stage=lead", False)
    assert "My leads" in client.get("/customers/").content.decode()

    client.force_login(teammate)
    body = client.get("/customers/").content.decode()
    assert "Team VIP" in body and "My leads" not in body
    response = client.post(f"/customers/filters/{saved.pk}/delete/")
    assert response.status_code == 404
    assert SavedFilter.objects.filter(pk=saved.pk).exists()

    client.force_login(agent)
    client.post(f"/customers/filters/{saved.pk}/delete/")
    assert not SavedFilter.objects.filter(pk=saved.pk).exists()


def test_filtering_in_place_updates_the_filter_that_save_will_keep(signed_in):
    CustomerFactory(given_name="Only", family_name="Lead", stage="lead")
    response = signed_in.get("/customers/", {"stage": "lead", "q": "only"}, HTTP_HX_REQUEST="true")
    oob = re.search(r'<input type="hidden" name="query" value="([^"]*)" id="saved-filter-query" hx-swap-oob="true">',
                    response.content.decode())  # fmt: skip
    assert oob and oob.group(1).replace("&amp;", "&") == "stage=lead&q=only"


def test_an_empty_filter_is_not_saved(signed_in):
    response = signed_in.post("/customers/filters/", {"name": "Everyone", "query": "cursor=abc"}, follow=True)
    assert SavedFilter.objects.count() == 0
    assert "Filter the list first, then save the filter." in response.content.decode()


def test_a_saved_filter_without_a_name_is_refused(signed_in):
    signed_in.post("/customers/filters/", {"name": "  ", "query": "stage=lead"})
    assert SavedFilter.objects.count() == 0


def test_a_marketer_reads_the_list_and_staff_without_a_role_do_not(client, marketer, make_staff):
    CustomerFactory(given_name="Visible", family_name="Customer")
    client.force_login(marketer)
    response = client.get("/customers/")
    assert response.status_code == 200 and "Visible Customer" in response.content.decode()
    assert b'data-testid="new-customer"' not in response.content
    client.force_login(make_staff(None, username="norole"))
    response = client.get("/customers/")
    assert response.status_code == 403 and "Visible Customer" not in response.content.decode()
    assert Customer.objects.count() == 1


def test_the_owner_filter_is_a_search_picker_not_a_list_of_every_staff_member(signed_in, agent, make_staff):
    from crm import roles

    team = [make_staff(roles.AGENT, first_name="Agent", last_name=f"Nº{index:03d}") for index in range(120)]
    chloe = make_staff(roles.AGENT, first_name="Chloé", last_name="Lefèvre", username="chloe.lefevre")
    CustomerFactory(given_name="Owned", family_name="ByChloe", owner=chloe)
    CustomerFactory(given_name="Owned", family_name="ByNobody", owner=None)
    body = signed_in.get("/customers/").content.decode()
    assert "Nº042" not in body and 'name="owner"' in body, "no option per staff member in the page"

    # The picker finds people by any part of their name, and offers "No owner" before anything is typed.
    options = signed_in.get("/customers/owners/_hx/", {"q": "lefèvre"}).content.decode()
    assert f'data-value="{chloe.pk}"' in options and "Chloé Lefèvre" in options
    assert f'data-value="{team[0].pk}"' not in options
    assert 'data-value="null"' in signed_in.get("/customers/owners/_hx/").content.decode()
    crowd = signed_in.get("/customers/owners/_hx/", {"q": "agent"}).content.decode()
    assert crowd.count('role="option"') == 21 and "More match" in crowd  # "Anyone" + 20, then "type more"

    # Its value filters the list, and the chosen name is shown back in the box.
    page = signed_in.get("/customers/", {"owner": chloe.pk}).content.decode()
    assert shown(signed_in.get("/customers/", {"owner": chloe.pk})) == ["Owned ByChloe"]
    assert 'value="Chloé Lefèvre"' in page
    assert "Owned ByNobody" in shown(signed_in.get("/customers/", {"owner": "null"}))
    assert "Owned ByChloe" not in shown(signed_in.get("/customers/", {"owner": "null"}))
