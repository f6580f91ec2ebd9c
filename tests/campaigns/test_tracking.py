"""Tracking: the open pixel, click redirects that only lead to the message's own links, one-click
unsubscribe (RFC 8058) writing a withdrawal to the consent ledger, bounces and complaints."""

from __future__ import annotations

import urllib.parse
import urllib.request

import pytest
from django.core import signing
from django.urls import reverse

from campaigns.models import Message, Suppression, TrackingEvent
from campaigns.services.campaigns import campaign_launch
from campaigns.services.dispatch import campaign_dispatch
from campaigns.services.tracking import (
    SALT_CLICK,
    click_url,
    delivery_event_record,
    open_pixel_url,
    unsubscribe_url,
)
from channels.models import Interaction
from customers.models import Consent, ContactPoint
from tests.campaigns.outbox_support import audience, campaign, email_template, open_policy

OFFER = "https://shop.example.fr/offre?c=1"


def sent_message(marketer, *, n=1, language="fr") -> Message:
    open_policy()
    segment, customers = audience(n)
    type(customers[0]).objects.filter(pk__in=[c.pk for c in customers]).update(language=language)
    camp = campaign(segment, email_template(), user=marketer)
    campaign_launch(campaign=camp, acting_user=marketer)
    campaign_dispatch(campaign_id=camp.pk)
    return Message.objects.select_related("customer", "campaign").filter(campaign=camp).order_by("id").first()


def path_of(url: str) -> str:
    return urllib.parse.urlsplit(url).path


def timeline(message) -> list[str]:
    return list(Interaction.objects.filter(customer=message.customer, direction="inbound")
                .values_list("subject", flat=True))  # fmt: skip


@pytest.mark.django_db
def test_the_pixel_records_the_first_open_on_the_timeline_and_every_open_as_an_event(marketer, smtp_sink, client):
    message = sent_message(marketer)
    for _ in range(2):
        response = client.get(path_of(open_pixel_url(message)))
        assert response.status_code == 200 and response["Content-Type"] == "image/gif"
    message.refresh_from_db()
    assert message.status == "opened" and message.opened_at
    assert TrackingEvent.objects.filter(message=message, kind="open").count() == 2
    assert len(timeline(message)) == 1

    forged = client.get(reverse("campaigns:track_open", args=[f"{message.pk}:forged"]))
    assert forged.status_code == 200 and TrackingEvent.objects.count() == 2


@pytest.mark.django_db
def test_a_click_redirects_only_to_a_link_of_the_message_itself(marketer, smtp_sink, client):
    message = sent_message(marketer)
    [email] = smtp_sink.messages()
    html = email.get_body(("html",)).get_content()
    tracked = [u for u in urllib.parse.unquote(html).split('"') if "/campaigns/t/c/" in u]
    assert tracked, "the email's links go through click tracking"

    response = client.get(path_of(tracked[0].replace("&amp;", "&")))
    assert response.status_code == 302 and response["Location"] == OFFER
    message.refresh_from_db()
    assert message.status == "clicked" and message.clicked_at and message.opened_at

    # Signed by us, but for a link that is not in this message's template: refused.
    elsewhere = client.get(path_of(click_url(message, "https://evil.example/phish")))
    # The right link with the signature altered, or another message's id under the same signature: refused.
    token = path_of(click_url(message, OFFER)).rstrip("/").rsplit("/", 1)[1]
    altered = client.get(reverse("campaigns:track_click", args=[token[:-2] + ("AA" if token[-2:] != "AA" else "BB")]))
    payload, signature = token.rsplit(":", 1)
    other = signing.Signer(salt=SALT_CLICK).sign_object({"m": message.pk + 1, "u": OFFER}, compress=True)
    swapped = client.get(reverse("campaigns:track_click", args=[other.rsplit(":", 1)[0] + ":" + signature]))
    for refused in (elsewhere, altered, swapped):
        assert refused.status_code == 404 and "Location" not in refused
    assert TrackingEvent.objects.filter(kind="click").count() == 1


