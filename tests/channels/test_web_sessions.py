"""Stitching a visitor to a customer, session summaries on the timeline, the 360 "On the web" panel."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.template.loader import render_to_string
from django.utils import timezone, translation

from channels.models import ChannelCost, Interaction, VisitorLink, WebEvent
from channels.services.web import (
    WATERMARK_KEY,
    visitor_stitch,
    web_activity,
    web_events_ingest,
    web_sessions_summarise,
)
from channels.tasks.web import web_sessions_summarise_task
from channels.wiring.web import WEB_PANEL
from tests.channels_factories import SiteFactory
from tests.customers_factories import CustomerFactory, EmailFactory, OrderFactory, ProductFactory

pytestmark = pytest.mark.django_db


def events_at(start, session, visitor="v-1", **extra):
    """A session's events: 3 pages, 2 product views, a cart addition and an abandoned cart."""
    kinds = [
        ("page_view", "", "https://shop.example.com/"),
        ("page_view", "", "https://shop.example.com/lampes/"),
        ("product_view", "LAMP-1", "https://shop.example.com/lampes/lampe-bleue"),
        ("product_view", "SOFA-2", "https://shop.example.com/canapes/nuage"),
        ("cart_add", "LAMP-1", "https://shop.example.com/lampes/lampe-bleue"),
        ("page_view", "", "https://shop.example.com/panier/"),
        ("cart_abandon", "", "https://shop.example.com/panier/"),
    ]
    return [
        {"type": kind, "visitor_id": visitor, "session_id": session, "product_sku": sku, "url": url,
         "occurred_at": (start + datetime.timedelta(minutes=2 * i)).isoformat(), **extra}
        for i, (kind, sku, url) in enumerate(kinds)
    ]  # fmt: skip


@pytest.fixture
def products():
    ProductFactory(sku="LAMP-1", name="Lampe bleue")
    ProductFactory(sku="SOFA-2", name="Canapé Nuage")


def test_earlier_anonymous_sessions_appear_on_the_timeline_after_stitching(products):
    site = SiteFactory()
    customer = EmailFactory(value="lucie@example.fr").customer
    two_hours_ago = timezone.now() - datetime.timedelta(hours=2)
    web_events_ingest(site=site, events=events_at(two_hours_ago, "anon-session"))
    web_sessions_summarise(since_id=0)
    assert not Interaction.objects.filter(customer=customer).exists()  # anonymous: not on any timeline

    claimed = visitor_stitch(site=site, visitor_id="v-1", customer=customer, via="login")

    assert claimed == 7
    entry = Interaction.objects.get(customer=customer, kind="web_session")
    assert entry.channel == "web" and entry.direction == "inbound" and entry.external_id == "anon-session"
    assert entry.summary == ("Visited the site: 3 pages, viewed Lampe bleue, Canapé Nuage; abandoned cart (1 item)")
    assert entry.cost == Decimal("0.25")
    assert entry.occurred_at == two_hours_ago  # when the visit began
    assert entry.duration_seconds == 12 * 60
    assert entry.metadata["pages"] == 3
    assert entry.metadata["products_viewed"] == ["LAMP-1", "SOFA-2"]
    assert entry.metadata["cart_abandons"] == 1
    assert entry.metadata["entry_url"] == "https://shop.example.com/"
    assert entry.metadata["exit_url"] == "https://shop.example.com/panier/"
    assert VisitorLink.objects.filter(customer=customer, visitor_id="v-1").count() == 1


def test_stitching_leaves_another_persons_events_on_a_shared_browser_alone():
    site = SiteFactory()
    first, second = CustomerFactory(), CustomerFactory()
    web_events_ingest(site=site, events=events_at(timezone.now() - datetime.timedelta(hours=3), "s-a"))
    visitor_stitch(site=site, visitor_id="v-1", customer=first, via="login")
    web_events_ingest(site=site, events=events_at(timezone.now() - datetime.timedelta(hours=1), "s-b"))

    visitor_stitch(site=site, visitor_id="v-1", customer=second, via="login")

    assert set(WebEvent.objects.filter(session_id="s-a").values_list("customer_id", flat=True)) == {first.pk}
    assert Interaction.objects.filter(customer=second, external_id="s-a").count() == 0


