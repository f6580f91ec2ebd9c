"""The contact-pressure budget: defaults, sending windows, and deferral to the next free slot."""

from __future__ import annotations

import datetime
import zoneinfo

import pytest
from django.utils import timezone

from campaigns.models import Message, PressurePolicy
from campaigns.services.campaigns import campaign_launch
from campaigns.services.pressure import next_open_time, policy_active, policy_update
from crm.errors import ApplicationError
from tests.campaigns.outbox_support import audience, campaign, email_template, open_policy

pytestmark = pytest.mark.django_db
PARIS = zoneinfo.ZoneInfo("Europe/Paris")


def test_it_starts_with_the_default_policy():
    PressurePolicy.objects.all().delete()
    policy = policy_active()
    assert (policy.max_per_window, policy.window_days, policy.max_per_day) == (3, 7, 1)
    assert (policy.quiet_start, policy.quiet_end) == (datetime.time(21), datetime.time(8))
    assert policy.skip_sundays and policy.skip_holidays and policy.service_exempt
    assert policy.channel_caps == {"sms": [2, 30]}


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (datetime.datetime(2031, 1, 8, 10, 0), datetime.datetime(2031, 1, 8, 10, 0)),  # open: unchanged
        (datetime.datetime(2031, 1, 8, 6, 0), datetime.datetime(2031, 1, 8, 8, 0)),  # early morning
        (datetime.datetime(2031, 1, 11, 22, 0), datetime.datetime(2031, 1, 13, 8, 0)),  # Saturday night -> Monday
        (datetime.datetime(2031, 7, 13, 23, 0), datetime.datetime(2031, 7, 15, 8, 0)),  # 14 July is a holiday
        (datetime.datetime(2031, 12, 24, 21, 30), datetime.datetime(2031, 12, 26, 8, 0)),  # Christmas
    ],
)
def test_it_finds_the_next_sending_window(at, expected):
    PressurePolicy.objects.all().delete()
    assert next_open_time(policy_active(), at.replace(tzinfo=PARIS)) == expected.replace(tzinfo=PARIS)


def test_it_refuses_a_bad_channel_cap(admin_staff):
    with pytest.raises(ApplicationError):
        policy_update(acting_user=admin_staff, channel_caps={"sms": "two"})


def test_it_defers_a_customer_already_contacted_today_to_the_next_day(marketer):
    open_policy()
    segment, customers = audience(2)
    first = campaign(segment, email_template(), user=marketer, name="Earlier")
    campaign_launch(campaign=first, acting_user=marketer)
    # The first campaign's message to customers[0] went out an hour ago.
    Message.objects.filter(campaign=first, customer=customers[0]).update(
        status="sent", reserved_at=timezone.now() - datetime.timedelta(hours=1), sent_at=timezone.now()
    )
    Message.objects.filter(campaign=first, customer=customers[1]).update(status="skipped")
    second = campaign(segment, email_template(name="Two"), user=marketer, name="Later")
    counts = campaign_launch(campaign=second, acting_user=marketer)
    assert counts["now"] == 1 and counts["deferred"] == {"over_budget": 1}
    deferred = Message.objects.get(campaign=second, customer=customers[0])
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    assert timezone.localtime(deferred.not_before).date() == tomorrow
    assert timezone.localtime(deferred.not_before).time() == datetime.time(0)


def test_it_defers_after_three_contacts_in_seven_days_until_the_oldest_leaves_the_window(marketer):
    open_policy(max_per_day=5)
    segment, customers = audience(1)
    old = campaign(segment, email_template(), user=marketer, name="Old")
    campaign_launch(campaign=old, acting_user=marketer)
    now = timezone.now()
    contacts = [now - datetime.timedelta(days=d) for d in (6, 4, 2)]
    base = Message.objects.get(campaign=old)
    Message.objects.filter(pk=base.pk).update(status="sent", reserved_at=contacts[0])
    for index, at in enumerate(contacts[1:]):
        extra = campaign(segment, email_template(name=f"E{index}"), user=marketer, name=f"E{index}")
        Message.objects.create(customer=customers[0], campaign=extra, step=extra.send_step, channel="email",
                               status="sent", reserved_at=at, sent_at=at)  # fmt: skip
    new = campaign(segment, email_template(name="New"), user=marketer, name="New")
    counts = campaign_launch(campaign=new, acting_user=marketer)
    assert counts["deferred"] == {"over_budget": 1}
    message = Message.objects.get(campaign=new)
    assert abs((message.not_before - (contacts[0] + datetime.timedelta(days=7))).total_seconds()) < 1


def test_it_does_not_count_service_messages(marketer):
    open_policy()
    segment, customers = audience(1)
    first = campaign(segment, email_template(), user=marketer)
    campaign_launch(campaign=first, acting_user=marketer)
    Message.objects.filter(campaign=first).update(status="sent", reserved_at=timezone.now())
    service = campaign(segment, email_template(name="S"), user=marketer, purpose="service")
    assert campaign_launch(campaign=service, acting_user=marketer)["now"] == 1
