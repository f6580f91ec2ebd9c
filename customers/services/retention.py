"""Retention of prospects' personal data (CNIL: 3 years after the last contact from the prospect).

A nightly beat job flags prospects whose last contact is older than ``RETENTION_PROSPECT_YEARS``;
with ``RETENTION_AUTO_ANONYMISE`` on, it also erases them through ``customer_erase``.
"""

from __future__ import annotations

import datetime

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from customers.choices import RecordSource, Stage
from customers.models import Customer
from customers.services.gdpr import customer_erase

# Last contact = the latest of creation, last change, last recorded contact and last order.
LAST_CONTACT = """
    GREATEST(c.created_at, c.updated_at, coalesce(c.last_contact_at, c.created_at),
             coalesce((SELECT max(o.placed_at) FROM customers_order o WHERE o.customer_id = c.id), c.created_at))
"""


@transaction.atomic
def retention_flag_prospects(*, now: datetime.datetime | None = None) -> int:
    """Flag (``retention_flagged_at``) live prospects without contact since the retention cut-off.

    Set-based: one UPDATE flags, one clears the flag of prospects contacted again since (or no longer
    prospects). Returns how many were newly flagged.
    """
    now = now or timezone.now()
    cutoff = now - relativedelta(years=settings.RETENTION_PROSPECT_YEARS)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE customers_customer c SET retention_flagged_at = %(now)s
            WHERE c.stage = %(prospect)s AND c.anonymised_at IS NULL AND c.merged_into_id IS NULL
              AND c.retention_flagged_at IS NULL AND {LAST_CONTACT} < %(cutoff)s
            """,  # noqa: S608 - a constant expression, values are parameters
            {"now": now, "cutoff": cutoff, "prospect": Stage.PROSPECT},
        )
        flagged = cursor.rowcount
        cursor.execute(
            f"""
            UPDATE customers_customer c SET retention_flagged_at = NULL
            WHERE c.retention_flagged_at IS NOT NULL AND c.anonymised_at IS NULL
              AND (c.stage <> %(prospect)s OR {LAST_CONTACT} >= %(cutoff)s)
            """,  # noqa: S608
            {"cutoff": cutoff, "prospect": Stage.PROSPECT},
        )
    return flagged


def retention_run(*, now: datetime.datetime | None = None) -> int:
    """The nightly job: flag, then (when ``RETENTION_AUTO_ANONYMISE``) erase the flagged prospects.

    Each erasure is its own transaction (acting user none, source "system"), so one failure does not
    undo the others. Returns how many prospects were newly flagged.
    """
    flagged = retention_flag_prospects(now=now)
    if settings.RETENTION_AUTO_ANONYMISE:
        due = Customer.objects.filter(
            retention_flagged_at__isnull=False,
            anonymised_at__isnull=True,
            merged_into__isnull=True,
            stage=Stage.PROSPECT,
        ).values_list("pk", flat=True)
        for pk in list(due.iterator(chunk_size=1000)):
            customer_erase(customer=Customer.objects.get(pk=pk), acting_user=None, source=RecordSource.SYSTEM)
    return flagged
