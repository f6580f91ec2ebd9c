"""Reads of the customer record that are more than a one-line queryset."""

from __future__ import annotations

from django.db.models import OuterRef, QuerySet, Subquery

from customers.choices import Channel, ConsentStatus, Purpose
from customers.models import Consent, Customer


def consent_effective(*, customer: Customer) -> dict[tuple[str, str], Consent]:
    """The entry in force for each (channel, purpose) the customer ever answered: the latest one."""
    entries = Consent.objects.filter(customer=customer).latest_per_channel_and_purpose()
    return {(entry.channel, entry.purpose): entry for entry in entries}


def consent_badges(*, customer: Customer, purpose: str = Purpose.MARKETING) -> list[dict]:
    """One badge per channel for ``purpose``: granted, withdrawn or unknown (never asked)."""
    effective = consent_effective(customer=customer)
    badges = []
    for channel, label in Channel.choices:
        entry = effective.get((channel, purpose))
        badges.append({"channel": channel, "label": label, "status": entry.status if entry else None, "entry": entry})
    return badges


def consent_state_subquery(*, channel: str, purpose: str) -> Subquery:
    """Annotation: the customer's effective status for one channel and purpose, in the same query.

    ``Customer.objects.annotate(email_marketing=consent_state_subquery(channel="email", purpose="marketing"))``
    reads the ``consent_latest`` index once per customer row; NULL means never asked.
    """
    latest = Consent.objects.filter(customer=OuterRef("pk"), channel=channel, purpose=purpose).order_by(
        "-occurred_at", "-id"
    )
    return Subquery(latest.values("status")[:1])


def customers_with_consent(*, channel: str, purpose: str, queryset: QuerySet | None = None) -> QuerySet:
    """Customers whose effective consent for ``channel``/``purpose`` is granted (one SQL query)."""
    queryset = queryset if queryset is not None else Customer.objects.live()
    return queryset.annotate(_consent=consent_state_subquery(channel=channel, purpose=purpose)).filter(
        _consent=ConsentStatus.GRANTED
    )
