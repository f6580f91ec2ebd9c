"""Template and campaign screens: the template editor and its preview on a real customer, the campaign
list (pinned queries), create, the plan before launch, the status actions and the live progress;
and ``campaign_progress`` itself."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Campaign, CampaignEvent, CampaignStatus, Message, Template
from campaigns.selectors.campaigns import campaign_outcomes
from campaigns.services.campaigns import campaign_launch
from campaigns.services.dispatch import campaign_progress
from tests.campaigns.outbox_support import EMAIL_HTML, audience, campaign, email_template, open_policy
from tests.customers_factories import CustomerFactory

pytestmark = pytest.mark.django_db


def test_the_template_editor_saves_an_email_and_refuses_an_escape(client, marketer):
    client.force_login(marketer)
    url = reverse("campaigns:template_create") + "?channel=email"
    fields = {"name": "Bienvenue", "channel": "email", "language": "fr", "subject": "Bonjour {{ customer.given_name }}",
              "html": "<p>Bonjour</p>", "text": "", "preheader": "", "body": "", "is_active": "on"}  # fmt: skip

    refused = client.post(url, {**fields, "html": "{% load static %}<p>x</p>"})
    assert refused.status_code == 200 and "The template cannot be used" in refused.content.decode()
    assert not Template.objects.exists()

    saved = client.post(url, fields)
    template = Template.objects.get(name="Bienvenue")
    assert saved.status_code == 302 and template.channel == "email" and template.created_by == marketer


def test_the_preview_renders_the_template_for_the_customer_searched(client, marketer):
    CustomerFactory(given_name="Zoé", family_name="Lemaire")
    client.force_login(marketer)

    response = client.post(reverse("campaigns:template_preview_hx"), {
        "name": "Colis", "channel": "sms", "language": "fr", "body": "Bonjour {{ customer.given_name }} !",
        "preview_customer": "Lemaire",
    })  # fmt: skip

    body = response.content.decode()
    assert response.status_code == 200
    assert '<pre class="mb-0" style="white-space: pre-wrap" data-testid="preview-body">Bonjour Zoé !</pre>' in body


def test_the_email_preview_is_shown_in_a_sandboxed_frame_with_its_css_inlined(client, marketer):
    CustomerFactory(given_name="Zoé", family_name="Lemaire")
    client.force_login(marketer)

    response = client.post(reverse("campaigns:template_preview_hx"), {
        "name": "Offre", "channel": "email", "language": "fr", "subject": "Pour {{ customer.given_name }}",
        "html": EMAIL_HTML, "preview_customer": "Lemaire",
    })  # fmt: skip

    body = response.content.decode()
    assert 'data-testid="preview-subject">Pour Zoé</div>' in body
    assert "<iframe" in body and " sandbox " in body and "color: #123456" in body


def test_the_campaign_list_holds_a_fixed_number_of_queries(client, marketer, django_assert_max_num_queries):
    template = email_template()
    for index in range(10):
        segment, _customers = audience(1, name=f"Audience {index}", prefix=f"l{index}")
        campaign(segment, template, user=marketer, name=f"Campagne {index}")
    client.force_login(marketer)

    with django_assert_max_num_queries(12):
        response = client.get(reverse("campaigns:campaign_list"))

    body = response.content.decode()
    assert body.count('data-testid="campaign-row"') == 10 and "Audience 7" in body


def test_a_marketer_creates_a_draft_and_sees_the_plan_before_launching(client, marketer):
    open_policy()
    segment, _customers = audience(3)
    CustomerFactory()  # not in the audience
    template = email_template()
    client.force_login(marketer)

    response = client.post(reverse("campaigns:campaign_create"), {
        "name": "Soldes", "objective": "", "segments": [segment.pk], "channel": "email", "template": template.pk,
        "purpose": "marketing", "priority": 3, "scheduled_at": "",
    })  # fmt: skip

    created = Campaign.objects.get(name="Soldes")
    assert response.status_code == 302 and created.status == CampaignStatus.DRAFT and created.owner == marketer
    page = client.get(reverse("campaigns:campaign_detail", args=[created.pk])).content.decode()
    assert "Will receive it now" in page and '<td class="text-end font-monospace">3</td>' in page
    assert not Message.objects.exists()  # the preview writes nothing


def test_the_status_actions_go_through_the_services_with_the_acting_user(client, marketer):
    open_policy()
    segment, _customers = audience(2)
    draft = campaign(segment, email_template(), user=marketer)
    draft.scheduled_at = timezone.now() + datetime.timedelta(days=2)
    draft.save()
    client.force_login(marketer)

    client.post(reverse("campaigns:campaign_launch", args=[draft.pk]))
    client.post(reverse("campaigns:campaign_cancel", args=[draft.pk]))
    refused = client.post(reverse("campaigns:campaign_resume", args=[draft.pk]), follow=True)

    draft.refresh_from_db()
    assert draft.status == CampaignStatus.CANCELLED
    steps = list(CampaignEvent.objects.filter(campaign=draft).values_list("to_status", "acting_user"))
    assert steps == [("draft", marketer.pk), ("scheduled", marketer.pk), ("cancelled", marketer.pk)]
    assert "A cancelled campaign cannot become running." in refused.content.decode()
    assert set(Message.objects.filter(campaign=draft).values_list("reason", flat=True)) == {"cancelled"}


def test_an_agent_cannot_launch_a_campaign(client, agent, marketer):
    segment, _customers = audience(1)
    draft = campaign(segment, email_template(), user=marketer)
    client.force_login(agent)

    response = client.post(reverse("campaigns:campaign_launch", args=[draft.pk]))

    draft.refresh_from_db()
    assert response.status_code == 403 and draft.status == CampaignStatus.DRAFT and not Message.objects.exists()


def _sent(camp, n, **fields):
    ids = list(Message.objects.filter(campaign=camp, status="planned").values_list("pk", flat=True)[:n])
    Message.objects.filter(pk__in=ids).update(status="sent", sent_at=timezone.now(), **fields)
    return ids


def test_campaign_progress_counts_sent_planned_failed_skipped_and_the_rate(marketer):
    open_policy()
    segment, customers = audience(10)
    camp = campaign(segment, email_template(), user=marketer)
    campaign_launch(campaign=camp, acting_user=marketer)
    _sent(camp, 4)
    failed = list(Message.objects.filter(campaign=camp, status="planned").values_list("pk", flat=True)[:1])
    Message.objects.filter(pk__in=failed).update(status="failed")
    later = list(Message.objects.filter(campaign=camp, status="planned").values_list("pk", flat=True)[:2])
    Message.objects.filter(pk__in=later).update(not_before=timezone.now() + datetime.timedelta(days=1),
                                                reason="over_budget")  # fmt: skip

    progress = campaign_progress(campaign=camp)

    assert progress["sent"] == 4 and progress["failed"] == 1
    assert progress["planned"] == 5 and progress["due"] == 3 and progress["deferred"] == 2
    # 4 sent in the last minute: 0.07/s shown as 0.1, and the ETA from the exact rate (3 due / (4/60) = 45 s).
    assert progress["rate"] == 0.1 and progress["eta_seconds"] == 45
    assert progress["percent"] == int(100 * 5 / 10)


def test_campaign_progress_of_a_finished_campaign_is_100_percent_and_has_no_eta(marketer):
    open_policy()
    segment, _customers = audience(3)
    camp = campaign(segment, email_template(), user=marketer)
    campaign_launch(campaign=camp, acting_user=marketer)
    Message.objects.filter(campaign=camp).update(status="sent", sent_at=timezone.now() - datetime.timedelta(hours=1))

    progress = campaign_progress(campaign=camp)

    assert progress["percent"] == 100 and progress["sent"] == 3 and progress["rate"] == 0
    assert progress["eta_seconds"] is None


def test_the_live_progress_shows_responses_and_who_was_left_out_by_reason(client, marketer):
    open_policy()
    segment, customers = audience(5)
    no_consent, _others = audience(2, name="Sans", consent=None, prefix="n")
    camp = campaign(segment, email_template(), user=marketer)
    camp.segments.add(no_consent)
    campaign_launch(campaign=camp, acting_user=marketer)
    now = timezone.now()
    ids = _sent(camp, 3, opened_at=now)
    Message.objects.filter(pk=ids[0]).update(clicked_at=now, status="clicked")
    Message.objects.filter(pk=ids[1]).update(bounced_at=now, status="bounced")
    client.force_login(marketer)

    outcomes = campaign_outcomes(campaign=camp)
    fragment = client.get(reverse("campaigns:campaign_progress_hx", args=[camp.pk])).content.decode()

    assert outcomes["opened"] == 3 and outcomes["clicked"] == 1 and outcomes["bounced"] == 1
    assert outcomes["excluded"] == [{"reason": "no_consent", "label": "No consent for this channel and purpose",
                                     "count": 2}]  # fmt: skip
    assert 'data-testid="count-sent">3<' in fragment and 'data-testid="count-opened">3<' in fragment
    assert 'data-testid="count-excluded">2<' in fragment and "No consent for this channel and purpose" in fragment
    assert "every 2s" in fragment  # running: the page keeps polling