@pytest.mark.django_db
def test_the_unsubscribe_page_asks_in_the_customers_language_and_changes_nothing_on_get(marketer, smtp_sink, client):
    message = sent_message(marketer, language="fr")
    before = Consent.objects.count()
    response = client.get(path_of(unsubscribe_url(message)))
    assert response.status_code == 200
    assert "Se désabonner" in response.content.decode()
    assert Consent.objects.count() == before
    assert client.get(reverse("campaigns:unsubscribe", args=["1:bad"])).status_code == 404


@pytest.mark.django_db(transaction=True)
def test_the_rfc_8058_one_click_post_withdraws_the_consent_and_stops_the_next_message(marketer, smtp_sink,
                                                                                    live_server):  # fmt: skip
    message = sent_message(marketer)
    [email] = smtp_sink.messages()
    target = email["List-Unsubscribe"].split(",")[0].strip().strip("<>")
    assert email["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = live_server.url + path_of(target)

    # What a mail client does (RFC 8058 section 3.1): a POST with this one form field, no cookie, no token.
    request = urllib.request.Request(url, data=b"List-Unsubscribe=One-Click", method="POST",
                                     headers={"Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
    for _ in range(2):
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - the live test server
            assert response.status == 200

    ledger = Consent.objects.filter(customer=message.customer, channel="email", purpose="marketing")
    latest = ledger.order_by("-occurred_at", "-id").first()
    assert latest.status == "withdrawn" and latest.source == "unsubscribe_link"
    assert message.message_id in latest.proof_text and "RFC 8058" in latest.proof_text
    assert ledger.filter(status="withdrawn").count() == 1  # the second POST wrote nothing
    message.refresh_from_db()
    assert message.status == "unsubscribed"

    # The next campaign to this customer plans nothing and sends nothing.
    again = campaign(message.campaign.segments.get(), email_template(name="Next"), user=marketer, name="Next")
    counts = campaign_launch(campaign=again, acting_user=marketer)
    assert counts["now"] == 0 and counts["skipped"] == {"withdrawn": 1}
    assert len(smtp_sink.envelopes) == 1


@pytest.mark.django_db
def test_a_hard_bounce_marks_the_address_and_a_complaint_suppresses_it(marketer, smtp_sink):
    message = sent_message(marketer, n=2)
    other = Message.objects.filter(campaign=message.campaign).exclude(pk=message.pk).get()

    delivery_event_record(message_id=message.message_id, event="bounce", bounce_type="hard")
    delivery_event_record(message_id=other.message_id.strip("<>"), event="complaint")

    point = ContactPoint.objects.get(customer=message.customer, value=message.to_address)
    assert point.is_undeliverable
    assert Message.objects.get(pk=message.pk).status == "bounced"
    assert Message.objects.get(pk=other.pk).status == "complained"
    assert Suppression.objects.filter(channel="email", value=other.to_address, reason="complaint").exists()
    counts = campaign_launch(campaign=campaign(message.campaign.segments.get(), email_template(name="Next"),
                                               user=marketer, name="Next"), acting_user=marketer)  # fmt: skip
    assert counts["skipped"] == {"undeliverable": 1, "suppressed": 1}


@pytest.mark.django_db
def test_unsubscribing_after_a_merge_withdraws_the_consent_of_the_surviving_record(marketer, smtp_sink, client):
    message = sent_message(marketer, n=2)
    survivor = Message.objects.filter(campaign=message.campaign).exclude(pk=message.pk).get().customer
    type(survivor).objects.filter(pk=message.customer_id).update(merged_into=survivor)

    response = client.post(path_of(unsubscribe_url(message)), {"List-Unsubscribe": "One-Click"})

    assert response.status_code == 200
    latest = Consent.objects.filter(customer=survivor, channel="email").order_by("-occurred_at", "-id").first()
    assert latest.status == "withdrawn" and message.message_id in latest.proof_text
