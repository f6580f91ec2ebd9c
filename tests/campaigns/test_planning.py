"""Planning: one message per eligible member, the reason for each one left out, counts before launch."""

from __future__ import annotations

import pytest
from django.utils import timezone

from campaigns.models import Message, MessageStatus, SegmentMember, Suppression
from campaigns.services.campaigns import campaign_launch
from campaigns.services.planning import plan_preview
from customers.models import Consent, ContactPoint, Customer
from tests.campaigns.outbox_support import audience, campaign, email_template, open_policy

pytestmark = pytest.mark.django_db


@pytest.fixture
def mixed(marketer):
    """Ten members: 4 reachable, and one of each reason for leaving a member out."""
    open_policy()
    segment, customers = audience(9)
    _other, never_asked = audience(1, consent=None, prefix="n")
    SegmentMember.objects.create(segment=segment, customer=never_asked[0])
    reachable, rest = customers[:4], never_asked + customers[4:]
    Consent.objects.create(customer=rest[1], channel="email", purpose="marketing", status="withdrawn",
                           source="import")  # fmt: skip
    ContactPoint.objects.filter(customer=rest[2]).delete()
    ContactPoint.objects.filter(customer=rest[3]).update(is_undeliverable=True)
    Suppression.objects.create(channel="email", value=rest[4].contact_points.get().value)
    Customer.objects.filter(pk=rest[5].pk).update(anonymised_at=timezone.now())
    return segment, reachable, rest


def test_it_previews_the_counts_per_reason_without_writing(marketer, mixed):
    segment, _reachable, _rest = mixed
    camp = campaign(segment, email_template(), user=marketer)
    counts = plan_preview(campaign=camp)
    assert counts["now"] == 4
    assert counts["skipped"] == {"no_consent": 1, "withdrawn": 1, "no_contact_point": 1, "undeliverable": 1,
                                 "suppressed": 1, "not_live": 1}  # fmt: skip
    assert Message.objects.count() == 0


def test_it_plans_one_message_per_member_with_a_reason_for_each_one_left_out(marketer, mixed):
    segment, reachable, rest = mixed
    camp = campaign(segment, email_template(), user=marketer)
    counts = campaign_launch(campaign=camp, acting_user=marketer)
    assert counts["now"] == 4
    planned = Message.objects.filter(campaign=camp, status=MessageStatus.PLANNED)
    assert set(planned.values_list("customer_id", flat=True)) == {c.pk for c in reachable}
    assert all(m.message_id.startswith("<rl.") and m.to_address.endswith("@example.fr") for m in planned)
    reasons = dict(Message.objects.filter(campaign=camp, status="skipped").values_list("customer_id", "reason"))
    assert reasons == {rest[0].pk: "no_consent", rest[1].pk: "withdrawn", rest[2].pk: "no_contact_point",
                       rest[3].pk: "undeliverable", rest[4].pk: "suppressed", rest[5].pk: "not_live"}  # fmt: skip


def test_it_excludes_the_members_of_exclusion_segments_and_never_plans_twice(marketer):
    open_policy()
    segment, customers = audience(5)
    excluded, _ = audience(0, name="VIP")
    SegmentMember.objects.create(segment=excluded, customer=customers[0])
    camp = campaign(segment, email_template(), user=marketer, exclusion_segments=[excluded])
    assert plan_preview(campaign=camp)["total"] == 4
    from campaigns.services.planning import step_plan

    step_plan(step=camp.send_step)
    step_plan(step=camp.send_step)
    assert Message.objects.filter(campaign=camp).count() == 4


def test_it_defers_to_the_morning_during_quiet_hours(marketer, settings):
    import datetime
    import zoneinfo

    open_policy(quiet_start=datetime.time(21), quiet_end=datetime.time(8))
    segment, _customers = audience(3)
    paris = zoneinfo.ZoneInfo("Europe/Paris")
    # A Wednesday at 22:30 (Paris): quiet; the next window opens on Thursday at 08:00.
    at = datetime.datetime(2031, 1, 8, 22, 30, tzinfo=paris)
    camp = campaign(segment, email_template(), user=marketer, scheduled_at=at)
    counts = campaign_launch(campaign=camp, acting_user=marketer)
    assert counts["deferred"] == {"quiet_hours": 3}
    assert set(Message.objects.values_list("not_before", flat=True)) == {
        datetime.datetime(2031, 1, 9, 8, 0, tzinfo=paris)
    }
