"""Two campaigns competing for one customer's budget: the higher priority wins, the other's message is
deferred (never dropped) and sent when the budget allows; concurrent workers never overshoot."""

from __future__ import annotations

import collections
import datetime
import threading

import pytest
from django.db import connection
from django.utils import timezone

from campaigns.models import Message, SegmentMember
from campaigns.services.campaigns import campaign_launch
from campaigns.services.dispatch import campaign_dispatch
from tests.campaigns.outbox_support import audience, campaign, email_template, open_policy


def overlapping(marketer):
    """Segment A: customers 0-9; segment B: customers 5-14 (5-9 in both)."""
    open_policy()  # 1 contact a day, 3 in 7 days
    seg_a, customers = audience(15, name="A")
    seg_b, _ = audience(0, name="B")
    SegmentMember.objects.filter(segment=seg_a, customer__in=customers[10:]).update(segment=seg_b)
    SegmentMember.objects.bulk_create([SegmentMember(segment=seg_b, customer=c) for c in customers[5:10]])
    return seg_a, seg_b, customers


def sent_today(customers) -> dict[int, int]:
    start = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    rows = Message.objects.filter(customer__in=customers, status="sent", reserved_at__gte=start)
    return collections.Counter(rows.values_list("customer_id", flat=True))


@pytest.mark.django_db
def test_the_higher_priority_wins_and_the_other_is_deferred_then_sent(marketer, smtp_sink):
    seg_a, seg_b, customers = overlapping(marketer)
    low = campaign(seg_b, email_template(name="Low"), user=marketer, name="Low", priority=2)
    high = campaign(seg_a, email_template(name="High"), user=marketer, name="High", priority=5)
    campaign_launch(campaign=low, acting_user=marketer)
    campaign_launch(campaign=high, acting_user=marketer)

    # The lower priority's worker happens to run first.
    assert campaign_dispatch(campaign_id=low.pk)["sent"] == 5
    assert campaign_dispatch(campaign_id=high.pk)["sent"] == 10

    assert max(sent_today(customers).values()) == 1
    both = {c.pk for c in customers[5:10]}
    high_sent = set(Message.objects.filter(campaign=high, status="sent").values_list("customer_id", flat=True))
    assert both <= high_sent
    deferred = Message.objects.filter(campaign=low, customer_id__in=both)
    assert {(m.status, m.reason) for m in deferred} == {("planned", "over_budget")}
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    assert {timezone.localtime(m.not_before).date() for m in deferred} == {tomorrow}

    # A day later the budget has room again: the deferred messages go, nobody got two in a day.
    Message.objects.filter(status="sent").update(reserved_at=timezone.now() - datetime.timedelta(days=1, hours=1))
    Message.objects.filter(campaign=low, status="planned").update(not_before=timezone.now())
    assert campaign_dispatch(campaign_id=low.pk)["sent"] == 5
    assert max(sent_today(customers).values()) == 1
    assert len(smtp_sink.envelopes) == 20


@pytest.mark.django_db(transaction=True)
def test_two_campaigns_sent_at_once_never_put_a_customer_over_budget(marketer, smtp_sink):
    seg_a, seg_b, customers = overlapping(marketer)
    SegmentMember.objects.bulk_create([SegmentMember(segment=seg_b, customer=c) for c in customers[:5]])
    first = campaign(seg_a, email_template(name="First"), user=marketer, name="First", priority=3)
    second = campaign(seg_b, email_template(name="Second"), user=marketer, name="Second", priority=3)
    campaign_launch(campaign=first, acting_user=marketer)
    campaign_launch(campaign=second, acting_user=marketer)
    # Deliver one campaign per thread, each with its own database connection, at the same time.
    barrier = threading.Barrier(2)
    errors = []

    def worker(campaign_id):
        try:
            barrier.wait(10)
            campaign_dispatch(campaign_id=campaign_id, size=3)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(c.pk,)) for c in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert errors == []
    counts = sent_today(customers)
    assert max(counts.values()) == 1, counts
    assert set(counts) == {c.pk for c in customers}  # everyone got exactly one of the two today
    assert Message.objects.filter(status="planned", reason="over_budget").count() == 10  # deferred, not dropped
    assert len(smtp_sink.envelopes) == 15
