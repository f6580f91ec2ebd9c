"""Contacts an agent logs by hand on the 360 page: a face-to-face visit, a phone call, an internal note.

Each is one ``interaction_record`` call (the timeline's one writer) in one transaction; a visit may
also create a follow-up task for a colleague, in the same transaction, so neither exists without the other.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.html import escape, linebreaks
from django.utils.translation import gettext as _

from channels.choices import Direction, InteractionChannel, InteractionKind
from channels.models import Case, FollowUp, Interaction
from channels.services.cases import case_agent_responded
from channels.services.interactions import interaction_record
from crm.errors import ApplicationError
from customers.models import Customer, Product


def _check_live(customer: Customer) -> None:
    if not customer.is_live:
        raise ApplicationError("not_live", _("This customer was merged or anonymised; log the contact on the "
                                             "customer it became."), status_code=409)  # fmt: skip


def _check_case(customer: Customer, case: Case | None) -> None:
    if case is not None and case.customer_id != customer.pk:
        raise ApplicationError("invalid_case", _("This case belongs to another customer."), field="case")


def _check_not_future(occurred_at: datetime.datetime | None) -> None:
    if occurred_at is not None and occurred_at > timezone.now() + datetime.timedelta(minutes=5):
        raise ApplicationError("in_future", _("A contact that was logged cannot be in the future."),
                               field="occurred_at")  # fmt: skip


def _text_html(text: str) -> str:
    """An agent's plain text as HTML paragraphs (escaped: what they typed is shown, never run)."""
    return linebreaks(escape(text)) if text.strip() else ""


@dataclass
class FollowUpInput:
    title: str
    due_at: datetime.datetime
    assignee: object | None = None


@dataclass
class VisitInput:
    store: str
    reason: str
    outcome: str = ""
    notes: str = ""
    products: list[Product] = field(default_factory=list)
    duration_minutes: int | None = None
    occurred_at: datetime.datetime | None = None
    case: Case | None = None
    follow_up: FollowUpInput | None = None


@transaction.atomic
def visit_record(*, customer: Customer, data: VisitInput, acting_user) -> Interaction:
    """Log a face-to-face visit (store, reason, products discussed, outcome) and return its interaction.

    The visit costs the face-to-face channel cost. With ``data.follow_up`` a ``FollowUp`` task is
    created for its assignee (default: the acting user), linked to the visit and its case. Raises
    ``ApplicationError`` (nothing written) for a merged/anonymised customer, another customer's case,
    a visit in the future or a follow-up due in the past.
    """
    _check_live(customer)
    _check_case(customer, data.case)
    _check_not_future(data.occurred_at)
    if not data.store.strip():
        raise ApplicationError("required", _("Say in which store or agency the visit took place."), field="store")
    if data.follow_up is not None and data.follow_up.due_at < timezone.now() - datetime.timedelta(minutes=5):
        raise ApplicationError("in_past", _("A follow-up task cannot be due in the past."), field="follow_up_due_at")
    products = [{"sku": p.sku, "name": p.name} for p in data.products]
    summary_parts = [data.reason.strip()]
    if products:
        summary_parts.append(_("Products: %(names)s") % {"names": ", ".join(p["name"] for p in products)})
    if data.notes.strip():
        summary_parts.append(data.notes.strip())
    interaction = interaction_record(
        channel=InteractionChannel.FACE_TO_FACE,
        direction=Direction.INBOUND,
        kind=InteractionKind.VISIT,
        customer=customer,
        agent=acting_user,
        occurred_at=data.occurred_at,
        subject=data.reason.strip(),
        body_html=_text_html(data.notes),
        summary=" · ".join(summary_parts),
        outcome=data.outcome,
        duration_seconds=data.duration_minutes * 60 if data.duration_minutes else None,
        case=data.case,
        metadata={"store": data.store.strip(), "products": products},
    )
    if data.follow_up is not None:
        FollowUp.objects.create(
            customer=customer,
            title=data.follow_up.title.strip()[:255],
            due_at=data.follow_up.due_at,
            assignee=data.follow_up.assignee or acting_user,
            case=data.case,
            interaction=interaction,
            created_by=acting_user,
        )
    return interaction


@transaction.atomic
def call_log(
    *,
    customer: Customer,
    direction: str,
    reason: str,
    outcome: str,
    acting_user,
    duration_seconds: int | None = None,
    notes: str = "",
    occurred_at: datetime.datetime | None = None,
    case: Case | None = None,
) -> Interaction:
    """Log a phone call made or taken outside the telephony integration; return its interaction.

    The call costs the phone channel cost. An outbound call on an open case counts as the agent's
    response for the case's first-response SLA. Raises ``ApplicationError`` as ``visit_record`` does.
    """
    _check_live(customer)
    _check_case(customer, case)
    _check_not_future(occurred_at)
    if direction not in Direction.values:
        raise ApplicationError("invalid_choice", _("A call is inbound or outbound."), field="direction")
    interaction = interaction_record(
        channel=InteractionChannel.PHONE,
        direction=direction,
        kind=InteractionKind.CALL,
        customer=customer,
        agent=acting_user,
        occurred_at=occurred_at,
        subject=reason.strip(),
        body_html=_text_html(notes),
        outcome=outcome,
        duration_seconds=duration_seconds,
        case=case,
        metadata={"logged_by_hand": True},
    )
    if case is not None and direction == Direction.OUTBOUND and case.is_open:
        case_agent_responded(case, at=interaction.occurred_at)
    return interaction


@transaction.atomic
def note_add(
    *,
    customer: Customer,
    text: str,
    acting_user,
    subject: str = "",
    channel: str = InteractionChannel.PHONE,
    case: Case | None = None,
) -> Interaction:
    """Add an internal note to the timeline and return it (kind ``note``, cost 0: nobody was contacted).

    ``channel`` is the channel the note is about (a note after a call is filed under phone); notes are
    left out of the cost of service.
    """
    _check_live(customer)
    _check_case(customer, case)
    if not text.strip():
        raise ApplicationError("required", _("Write the note."), field="text")
    return interaction_record(
        channel=channel,
        direction=Direction.OUTBOUND,
        kind=InteractionKind.NOTE,
        customer=customer,
        agent=acting_user,
        subject=subject.strip(),
        body_html=_text_html(text),
        case=case,
        cost=Decimal("0"),
    )