def test_summarising_twice_changes_nothing_and_a_continued_session_updates_its_entry(products):
    site = SiteFactory()
    customer = CustomerFactory()
    start = timezone.now() - datetime.timedelta(hours=2)
    web_events_ingest(site=site, events=events_at(start, "s-1"))
    visitor_stitch(site=site, visitor_id="v-1", customer=customer, via="api")
    before = list(Interaction.objects.values_list("id", "summary"))

    again = web_sessions_summarise(since_id=0)
    assert again.created == 0 and again.updated == 0  # nothing changed: nothing written
    assert list(Interaction.objects.values_list("id", "summary")) == before

    # The same session goes on (a tab left open): its one entry is updated, not duplicated.
    more = [{"type": "page_view", "visitor_id": "v-1", "session_id": "s-1", "url": "https://shop.example.com/faq/",
             "occurred_at": (start + datetime.timedelta(minutes=40)).isoformat()}]  # fmt: skip
    web_events_ingest(site=site, events=more)
    result = web_sessions_summarise(since_id=0)

    entry = Interaction.objects.get(customer=customer, kind="web_session")
    assert result.created == 0 and result.updated == 1
    assert entry.summary.startswith("Visited the site: 4 pages")
    assert entry.metadata["exit_url"] == "https://shop.example.com/faq/"
    assert entry.duration_seconds == 40 * 60
    assert Interaction.objects.filter(kind="web_session").count() == 1


def test_the_beat_task_waits_for_a_session_to_finish_and_remembers_where_it_stopped(
    products, django_capture_on_commit_callbacks
):
    cache.delete(WATERMARK_KEY)
    site = SiteFactory()
    customer = EmailFactory(value="marc@example.fr").customer
    old = timezone.now() - datetime.timedelta(hours=1)
    recent = timezone.now() - datetime.timedelta(minutes=5)
    web_events_ingest(site=site, events=[
        *events_at(old, "finished"),
        *events_at(recent, "ongoing")[:2],
        {"type": "login", "visitor_id": "v-1", "session_id": "ongoing", "occurred_at": recent.isoformat(),
         "properties": {"customer_email": "marc@example.fr"}},
    ])  # fmt: skip
    Interaction.objects.all().delete()  # what the login's stitching wrote: let the task do it

    with django_capture_on_commit_callbacks(execute=True):  # the watermark is saved after commit
        counts = web_sessions_summarise_task.apply().get()

    assert counts == {"created": 1, "updated": 0, "forms": 0, "pending": 1}
    assert list(Interaction.objects.values_list("external_id", flat=True)) == ["finished"]
    # The next run re-reads the unfinished session only (nothing new is written meanwhile).
    with django_capture_on_commit_callbacks(execute=True):
        assert web_sessions_summarise_task.apply().get() == {"created": 0, "updated": 0, "forms": 0, "pending": 1}
    # Later, the session is over: it gets its entry.
    later = web_sessions_summarise(now=timezone.now() + datetime.timedelta(minutes=40))
    assert later.created == 1
    assert Interaction.objects.filter(customer=customer, kind="web_session").count() == 2


def test_the_session_cost_follows_the_admins_channel_cost():
    ChannelCost.objects.update_or_create(channel="web", defaults={"amount": Decimal("0.40")})
    site = SiteFactory()
    customer = CustomerFactory()
    web_events_ingest(site=site, events=events_at(timezone.now() - datetime.timedelta(hours=2), "s-cost"))

    visitor_stitch(site=site, visitor_id="v-1", customer=customer, via="api")

    assert Interaction.objects.get(customer=customer).cost == Decimal("0.40")


def test_a_form_submit_becomes_a_form_interaction_once():
    site = SiteFactory()
    customer = EmailFactory(value="ines@example.fr").customer
    when = timezone.now() - datetime.timedelta(hours=1)
    web_events_ingest(site=site, events=[
        {"type": "page_view", "visitor_id": "v-9", "session_id": "s-form", "occurred_at": when.isoformat(),
         "url": "https://shop.example.com/contact/"},
        {"type": "form_submit", "visitor_id": "v-9", "session_id": "s-form", "occurred_at": when.isoformat(),
         "url": "https://shop.example.com/contact/?ref=footer",
         "properties": {"form": "Contact", "topic": "delivery", "customer_email": "ines@example.fr"}},
    ])  # fmt: skip
    web_sessions_summarise(since_id=0)

    form = Interaction.objects.get(customer=customer, kind="form")
    assert form.summary == "Submitted the form “Contact” on /contact/"
    assert form.metadata["fields"] == {"form": "Contact", "topic": "delivery"}
    assert Interaction.objects.get(customer=customer, kind="web_session").summary.endswith("submitted 1 form")
    assert VisitorLink.objects.get(visitor_id="v-9").via == "form_submit"
    assert Interaction.objects.filter(kind="form").count() == 1


def web_panel(customer, user) -> str:
    """The "On the web" panel as the 360 page renders it (the registered panel, its template and context)."""
    assert WEB_PANEL in _registered_side_panels()
    return render_to_string("customers/panel.html", {"ctx": WEB_PANEL.render_context(customer=customer, user=user)})


