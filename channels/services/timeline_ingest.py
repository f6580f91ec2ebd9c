"""Record an interaction sent by an integration (``POST /api/v1/channels/interactions/``).

The caller names the customer by id or by identity fields (email, phone, account number) resolved
through ``customers.services.identity``; an unknown person is recorded without a customer, to be
identified later. ``external_id`` makes the call idempotent per channel: a retry returns the
interaction recorded the first time instead of a second one.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from channels.models import Interaction
from channels.services.interactions import interaction_record
from crm.errors import ApplicationError
from customers.access import customer_survivor
from customers.models import Customer
from customers.services.identity import identity_resolve


@dataclass
class IngestResult:
    interaction: Interaction
    created: bool
    match_reasons: list[str]


def _customer_for(*, customer_id, email, phone, account_number) -> tuple[Customer | None, list[str]]:
    if customer_id is not None:
        customer = Customer.objects.filter(pk=customer_id).first()
        if customer is None:
            raise ApplicationError("not_found", _("No such customer."), field="customer")
        customer = customer_survivor(customer)
        if customer.anonymised_at is not None:
            raise ApplicationError("not_live", _("This customer was anonymised."), field="customer")
        return customer, ["id"]
    if not (email or phone or account_number):
        return None, []
    result = identity_resolve(email=email or None, phone=phone or None, account_number=account_number or None)
    return result.match, list(result.reasons) if result.match else []


@transaction.atomic
def interaction_ingest(
    *,
    channel: str,
    direction: str,
    kind: str,
    acting_user,
    customer_id: int | None = None,
    email: str = "",
    phone: str = "",
    account_number: str = "",
    subject: str = "",
    body_html: str = "",
    summary: str = "",
    outcome: str = "",
    duration_seconds: int | None = None,
    occurred_at: datetime.datetime | None = None,
    external_id: str = "",
    metadata: dict | None = None,
) -> IngestResult:
    """Record one interaction from an integration, or return the one already recorded for ``external_id``.

    Concurrent retries with the same (channel, external_id) are serialised by a transaction-scoped
    advisory lock, so exactly one interaction exists afterwards. The customer is ``customer_id`` (a
    merged-away id is followed to its survivor) or the clear match of the identity fields, else None.
    Raises ``ApplicationError`` with a field for an unknown customer id, an invalid email/phone or a
    date in the future; nothing is written then. The acting user (the integration) is not the agent.
    """
    if occurred_at is not None and occurred_at > timezone.now() + datetime.timedelta(minutes=5):
        raise ApplicationError("in_future", _("An interaction cannot have happened in the future."),
                               field="occurred_at")  # fmt: skip
    if external_id:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                           [f"relais.interaction:{channel}:{external_id}"])  # fmt: skip
        existing = Interaction.objects.filter(channel=channel, external_id=external_id).order_by("pk").first()
        if existing is not None:
            return IngestResult(interaction=existing, created=False, match_reasons=[])
    customer, reasons = _customer_for(customer_id=customer_id, email=email, phone=phone,
                                      account_number=account_number)  # fmt: skip
    interaction = interaction_record(
        channel=channel, direction=direction, kind=kind, customer=customer, occurred_at=occurred_at,
        subject=subject, body_html=body_html, summary=summary, outcome=outcome,
        duration_seconds=duration_seconds, external_id=external_id,
        metadata={**(metadata or {}), "source": "api", "recorded_by": getattr(acting_user, "pk", None)},
    )  # fmt: skip
    return IngestResult(interaction=interaction, created=True, match_reasons=reasons)
