"""Helpers for the outbox tests: an audience of customers in a static segment, a template, a campaign."""

from __future__ import annotations

import datetime

from campaigns.models import PressurePolicy, Segment, SegmentMember, Template
from campaigns.services.campaigns import campaign_create
from customers.choices import ConsentStatus
from customers.models import Consent, ContactPoint, Customer

EMAIL_HTML = """<html><head><style>p { color: #123456; } .cta { font-weight: bold; }</style></head>
<body><p>Bonjour {{ customer.title }} {{ customer.family_name|default:"client" }},</p>
<p class="cta"><a href="https://shop.example.fr/offre?c=1">Voir l'offre</a></p>
<p><a href="{{ unsubscribe_url }}">Se désabonner</a></p></body></html>"""


def audience(n: int, *, name: str = "Audience", consent: str | None = ConsentStatus.GRANTED, channel: str = "email",
             prefix: str = "c") -> tuple[Segment, list[Customer]]:  # fmt: skip
    """``n`` customers with an email (or mobile) and a consent, members of one static segment (bulk)."""
    customers = Customer.objects.bulk_create([Customer(given_name=f"P{i}", family_name=f"{prefix.upper()}{i}",
                                                       language="fr") for i in range(n)])  # fmt: skip
    kind = "email" if channel == "email" else "mobile"
    ContactPoint.objects.bulk_create([
        ContactPoint(customer=c, kind=kind, is_primary=True,
                     value=f"{prefix}{c.pk}@example.fr" if kind == "email" else f"+3361{c.pk:07d}")
        for c in customers
    ])  # fmt: skip
    if consent:
        Consent.objects.bulk_create([Consent(customer=c, channel=channel, purpose="marketing", status=consent,
                                             source="import") for c in customers])  # fmt: skip
    segment = Segment.objects.create(name=name, kind=Segment.Kind.STATIC, size=n)
    SegmentMember.objects.bulk_create([SegmentMember(segment=segment, customer=c) for c in customers])
    return segment, customers


def email_template(name: str = "Offre", **fields) -> Template:
    values = {"subject": "Offre pour {{ customer.given_name }}", "html": EMAIL_HTML, "text": "", "language": "fr"}
    values.update(fields)
    return Template.objects.create(name=name, channel="email", **values)


def open_policy(**fields) -> PressurePolicy:
    """A policy without quiet hours or closed days, so tests do not depend on the clock."""
    PressurePolicy.objects.all().delete()
    values = {"quiet_start": None, "quiet_end": None, "skip_sundays": False, "skip_holidays": False,
              "channel_caps": {"sms": [2, 30]}}  # fmt: skip
    values.update(fields)
    return PressurePolicy.objects.create(**values)


def campaign(segment, template, *, user=None, priority=3, name="Campagne", **fields):
    return campaign_create(acting_user=user, name=name, channel=template.channel, template=template,
                           segments=[segment], priority=priority, **fields)  # fmt: skip


def days_ago(days: float) -> datetime.timedelta:
    return datetime.timedelta(days=days)