def _registered_side_panels():
    from customers import panels

    return list(panels._panels.values())


def test_the_360_panel_shows_last_visit_pages_products_and_open_cart(agent, products):
    site = SiteFactory()
    customer = CustomerFactory()
    web_events_ingest(site=site, events=events_at(timezone.now() - datetime.timedelta(hours=2), "s-360"))
    visitor_stitch(site=site, visitor_id="v-1", customer=customer, via="api")

    with translation.override("en"):
        html = web_panel(customer, agent)

    assert 'data-testid="web-activity"' in html
    assert "On the web" in html
    assert "1\xa0hour, 4" in html  # the last event, 1 h 48 min ago
    assert "Canapé Nuage, Lampe bleue" in html
    pages = html[html.index('data-testid="web-pages"') :]
    assert pages.split(">", 1)[1].lstrip().startswith("3 ")
    assert "(1 visit)" in pages
    cart = html[html.index('data-testid="web-cart"') :]
    assert "1 item" in cart and "Lampe bleue" in cart


def test_an_order_after_the_cart_closes_it(agent, products):
    site = SiteFactory()
    customer = CustomerFactory()
    web_events_ingest(site=site, events=events_at(timezone.now() - datetime.timedelta(hours=2), "s-buy"))
    visitor_stitch(site=site, visitor_id="v-1", customer=customer, via="api")
    OrderFactory(customer=customer)

    with translation.override("en"):
        html = web_panel(customer, agent)

    assert "Empty (or ordered since)" in html


def test_a_customer_without_web_activity_gets_an_empty_state_saying_why(agent):
    with translation.override("en"):
        html = web_panel(CustomerFactory(), agent)

    assert 'data-testid="panel-empty-web_activity"' in html
    assert "track.js" in html


def test_the_panel_counts_only_this_customers_recent_visits_in_two_queries(products, django_assert_num_queries):
    site = SiteFactory()
    customer, someone_else = CustomerFactory(), CustomerFactory()
    now = timezone.now().replace(microsecond=0)
    web_events_ingest(site=site, events=[
        *events_at(now - datetime.timedelta(hours=3), "s-morning"),
        *events_at(now - datetime.timedelta(hours=1), "s-noon"),
        *events_at(now - datetime.timedelta(days=40), "s-last-month"),  # outside the 30 days
    ])  # fmt: skip
    web_events_ingest(site=site, events=events_at(now - datetime.timedelta(minutes=20), "s-other", visitor="v-2"))
    visitor_stitch(site=site, visitor_id="v-1", customer=customer, via="api")
    visitor_stitch(site=site, visitor_id="v-2", customer=someone_else, via="api")

    with django_assert_num_queries(2):  # the one aggregate over the events, then the products' names
        activity = web_activity(customer=customer)

    assert activity["visits"] == 2 and activity["pages"] == 6
    assert activity["last_visit"] == now - datetime.timedelta(hours=1) + datetime.timedelta(minutes=12)
    assert activity["products"] == ["Canapé Nuage", "Lampe bleue"]
    assert activity["cart"] == ["Lampe bleue"]
    newcomer = CustomerFactory()
    with django_assert_num_queries(1):  # no activity: no second query for names
        assert web_activity(customer=newcomer)["visits"] == 0


def test_a_role_without_web_events_does_not_see_the_panel(make_staff):
    nobody = make_staff(None, username="norole")

    assert not nobody.has_perm(WEB_PANEL.permission)
    assert make_staff("Agent", username="agent.web").has_perm(WEB_PANEL.permission)


def test_visits_linked_by_a_browsers_login_email_are_shown_as_claimed_until_verified(agent, products):
    site = SiteFactory()
    customer = EmailFactory(value="lucie@example.fr").customer
    login = {
        "type": "login",
        "visitor_id": "v-1",
        "session_id": "s-1",
        "url": "https://shop.example.com/compte/",
        "occurred_at": timezone.now().isoformat(),
        "properties": {"customer_email": "lucie@example.fr"},
    }
    web_events_ingest(site=site, events=[*events_at(timezone.now() - datetime.timedelta(hours=1), "s-1"), login])
    assert VisitorLink.objects.get(customer=customer).via == "login"

    with translation.override("en"):
        html = web_panel(customer, agent)
    assert 'data-testid="web-claimed"' in html and "claimed, not verified" in html
    with translation.override("fr"):
        assert "déclaré, non vérifié" in web_panel(customer, agent)

    # The site's server confirms the same browser through the API: the visits are no longer a claim.
    visitor_stitch(site=site, visitor_id="v-1", customer=customer, via="api")
    with translation.override("en"):
        html = web_panel(customer, agent)
    assert 'data-testid="web-activity"' in html and "claimed, not verified" not in html
