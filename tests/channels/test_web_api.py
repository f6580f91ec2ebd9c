"""The web events API: bulk validation, site keys, origins, CORS preflight, rate limits."""

from __future__ import annotations

import datetime
import json

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from channels.models import VisitorLink, WebEvent
from tests.channels_factories import SiteFactory
from tests.customers_factories import EmailFactory

pytestmark = pytest.mark.django_db
URL = "/api/v1/channels/events/"


def event(**fields) -> dict:
    base = {
        "type": "page_view",
        "visitor_id": "v-1",
        "session_id": "s-1",
        "occurred_at": timezone.now().isoformat(),
        "url": "https://shop.example.com/",
        "title": "Home",
    }
    return {**base, **fields}


def post(client, body, *, key=None, origin=None, content_type="application/json"):
    headers = {}
    if key:
        headers["HTTP_X_RELAIS_SITE_KEY"] = key
    if origin:
        headers["HTTP_ORIGIN"] = origin
    return client.post(URL, data=json.dumps(body), content_type=content_type, **headers)


@pytest.fixture
def site():
    site = SiteFactory(allowed_origins="https://shop.example.com\nhttps://www.example.com/")
    cache.delete(f"throttle_web_events_{site.pk}")
    return site


def test_events_sent_where_track_js_and_the_docs_send_them_are_stored(client, site):
    # A site owner pastes the snippet of docs/channels/web.md; track.js posts to its default endpoint.
    assert reverse("api_v1_channels_events") == URL
    assert f'new URL("{URL}", me.src)' in (settings.BASE_DIR / "static/relais/track.js").read_text()
    assert f"## API: `POST {URL}`" in (settings.BASE_DIR / "docs/channels/web.md").read_text()

    response = post(client, {"events": [event(), event(type="product_view", product_sku="SKU-1")]}, key=site.key,
                    origin="https://shop.example.com")  # fmt: skip

    assert response.status_code == 200, response.content
    assert response.json()["accepted"] == 2 and response.json()["rejected"] == []
    stored = WebEvent.objects.filter(site=site).values_list("event_type", flat=True)
    assert sorted(stored) == ["page_view", "product_view"]


def test_it_stores_the_good_events_and_rejects_the_bad_one_with_its_index(client, site):
    now = timezone.now()
    events = [
        event(),
        event(type="product_view", product_sku="SKU-1", properties={"price": 19.9}),
        event(type="teleport"),  # index 2: unknown type
        event(occurred_at=(now + datetime.timedelta(minutes=10)).isoformat()),  # 3: future
        event(occurred_at=(now - datetime.timedelta(days=8)).isoformat()),  # 4: too old
        event(visitor_id=""),  # 5: missing visitor
        event(properties={"blob": "x" * 3000}),  # 6: properties too large
        event(occurred_at="yesterday"),  # 7: not a date
        event(type="cart_add", product_sku="SKU-1", colour="red"),  # 8: unknown field
        event(type="cart_add", product_sku="SKU-1"),
    ]
    response = post(client, {"events": events}, key=site.key)

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["accepted"] == 3
    rejected = {item["index"]: item["errors"] for item in body["rejected"]}
    assert sorted(rejected) == [2, 3, 4, 5, 6, 7, 8]
    assert rejected[2]["type"][0]["code"] == "invalid_choice"
    assert rejected[3]["occurred_at"][0]["code"] == "future"
    assert rejected[4]["occurred_at"][0]["code"] == "too_old"
    assert rejected[5]["visitor_id"][0]["code"] == "required"
    assert rejected[6]["properties"][0]["code"] == "too_large"
    assert rejected[7]["occurred_at"][0]["code"] == "invalid"
    assert "colour" in rejected[8]["non_field_errors"][0]["message"]
    stored = WebEvent.objects.filter(site=site).order_by("id")
    assert [e.event_type for e in stored] == ["page_view", "product_view", "cart_add"]
    assert stored[1].properties == {"price": 19.9} and stored[1].product_sku == "SKU-1"
    assert stored[0].customer_id is None


def test_it_refuses_501_events_and_stores_none(client, site):
    response = post(client, {"events": [event() for _ in range(501)]}, key=site.key)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["fields"]["events"][0]["code"] == "too_many"
    assert "500" in error["fields"]["events"][0]["message"]
    assert WebEvent.objects.count() == 0


@pytest.mark.parametrize(
    "body,code",
    [({"events": "page_view"}, "required"), ({"events": []}, "empty"), ([event()], "malformed")],
)
def test_it_refuses_a_malformed_request_whole(client, site, body, code):
    response = post(client, body, key=site.key)

    assert response.status_code == 400
    error = response.json()["error"]
    assert code in json.dumps(error)
    assert WebEvent.objects.count() == 0


def test_it_accepts_500_events_in_one_request(client, site, django_assert_max_num_queries):
    events = [event(session_id=f"s-{i % 7}", visitor_id=f"v-{i % 5}") for i in range(500)]
    with django_assert_max_num_queries(8):
        response = post(client, {"events": events}, key=site.key)

    assert response.json() == {"accepted": 500, "rejected": []}
    assert WebEvent.objects.filter(site=site).count() == 500


