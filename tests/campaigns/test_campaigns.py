"""The campaign status machine: one audited service per transition, refusals that change nothing."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from campaigns.models import CampaignEvent, CampaignStatus, Message
from campaigns.services.campaigns import (
    campaign_cancel,
    campaign_complete_if_done,
    campaign_create,
    campaign_launch,
    campaign_pause,
    campaign_resume,
    campaign_update,
)
from campaigns.services.dispatch import outbox_sweep
from crm.errors import ApplicationError
from tests.campaigns.outbox_support import audience, campaign, email_template, open_policy

pytestmark = pytest.mark.django_db


def history(camp) -> list[tuple[str, str, int | None]]:
    return list(CampaignEvent.objects.filter(campaign=camp).values_list("from_status", "to_status", "acting_user"))


def test_it_walks_draft_running_paused_running_completed_with_who_did_each_step(marketer):
    open_policy()
    segment, _ = audience(2)
    camp = campaign(segment, email_template(), user=marketer)
    assert camp.status == CampaignStatus.DRAFT

    counts = campaign_launch(campaign=camp, acting_user=marketer)
    campaign_pause(campaign=camp, acting_user=marketer)
    campaign_resume(campaign=camp, acting_user=marketer)
    Message.objects.filter(campaign=camp).update(status="sent")
    assert campaign_complete_if_done(campaign_id=camp.pk)

    camp.refresh_from_db()
    assert camp.status == CampaignStatus.COMPLETED and camp.launched_at and camp.finished_at
    assert history(camp) == [
        ("", "draft", marketer.pk), ("draft", "running", marketer.pk), ("running", "paused", marketer.pk),
        ("paused", "running", marketer.pk), ("running", "completed", None),
    ]  # fmt: skip
    launch = CampaignEvent.objects.get(campaign=camp, to_status="running", from_status="draft")
    assert launch.detail["plan"] == counts and counts["now"] == 2


def test_a_campaign_with_a_future_time_is_scheduled_and_the_sweeper_starts_it(marketer):
    open_policy()
    segment, _ = audience(1)
    camp = campaign(segment, email_template(), user=marketer, scheduled_at=timezone.now() + datetime.timedelta(hours=1))
    campaign_launch(campaign=camp, acting_user=marketer)
    camp.refresh_from_db()
    assert camp.status == CampaignStatus.SCHEDULED

    assert outbox_sweep()["started"] == 0
    type(camp).objects.filter(pk=camp.pk).update(scheduled_at=timezone.now() - datetime.timedelta(seconds=1))
    report = outbox_sweep()

    camp.refresh_from_db()
    assert report["started"] == 1 and camp.status == CampaignStatus.RUNNING
    assert history(camp)[-1] == ("scheduled", "running", None)


def test_it_refuses_transitions_the_machine_does_not_have_and_changes_nothing(marketer):
    open_policy()
    segment, _ = audience(1)
    camp = campaign(segment, email_template(), user=marketer)
    with pytest.raises(ApplicationError) as error:
        campaign_pause(campaign=camp, acting_user=marketer)
    assert error.value.code == "invalid_transition" and error.value.status_code == 409
    campaign_cancel(campaign=camp, acting_user=marketer)
    before = history(camp)
    for service in (campaign_launch, campaign_resume, campaign_pause, campaign_cancel):
        with pytest.raises(ApplicationError):
            service(campaign=camp, acting_user=marketer)
    camp.refresh_from_db()
    assert camp.status == CampaignStatus.CANCELLED and history(camp) == before
    assert Message.objects.filter(campaign=camp).count() == 0


def test_cancelling_skips_what_was_not_sent_and_keeps_what_was(marketer):
    open_policy()
    segment, customers = audience(3)
    camp = campaign(segment, email_template(), user=marketer)
    campaign_launch(campaign=camp, acting_user=marketer)
    Message.objects.filter(campaign=camp, customer=customers[0]).update(status="sent")

    campaign_cancel(campaign=camp, acting_user=marketer)

    statuses = dict(Message.objects.filter(campaign=camp).values_list("customer_id", "status"))
    assert statuses == {customers[0].pk: "sent", customers[1].pk: "skipped", customers[2].pk: "skipped"}
    assert CampaignEvent.objects.get(campaign=camp, to_status="cancelled").detail == {"skipped": 2}


def test_only_a_draft_is_edited_and_a_template_of_another_channel_is_refused(marketer):
    open_policy()
    segment, _ = audience(1)
    template = email_template()
    with pytest.raises(ApplicationError) as error:
        campaign_create(acting_user=marketer, name="SMS", channel="sms", template=template, segments=[segment])
    assert error.value.field == "template"
    camp = campaign(segment, template, user=marketer)
    campaign_update(campaign=camp, acting_user=marketer, name="Renamed", priority=5)
    camp.refresh_from_db()
    assert (camp.name, camp.priority) == ("Renamed", 5)
    with pytest.raises(ApplicationError):
        campaign_update(campaign=camp, acting_user=marketer, priority=9)
    campaign_launch(campaign=camp, acting_user=marketer)
    with pytest.raises(ApplicationError) as error:
        campaign_update(campaign=camp, acting_user=marketer, name="Too late")
    assert error.value.code == "not_draft"
    camp.refresh_from_db()
    assert camp.name == "Renamed"


def test_the_sweeper_releases_expired_claims_and_gives_up_on_a_message_workers_keep_dying_on(marketer):
    open_policy()
    segment, customers = audience(2)
    camp = campaign(segment, email_template(), user=marketer)
    campaign_launch(campaign=camp, acting_user=marketer)
    expired = timezone.now() - datetime.timedelta(seconds=1)
    Message.objects.filter(campaign=camp).update(status="claimed", claimed_by="dead-worker", lease_expires_at=expired)
    Message.objects.filter(campaign=camp, customer=customers[1]).update(attempts=5)

    report = outbox_sweep()

    assert report["released"] == 1 and report["wake"] == [camp.pk]
    statuses = dict(Message.objects.filter(campaign=camp).values_list("customer_id", "status"))
    assert statuses == {customers[0].pk: "planned", customers[1].pk: "failed"}
