"""The channels' part of a customer merge and of a GDPR erasure (registered from channels.wiring.timeline).

A merge re-points every channels row by introspection (customers.services.merge); only visitor links
need a rule of their own, because a browser linked to both customers would collide on
(customer, site, visitor_id). The erasure blanks the free text the channels keep about a person and
deletes the files they sent; dates, channels, kinds, durations and costs stay for statistics.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q

from channels.models import (
    Attachment,
    CallbackRequest,
    CallSession,
    Case,
    ChatMessage,
    Conversation,
    FollowUp,
    Interaction,
    Letter,
    SatisfactionSurvey,
    VisitorLink,
    WebEvent,
)
from customers.models import Customer


def visitor_links_merge(survivor: Customer, duplicate: Customer) -> None:
    """Move the duplicate's visitor links to the survivor, dropping those the survivor already has."""
    survivor_keys = VisitorLink.objects.filter(customer=survivor).values("site_id", "visitor_id")
    same = Q()
    for key in survivor_keys:
        same |= Q(site_id=key["site_id"], visitor_id=key["visitor_id"])
    if same:
        VisitorLink.objects.filter(customer=duplicate).filter(same).delete()
    VisitorLink.objects.filter(customer=duplicate).update(customer=survivor)


def channels_erase_free_text(*, customer: Customer, acting_user=None) -> None:
    """Blank what the channels hold in free text about ``customer`` (and the tombstones merged into it).

    Runs inside ``customer_erase``'s transaction. Interactions keep channel, kind, direction, date,
    duration and cost (the cost of service stays true); their subject, summary, body, outcome,
    reference and details go. Cases keep category, status and SLA dates; chat messages, letters,
    survey comments, call-back and call numbers, follow-up titles and web event URLs are blanked;
    attachments' files are deleted after commit; visitor links are deleted.
    """
    ids = [customer.pk, *Customer.objects.filter(merged_into=customer).values_list("pk", flat=True)]
    Interaction.objects.filter(customer_id__in=ids).update(
        subject="", summary="", body="", outcome="", external_id="", metadata={}
    )
    Case.objects.filter(customer_id__in=ids).update(subject="", description="")
    Conversation.objects.filter(customer_id__in=ids).update(subject="", visitor_name="", visitor_email="",
                                                            visitor_id="")  # fmt: skip
    ChatMessage.objects.filter(customer_id__in=ids).update(body="", pushed_url="")
    CallbackRequest.objects.filter(customer_id__in=ids).update(phone="", name="", reason="", outcome="",
                                                               visitor_id="")  # fmt: skip
    CallSession.objects.filter(customer_id__in=ids).update(caller_number="", caller_e164="")
    FollowUp.objects.filter(customer_id__in=ids).update(title="")
    Letter.objects.filter(customer_id__in=ids).update(subject="", body="", address_lines=[])
    SatisfactionSurvey.objects.filter(customer_id__in=ids).update(comment="")
    WebEvent.objects.filter(customer_id__in=ids).update(url="", title="", properties={}, visitor_id="")
    VisitorLink.objects.filter(customer_id__in=ids).delete()
    attachments = Attachment.objects.filter(customer_id__in=ids)
    names = [name for name in attachments.values_list("file", flat=True) if name]
    attachments.update(filename="", file="")
    # Files are stored by content hash: one still used by another customer's attachment stays.
    shared = set(Attachment.objects.filter(file__in=names).values_list("file", flat=True)) if names else set()
    names = [name for name in names if name not in shared]
    if names:
        storage = Attachment._meta.get_field("file").storage
        transaction.on_commit(lambda: [storage.delete(name) for name in names])
