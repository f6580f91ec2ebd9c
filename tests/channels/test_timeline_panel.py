"""The 360 timeline: order, filter chips, infinite scroll, sanitised bodies, query count, cost of service."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pytest
from django.utils import timezone

from channels.models import ChannelCost, Interaction
from channels.selectors import TimelineCursor, customer_cost_of_service, interaction_timeline
from channels.services.interactions import interaction_record
from tests.channels_factories import CaseFactory, ConversationFactory, InteractionFactory
from tests.customers_factories import CustomerFactory

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}


def entry_ids(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'data-interaction="(\d+)"', html)]


def test_the_360_page_shows_the_timeline_newest_first_with_what_happened(client, agent):
    customer = CustomerFactory()
    now = timezone.now()
    case = CaseFactory(customer=customer)
    old = InteractionFactory(customer=customer, occurred_at=now - datetime.timedelta(days=3), subject="Ancien appel")
    new = interaction_record(
        channel="phone", direction="inbound", kind="call", customer=customer, agent=agent, subject="Box en panne",
        outcome="resolved", duration_seconds=185, case=case, occurred_at=now - datetime.timedelta(hours=1),
    )  # fmt: skip
    InteractionFactory(customer=CustomerFactory(), subject="Someone else's call")
    client.force_login(agent)

    page = client.get(f"/customers/{customer.pk}/").content.decode()

    assert entry_ids(page) == [new.pk, old.pk]
    assert "Box en panne" in page and "resolved" in page and "3:05" in page and "6.00 EUR" in page
    assert f"Case {case.number}" in page
    assert "Someone else" not in page
    for action in ("composer-call_log", "composer-visit_log", "composer-note_add"):
        assert f'data-testid="{action}"' in page


def test_it_says_what_to_do_when_there_is_nothing_yet(client, agent):
    customer = CustomerFactory()
    client.force_login(agent)
    page = client.get(f"/customers/{customer.pk}/").content.decode()
    assert 'data-testid="timeline-empty"' in page and "Log a call, a visit or a note" in page
    assert 'data-testid="cost-empty"' in page


def test_filter_chips_keep_only_the_chosen_channel_and_kind(client, agent):
    customer = CustomerFactory()
    call = InteractionFactory(customer=customer, channel="phone", kind="call")
    email = InteractionFactory(customer=customer, channel="email", kind="email")
    note = InteractionFactory(customer=customer, channel="phone", kind="note")
    client.force_login(agent)
    url = f"/channels/customers/{customer.pk}/timeline/"

    assert entry_ids(client.get(url, {"channel": "email"}, **HX).content.decode()) == [email.pk]
    assert entry_ids(client.get(url, {"channel": "phone"}, **HX).content.decode()) == [note.pk, call.pk]
    body = client.get(url, {"channel": "phone", "kind": "call"}, **HX).content.decode()
    assert entry_ids(body) == [call.pk]
    assert 'aria-pressed="true" data-testid="chip-channel-phone"' in body
    assert 'data-testid="clear-filters"' in body
    empty = client.get(url, {"channel": "sms"}, **HX).content.decode()
    assert entry_ids(empty) == [] and "Nothing on this channel" in empty


def test_infinite_scroll_pages_through_everything_once_in_order(client, agent, django_assert_max_num_queries):
    customer = CustomerFactory()
    base = timezone.now() - datetime.timedelta(days=1)
    # 120 entries, ten of them at the very same instant: the cursor must break ties by id.
    created = [InteractionFactory(customer=customer, occurred_at=base - datetime.timedelta(minutes=i // 10 * 10))
               for i in range(120)]  # fmt: skip
    expected = [i.pk for i in sorted(created, key=lambda i: (i.occurred_at, i.pk), reverse=True)]
    client.force_login(agent)
    url = f"/channels/customers/{customer.pk}/timeline/"

    seen, pages = [], 0
    response = client.get(url, **HX)
    while True:
        html = response.content.decode()
        seen += entry_ids(html)
        pages += 1
        more = re.search(r'hx-get="([^"]+)" hx-trigger="revealed"', html)
        if not more:
            break
        assert 'hx-swap="outerHTML"' in html
        # session, user, user and group permissions, the customer, the page: 6 whatever the page
        with django_assert_max_num_queries(6):
            response = client.get(more.group(1).replace("&amp;", "&"), **HX)
    assert pages == 3
    assert seen == expected


def test_a_page_is_one_query_whatever_the_entries_link_to(django_assert_num_queries, agent):
    customer = CustomerFactory()
    case = CaseFactory(customer=customer)
    for _ in range(60):
        InteractionFactory(customer=customer, agent=agent, case=case)
    with django_assert_num_queries(1):
        page = interaction_timeline(customer=customer)
        assert [e.case_number for e in page.entries][:1] == [case.number]
        assert page.entries[0].agent_name == (agent.get_full_name() or agent.username)
    assert len(page.entries) == 50 and page.next_cursor
    rest = interaction_timeline(customer=customer, before=TimelineCursor.decode(page.next_cursor))
    assert len(rest.entries) == 10 and rest.next_cursor is None


def test_a_bad_cursor_starts_from_the_top():
    assert TimelineCursor.decode("nonsense") is None
    assert TimelineCursor.decode("12.x") is None


def test_the_body_is_shown_sanitised_even_if_it_was_stored_raw(client, agent):
    customer = CustomerFactory()
    recorded = interaction_record(channel="email", direction="inbound", kind="email", customer=customer,
                                  body_html='<p>Bonjour <b>Marie</b></p><script>alert("rec")</script>'
                                            '<img src="x" onerror="alert(1)">')  # fmt: skip
    # A row loaded in bulk (COPY, demo data) never went through interaction_record.
    raw = InteractionFactory(customer=customer, body='<p>Brut</p><script>alert("raw")</script>'
                                                     '<a href="javascript:alert(2)">lien</a>')  # fmt: skip
    client.force_login(agent)
    page = client.get(f"/customers/{customer.pk}/").content.decode()
    assert "<p>Bonjour <b>Marie</b></p>" in page and "<p>Brut</p>" in page
    assert "<script>alert(" not in page and "onerror" not in page and "javascript:alert" not in page
    assert entry_ids(page) == [raw.pk, recorded.pk]


def test_the_cost_of_service_sums_the_last_twelve_months_per_channel(client, agent):
    customer = CustomerFactory()
    now = timezone.now()
    for _ in range(3):
        interaction_record(channel="phone", direction="inbound", kind="call", customer=customer)
    interaction_record(channel="email", direction="inbound", kind="email", customer=customer)
    interaction_record(channel="phone", direction="outbound", kind="note", customer=customer, cost=Decimal("0"))
    interaction_record(channel="face_to_face", direction="inbound", kind="visit", customer=customer,
                       occurred_at=now - datetime.timedelta(days=400))  # fmt: skip

    cost = customer_cost_of_service(customer=customer)
    assert [(line.channel, line.count, line.total) for line in cost.lines] == [
        ("phone", 3, Decimal("18.00")),
        ("email", 1, Decimal("0.02")),
    ]
    assert (cost.count, cost.total) == (4, Decimal("18.02"))

    client.force_login(agent)
    page = client.get(f"/customers/{customer.pk}/").content.decode()
    assert 'data-testid="cost-total">18.02<' in page and "Cost (EUR)" in page


def test_a_changed_channel_cost_applies_to_the_next_interaction(client, admin_staff, agent):
    customer = CustomerFactory()
    before = interaction_record(channel="phone", direction="inbound", kind="call", customer=customer)
    cost = ChannelCost.objects.get(channel="phone")
    client.force_login(admin_staff)
    response = client.post(f"/admin/channels/channelcost/{cost.pk}/change/",
                           {"channel": "phone", "amount": "7.50", "currency": "EUR"})  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:2000]

    client.force_login(agent)
    client.post(f"/channels/customers/{customer.pk}/calls/log/",
                {"direction": "outbound", "reason": "Rappel", "outcome": "answered",
                 "occurred_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M")})  # fmt: skip
    after = Interaction.objects.filter(customer=customer).exclude(pk=before.pk).get()
    assert (before.cost, after.cost) == (Decimal("6.00"), Decimal("7.50"))


def test_who_sees_the_timeline(client, agent, marketer, make_staff):
    customer = CustomerFactory()
    InteractionFactory(customer=customer, subject="Appel confidentiel")
    url = f"/channels/customers/{customer.pk}/timeline/"
    client.force_login(marketer)
    page = client.get(f"/customers/{customer.pk}/").content.decode()
    assert "Appel confidentiel" in page
    assert 'data-testid="composer-call_log"' not in page  # read only
    assert client.get(url).status_code == 200
    client.force_login(make_staff(None, username="nobody"))
    response = client.get(url)
    assert response.status_code == 403 and "Appel confidentiel" not in response.content.decode()


def test_a_merged_away_customers_timeline_redirects_to_the_survivor(client, agent):
    survivor = CustomerFactory()
    tombstone = CustomerFactory(merged_into=survivor)
    client.force_login(agent)
    response = client.get(f"/channels/customers/{tombstone.pk}/timeline/")
    assert response.status_code == 302 and response["Location"] == f"/channels/customers/{survivor.pk}/timeline/"


def test_entries_link_to_their_case_and_their_email_thread(client, agent):
    customer = CustomerFactory()
    case = CaseFactory(customer=customer)
    thread = ConversationFactory(customer=customer, case=case, subject="Remboursement")
    InteractionFactory(customer=customer, channel="email", kind="email", case=case, conversation=thread)
    client.force_login(agent)
    page = client.get(f"/channels/customers/{customer.pk}/timeline/", HTTP_HX_REQUEST="true").content.decode()
    assert f'href="/channels/desk/cases/{case.pk}/" data-testid="entry-case"' in page
    assert f'href="/channels/email/threads/{thread.pk}/" data-testid="entry-conversation"' in page
    assert "Conversation: Remboursement" in page


def test_entries_built_in_python_escape_every_value_and_show_local_time_in_the_locale(client, agent):
    from django.utils import translation

    customer = CustomerFactory()
    at = datetime.datetime(2026, 3, 1, 23, 30, tzinfo=datetime.UTC)  # 00:30 on 2 March in Paris
    InteractionFactory(customer=customer, occurred_at=at, subject='<script>alert("s")</script>',
                       summary="<b>x</b> & " + "y" * 400, outcome='"quoted"', cost=Decimal("6.00"),
                       duration_seconds=75, metadata={"store": "<i>Lyon</i>"})  # fmt: skip
    client.force_login(agent)
    with translation.override("fr"), timezone.override("Europe/Paris"):
        body = client.get(f"/channels/customers/{customer.pk}/timeline/", HTTP_ACCEPT_LANGUAGE="fr", **HX)
    html = body.content.decode()
    assert "<script>alert" not in html and "&lt;script&gt;alert(&quot;s&quot;)&lt;/script&gt;" in html
    assert "&lt;b&gt;x&lt;/b&gt; &amp; " + "y" * 288 + "…</div>" in html  # cut at 300 characters
    assert 'data-testid="entry-outcome">&quot;quoted&quot;</span>' in html
    assert "&lt;i&gt;Lyon&lt;/i&gt;" in html and 'data-testid="entry-duration">' in html and " 1:15</span>" in html
    assert 'datetime="2026-03-02T00:30:00+01:00">02/03/2026 00:30</time>' in html
    assert " 6,00 EUR</span>" in html