def test_an_unknown_or_missing_site_key_is_401(client, site):
    unknown = post(client, {"events": [event()]}, key="not-a-key")
    missing = post(client, {"events": [event()]})

    assert unknown.status_code == 401
    assert unknown.json()["error"]["code"] == "invalid_site_key"
    assert missing.status_code == 401
    assert WebEvent.objects.count() == 0


def test_a_signed_in_staff_member_without_a_site_key_is_refused(client, agent):
    client.force_login(agent)

    assert post(client, {"events": [event()]}).status_code == 401


def test_a_deactivated_site_is_403(client, site):
    site.is_active = False
    site.save()

    response = post(client, {"events": [event()]}, key=site.key)

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "site_inactive"
    assert WebEvent.objects.count() == 0


def test_the_key_can_travel_in_the_body_as_text_plain_like_send_beacon(client, site):
    body = {"site_key": site.key, "events": [event()]}

    response = post(client, body, origin="https://shop.example.com", content_type="text/plain;charset=UTF-8")

    assert response.status_code == 200, response.content
    assert response.json()["accepted"] == 1
    assert response["Access-Control-Allow-Origin"] == "https://shop.example.com"


def test_a_page_from_an_origin_the_site_does_not_list_is_refused(client, site):
    response = post(client, {"events": [event()]}, key=site.key, origin="https://evil.example.net")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "origin_not_allowed"
    assert "Access-Control-Allow-Origin" not in response
    assert WebEvent.objects.count() == 0


def test_a_listed_origin_with_a_trailing_slash_in_the_list_is_allowed(client, site):
    response = post(client, {"events": [event()]}, key=site.key, origin="https://www.example.com")

    assert response.status_code == 200


def test_it_answers_the_cors_preflight_of_an_allowed_origin_only(client, site):
    allowed = client.options(URL, HTTP_ORIGIN="https://shop.example.com",
                             HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
                             HTTP_ACCESS_CONTROL_REQUEST_HEADERS="content-type, x-relais-site-key")  # fmt: skip
    refused = client.options(URL, HTTP_ORIGIN="https://evil.example.net", HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST")

    assert allowed.status_code == 204
    assert allowed["Access-Control-Allow-Origin"] == "https://shop.example.com"
    assert "POST" in allowed["Access-Control-Allow-Methods"]
    assert "X-Relais-Site-Key" in allowed["Access-Control-Allow-Headers"]
    assert refused.status_code == 403
    assert "Access-Control-Allow-Origin" not in refused


def test_each_site_key_has_its_own_rate_limit(client, site):
    other = SiteFactory()
    cache.delete(f"throttle_web_events_{other.pk}")
    rates = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "web_events": "2/min"}
    with override_settings(REST_FRAMEWORK={**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}):
        statuses = [post(client, {"events": [event()]}, key=site.key).status_code for _ in range(3)]
        other_status = post(client, {"events": [event()]}, key=other.key).status_code
        throttled = post(client, {"events": [event()]}, key=site.key)

    assert statuses == [200, 200, 429]
    assert other_status == 200
    assert throttled.json()["error"]["code"] == "throttled"
    assert "Retry-After" in throttled
    assert WebEvent.objects.filter(site=site).count() == 2


def test_a_login_event_with_a_known_email_links_the_visitor(client, site):
    email = EmailFactory(value="claire.petit@example.fr")
    events = [
        event(visitor_id="browser-1"),
        event(visitor_id="browser-1", type="login", properties={"customer_email": "Claire.Petit@example.fr"}),
    ]

    response = post(client, {"events": events}, key=site.key)

    assert response.json()["accepted"] == 2
    link = VisitorLink.objects.get(site=site, visitor_id="browser-1")
    assert link.customer_id == email.customer_id and link.via == "login"
    assert set(WebEvent.objects.values_list("customer_id", flat=True)) == {email.customer_id}
    # The next batch of that browser is the customer's from the start.
    post(client, {"events": [event(visitor_id="browser-1", session_id="s-2")]}, key=site.key)
    assert WebEvent.objects.get(session_id="s-2").customer_id == email.customer_id


def test_an_unknown_or_invalid_email_links_nobody(client, site):
    EmailFactory(value="someone@example.fr")
    events = [
        event(type="login", properties={"customer_email": "nobody@example.fr"}),
        event(type="form_submit", properties={"customer_email": "not an email"}),
    ]

    response = post(client, {"events": events}, key=site.key)

    assert response.json()["accepted"] == 2
    assert VisitorLink.objects.count() == 0
    assert not WebEvent.objects.filter(customer__isnull=False).exists()


def test_text_the_database_cannot_store_refuses_that_event_only(client, site):
    events = [
        event(title="Lampe\x00bleue"),
        event(properties={"note": "\ud800"}),
        event(properties={"note": "a\x00b"}),
        event(title="Canapé « Nuage » 🛋️"),
    ]

    response = post(client, {"events": events}, key=site.key)

    assert response.status_code == 200
    body = response.json()
    assert body["accepted"] == 1
    assert [item["index"] for item in body["rejected"]] == [0, 1, 2]
    assert WebEvent.objects.get().title == "Canapé « Nuage » 🛋️"
