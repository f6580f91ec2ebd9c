"""The analytics API: a customer's scores for staff, the personalisation answer for web sites."""

from __future__ import annotations

import pytest

from analytics.models import OfferImpression
from analytics.services.recommendations import similarities_compute
from analytics.services.scores import scores_compute
from campaigns.models import Segment, SegmentMember
from channels.models import VisitorLink
from customers.models import Consent, Customer
from tests.analytics.support import AS_OF, catalogue, order, ten_buyers
from tests.channels_factories import SiteFactory

pytestmark = pytest.mark.django_db

NEUTRAL = {"personalised": False, "stage": None, "segments": [], "scores": None, "offers": []}


def test_staff_read_a_customers_scores_history_and_offers(client, agent, django_assert_max_num_queries):
    buyers = ten_buyers()
    scores_compute(as_of=AS_OF)
    client.force_login(agent)
    with django_assert_max_num_queries(12):
        response = client.get(f"/api/v1/customers/{buyers[9].pk}/scores/")
    assert response.status_code == 200
    body = response.json()
    assert body["score"]["rfm_cell"] == "champions"
    assert body["score"]["frequency"] == 10
    assert [row["month"] for row in body["history"]] == ["2026-06-01"]
    assert isinstance(body["next_offers"], list)


def test_a_customer_not_scored_yet_has_a_null_score(client, agent):
    customer = Customer.objects.create(given_name="Nouveau", family_name="Client")
    client.force_login(agent)
    body = client.get(f"/api/v1/customers/{customer.pk}/scores/").json()
    assert body == {"customer": {"id": customer.pk, "account_number": customer.account_number}, "score": None,
                    "history": [], "next_offers": []}  # fmt: skip


def test_the_scores_need_the_customer_permission(client, make_staff):
    customer = Customer.objects.create(given_name="Caché", family_name="Client")
    client.force_login(make_staff(None))
    response = client.get(f"/api/v1/customers/{customer.pk}/scores/")
    assert response.status_code == 403
    assert "Caché" not in response.content.decode()
    assert client.get("/api/v1/customers/999999/scores/").status_code in (403, 404)


@pytest.fixture
def visitor_world():
    """A site, a champion customer linked to browser v-1 with segments, offers to make, and consents to set."""
    products = catalogue()
    buyers = ten_buyers()
    champion = buyers[9]
    friends = Customer.objects.bulk_create([Customer(given_name=f"A{i}", family_name="Ami") for i in range(3)])
    for friend in friends:
        order(friend, 5, "30.00", products=[products["BOOK-1"], products["MUS-1"]])
    order(champion, 3, "10.00", products=[products["BOOK-1"]])
    similarities_compute()
    scores_compute(as_of=AS_OF)
    site = SiteFactory()
    VisitorLink.objects.create(customer=champion, site=site, visitor_id="v-1", via="login")
    segment = Segment.objects.create(name="Fidèles", kind=Segment.Kind.STATIC, size=1)
    SegmentMember.objects.create(segment=segment, customer=champion)
    return site, champion, segment


def _consent(customer, status: str) -> None:
    Consent.objects.create(customer=customer, channel="web_personalisation", purpose="profiling", status=status,
                           source="web_form")  # fmt: skip


def _ask(client, site, **query):
    return client.get("/api/v1/personalise/", query, HTTP_X_RELAIS_SITE_KEY=site.key)


def test_a_visitor_with_consent_gets_stage_segments_bands_and_logged_offers(client, visitor_world,
                                                                            django_assert_max_num_queries):  # fmt: skip
    site, champion, segment = visitor_world
    _consent(champion, "granted")
    with django_assert_max_num_queries(7):
        response = _ask(client, site, visitor="v-1", offers=2)
    assert response.status_code == 200
    body = response.json()
    assert body["personalised"] is True
    assert body["stage"] == champion.stage
    assert body["segments"] == [{"id": segment.pk, "name": "Fidèles"}]
    assert body["scores"]["rfm_cell"] == "champions"
    assert len(body["offers"]) == 2
    shown = OfferImpression.objects.filter(customer=champion)
    assert shown.count() == 2 and {s.placement for s in shown} == {"web"}
    assert {s.visitor_id for s in shown} == {"v-1"} and {s.site_id for s in shown} == {site.pk}
    assert {s.product_id for s in shown} == {offer["product_id"] for offer in body["offers"]}


@pytest.mark.parametrize("consent", [None, "withdrawn"])
def test_without_web_personalisation_consent_the_answer_is_neutral_and_nothing_is_logged(client, visitor_world,
                                                                                         consent):  # fmt: skip
    site, champion, _segment = visitor_world
    if consent:
        _consent(champion, "granted")
        _consent(champion, consent)  # the latest entry is in force
    Consent.objects.create(customer=champion, channel="email", purpose="marketing", status="granted", source="api")
    response = _ask(client, site, visitor="v-1")
    assert response.status_code == 200
    assert response.json() == NEUTRAL
    assert "Fidèles" not in response.content.decode()
    assert not OfferImpression.objects.exists()


def test_an_unknown_visitor_gets_the_same_neutral_answer(client, visitor_world):
    site, _champion, _segment = visitor_world
    assert _ask(client, site, visitor="never-seen").json() == NEUTRAL


def test_a_visitor_of_another_site_is_not_recognised(client, visitor_world):
    _site, champion, _segment = visitor_world
    _consent(champion, "granted")
    assert _ask(client, SiteFactory(), visitor="v-1").json() == NEUTRAL


def test_a_site_key_cannot_ask_about_an_account_number(client, visitor_world):
    site, champion, _segment = visitor_world
    _consent(champion, "granted")
    response = _ask(client, site, customer=champion.account_number)
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "customer_needs_token"
    assert "Fidèles" not in response.content.decode()


def test_a_staff_session_asks_by_account_number(client, agent, visitor_world):
    _site, champion, _segment = visitor_world
    _consent(champion, "granted")
    client.force_login(agent)
    body = client.get("/api/v1/personalise/", {"customer": champion.account_number}).json()
    assert body["personalised"] is True and body["segments"][0]["name"] == "Fidèles"


@pytest.mark.parametrize("query", [{}, {"visitor": "a", "customer": "C-1"}, {"visitor": "a", "offers": "99"},
                                   {"visitor": "x" * 65}])  # fmt: skip
def test_bad_queries_get_a_400_in_the_error_format(client, visitor_world, query):
    site, _champion, _segment = visitor_world
    response = _ask(client, site, **query)
    assert response.status_code == 400
    assert response.json()["error"]["code"]


def test_no_key_no_answer(client, visitor_world):
    response = client.get("/api/v1/personalise/", {"visitor": "v-1"})
    assert response.status_code == 401
    assert "Fidèles" not in response.content.decode()
    bad = client.get("/api/v1/personalise/", {"visitor": "v-1"}, HTTP_X_RELAIS_SITE_KEY="nope")
    assert bad.status_code == 401
