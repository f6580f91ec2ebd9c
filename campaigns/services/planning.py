# ruff: noqa: S608 -- the SQL here is assembled from constant fragments; every value is a query parameter.
"""Planning a send step: one ``Message`` row per audience member, decided in one SQL statement.

The audience is the members of the campaign's segments minus those of its exclusion segments. For
each member the statement records either a planned message (due at the step's time, or deferred by
the pressure budget or quiet hours to the next free slot) or a skipped one with its reason: not live
(merged, anonymised), no consent / consent withdrawn for the channel x purpose, no contact point,
undeliverable, suppressed. Nothing is looped over in Python: planning 1M recipients holds no list.

Consent rules: email and SMS marketing need a granted consent (opt-in, French LCEN); postal mail and
call tasks need no withdrawal (opt-out regimes); a service message needs no withdrawal.
"""

from __future__ import annotations

import datetime
import secrets

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from campaigns.models import Campaign, CampaignChannel, CampaignStep, SkipReason
from campaigns.services.pressure import policy_active, pressure_lateral_sql, pressure_params
from campaigns.services.templates import _message_id_domain
from crm.errors import ApplicationError

CONTACT_KINDS = {
    CampaignChannel.EMAIL: ["email"],
    CampaignChannel.SMS: ["mobile"],
    CampaignChannel.PHONE: ["mobile", "phone"],
}
OPT_IN_CHANNELS = (CampaignChannel.EMAIL, CampaignChannel.SMS)


def _eligibility_sql(step: CampaignStep) -> tuple[str, dict]:
    """SELECT of one row per audience member: customer_id, language, to_address, status, reason, not_before."""
    campaign = step.campaign
    segments = list(campaign.segments.values_list("pk", flat=True))
    if not segments:
        raise ApplicationError("no_audience", _("Choose at least one segment."), field="segments")
    excluded = list(campaign.exclusion_segments.values_list("pk", flat=True))
    at = max(timezone.now(), campaign.scheduled_at or timezone.now())
    policy = policy_active()
    params = {
        **pressure_params(policy, start=at),
        "segments": segments,
        "excluded": excluded,
        "channel": step.channel,
        "purpose": campaign.purpose,
        "priority": campaign.priority,
        "at": at,
        "kinds": CONTACT_KINDS.get(step.channel, []),
        "opt_in": step.channel in OPT_IN_CHANNELS and campaign.purpose == "marketing",
        "today": timezone.localdate(at),
    }
    if step.channel == CampaignChannel.POSTAL_MAIL:
        contact = """
        LEFT JOIN LATERAL (
            SELECT a.line6 AS value, true AS deliverable FROM customers_postaladdress a
            WHERE a.customer_id = au.customer_id AND NOT a.is_undeliverable
              AND (a.valid_from IS NULL OR a.valid_from <= %(today)s)
              AND (a.valid_to IS NULL OR a.valid_to >= %(today)s)
            ORDER BY a.is_primary DESC, a.valid_from DESC NULLS LAST, a.id LIMIT 1
        ) cp ON true
        LEFT JOIN LATERAL (SELECT true AS present FROM customers_postaladdress a2
                           WHERE a2.customer_id = au.customer_id LIMIT 1) anycp ON true
        """
    else:
        contact = """
        LEFT JOIN LATERAL (
            SELECT k.value, true AS deliverable FROM customers_contactpoint k
            WHERE k.customer_id = au.customer_id AND k.kind = ANY(%(kinds)s::text[]) AND NOT k.is_undeliverable
            ORDER BY k.is_primary DESC, (k.kind = 'mobile') DESC, k.id LIMIT 1
        ) cp ON true
        LEFT JOIN LATERAL (SELECT true AS present FROM customers_contactpoint k2
                           WHERE k2.customer_id = au.customer_id AND k2.kind = ANY(%(kinds)s::text[])
                           LIMIT 1) anycp ON true
        """
    pressure = pressure_lateral_sql(customer="au.customer_id", at="%(at)s::timestamptz", channel="%(channel)s",
                                    purpose="%(purpose)s", priority="%(priority)s", exclude_id="0",
                                    count_planned=True)  # fmt: skip
    sql = f"""
    SELECT au.customer_id, cu.language, coalesce(cp.value, '') AS to_address,
        CASE WHEN verdict.reason IS NULL OR verdict.reason IN ('over_budget', 'quiet_hours') THEN 'planned'
             ELSE 'skipped' END AS status,
        coalesce(verdict.reason, '') AS reason,
        CASE WHEN verdict.reason IS NULL THEN %(at)s::timestamptz
             WHEN verdict.reason IN ('over_budget', 'quiet_hours') THEN pr.slot END AS not_before
    FROM (
        SELECT DISTINCT sm.customer_id FROM campaigns_segmentmember sm
        WHERE sm.segment_id = ANY(%(segments)s::bigint[])
          AND NOT EXISTS (SELECT 1 FROM campaigns_segmentmember x
                          WHERE x.customer_id = sm.customer_id AND x.segment_id = ANY(%(excluded)s::bigint[]))
    ) au
    JOIN customers_customer cu ON cu.id = au.customer_id
    LEFT JOIN LATERAL (
        SELECT cs.status FROM customers_consent cs
        WHERE cs.customer_id = au.customer_id AND cs.channel = %(channel)s AND cs.purpose = %(purpose)s
        ORDER BY cs.occurred_at DESC, cs.id DESC LIMIT 1
    ) consent ON true
    {contact}
    LEFT JOIN LATERAL (SELECT true AS hit FROM campaigns_suppression s
                       WHERE s.channel = %(channel)s AND s.value = cp.value LIMIT 1) sup ON true
    {pressure}
    CROSS JOIN LATERAL (
        SELECT CASE
            WHEN cu.merged_into_id IS NOT NULL OR cu.anonymised_at IS NOT NULL THEN 'not_live'
            WHEN consent.status = 'withdrawn' THEN 'withdrawn'
            WHEN %(opt_in)s AND consent.status IS DISTINCT FROM 'granted' THEN 'no_consent'
            WHEN anycp.present IS NULL THEN 'no_contact_point'
            WHEN cp.value IS NULL THEN 'undeliverable'
            WHEN sup.hit THEN 'suppressed'
            WHEN coalesce(pr.over, false) THEN 'over_budget'
            WHEN coalesce(pr.quiet, false) THEN 'quiet_hours'
        END AS reason
    ) verdict
    """
    return sql, params


def plan_preview(*, campaign: Campaign) -> dict:
    """What launching now would do, without writing: ``{"now": n, "deferred": {...}, "skipped": {...},
    "total": n}`` counted per reason in one query."""
    step = _send_step(campaign)
    sql, params = _eligibility_sql(step)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT status, reason, count(*) FROM ({sql}) e GROUP BY status, reason", params)  # noqa: S608
        rows = cursor.fetchall()
    return _counts(rows)


def _counts(rows) -> dict:
    result = {"now": 0, "deferred": {}, "skipped": {}, "total": 0}
    for status, reason, count in rows:
        result["total"] += count
        if status == "planned" and not reason:
            result["now"] += count
        elif status == "planned":
            result["deferred"][reason] = count
        else:
            result["skipped"][reason] = count
    return result


def preview_lines(counts: dict) -> list[tuple[str, int]]:
    """Human lines for the preview ("12,403 will receive it now", "1,210 deferred by pressure"...)."""
    labels = dict(SkipReason.choices)
    lines = [(_("Will receive it now"), counts["now"])]
    lines += [(str(labels.get(reason, reason)), n) for reason, n in sorted(counts["deferred"].items())]
    lines += [(str(labels.get(reason, reason)), n) for reason, n in sorted(counts["skipped"].items())]
    return lines


def _send_step(campaign: Campaign) -> CampaignStep:
    step = campaign.send_step
    if step is None:
        raise ApplicationError("no_step", _("Choose a channel and a template first."), field="template")
    return step


@transaction.atomic
def step_plan(*, step: CampaignStep) -> dict:
    """Write the step's messages (one per audience member, skipped ones with their reason) and return
    the counts. Idempotent: a member who already has a message for this step keeps it."""
    sql, params = _eligibility_sql(step)
    params.update(campaign_id=step.campaign_id, step_id=step.pk, priority=step.campaign.priority,
                  nonce=secrets.token_hex(4), domain=_message_id_domain())  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO campaigns_message (customer_id, campaign_id, step_id, channel, purpose, priority, language,
                status, reason, to_address, message_id, provider_id, attempts, not_before, claimed_by, error, cost,
                planned_at)
            SELECT e.customer_id, %(campaign_id)s, %(step_id)s, %(channel)s, %(purpose)s, %(priority)s, e.language,
                e.status, e.reason, e.to_address,
                CASE WHEN e.status = 'planned' THEN '<rl.' || %(campaign_id)s || '.' || %(step_id)s || '.'
                     || e.customer_id || '.' || %(nonce)s || '@' || %(domain)s || '>' ELSE '' END,
                '', 0, e.not_before, '', '', 0, now()
            FROM ({sql}) e
            ON CONFLICT (campaign_id, step_id, customer_id) DO NOTHING
            """,
            params,
        )
        cursor.execute(
            "SELECT status, reason, count(*) FROM campaigns_message WHERE step_id = %s GROUP BY status, reason",
            [step.pk],
        )
        counts = _counts(cursor.fetchall())
    CampaignStep.objects.filter(pk=step.pk).update(planned_at=timezone.now())
    return counts


def planned_start(campaign: Campaign) -> datetime.datetime:
    return max(timezone.now(), campaign.scheduled_at or timezone.now())
