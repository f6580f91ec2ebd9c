# ruff: noqa: S608 -- the SQL here is assembled from constant fragments; every value is a query parameter.
"""Dispatch: workers claim due messages, re-check them, hand them over, and mark them sent.

The order that makes a message go at most once, and exactly once when the transport can confirm:

1. *Claim* (one transaction): ``SELECT ... FOR UPDATE SKIP LOCKED`` a batch of due planned messages of
   a running campaign, set ``claimed`` + a lease; take each customer's advisory lock (in customer order,
   so two workers never deadlock) and re-check the pressure budget with every contact reserved so far;
   a message over budget, or blocked by a higher-priority message due for the same customer, goes back
   to ``planned`` at its next free slot; the others reserve their budget (``reserved_at``).
2. *Handover*, per message: one autocommitted ``UPDATE ... SET status = 'sending'`` that re-checks, in
   the same statement, that the campaign still runs, the consent still holds, the address is neither
   suppressed nor undeliverable. A withdrawal committed before that statement began stops the message.
   Only then is the transport called, with the ``Message-ID`` written at planning.
3. *Sent* (one transaction per few messages): status ``sent``, the provider id, and one timeline
   interaction per message in one INSERT (``interactions_record_many``).

A crash between 2 and 3 leaves ``sending`` rows: the sweeper asks the transport (``lookup``) whether
each reached the provider and marks it sent or planned again; when the transport cannot know, the
message is failed as "not confirmed" instead of being sent twice. A crash before 2 leaves ``claimed``
rows: nothing was handed over, the sweeper puts them back to ``planned`` when their lease expires.
"""

from __future__ import annotations

import datetime
import logging
import os
import socket
import time
import uuid
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from campaigns.models import Campaign, CampaignChannel, CampaignStatus, Message, MessageStatus, SkipReason
from campaigns.services.pressure import is_quiet, next_open_time, policy_active, pressure_lateral_sql, pressure_params
from campaigns.services.templates import email_build, message_context, render_parts, template_for_language
from campaigns.services.tracking import INTERACTION_CHANNEL, INTERACTION_KIND
from campaigns.transports import TRANSPORTS, TransportError, transport_for
from channels.choices import Direction
from channels.services.interactions import channel_cost, interaction_build, interactions_record_many
from crm.errors import ApplicationError

logger = logging.getLogger("relais.campaigns")
LOCK_NAMESPACE = 7_311_001  # pg_advisory_xact_lock(namespace, customer_id): the customer's pressure budget
FLUSH_EVERY = 20
FLUSH_SECONDS = 1.0
MAX_ATTEMPTS = 5
OPT_IN = ("email", "sms")


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _lease() -> datetime.timedelta:
    return datetime.timedelta(seconds=settings.CAMPAIGNS_LEASE_SECONDS)


# -- 1. claim ----------------------------------------------------------------------------------------


@transaction.atomic
def batch_claim(*, campaign: Campaign, worker: str, size: int) -> list[int]:
    """Claim up to ``size`` due messages of a running campaign and reserve their pressure budget.

    Returns the ids claimed and within budget (the others are back to ``planned`` at their next slot).
    """
    now = timezone.now()
    policy = policy_active()
    if is_quiet(policy, now):
        Message.objects.filter(campaign=campaign, status=MessageStatus.PLANNED, not_before__lte=now).update(
            not_before=next_open_time(policy, now), reason=SkipReason.QUIET_HOURS
        )
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH due AS (
                SELECT m.id FROM campaigns_message m
                WHERE m.campaign_id = %(campaign)s AND m.status = 'planned' AND m.not_before <= statement_timestamp()
                ORDER BY m.not_before, m.id LIMIT %(size)s FOR UPDATE SKIP LOCKED
            )
            UPDATE campaigns_message m SET status = 'claimed', claimed_by = %(worker)s, attempts = m.attempts + 1,
                lease_expires_at = statement_timestamp() + %(lease)s
            FROM due WHERE m.id = due.id
              AND EXISTS (SELECT 1 FROM campaigns_campaign c WHERE c.id = %(campaign)s AND c.status = 'running')
            RETURNING m.id, m.customer_id
            """,
            {"campaign": campaign.pk, "size": size, "worker": worker, "lease": _lease()},
        )
        claimed = cursor.fetchall()
        if not claimed:
            return []
        customers = sorted({customer_id for _id, customer_id in claimed})
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, c) FROM unnest(%s::int[]) AS c ORDER BY c", [LOCK_NAMESPACE, customers]
        )
        if campaign.purpose == "service" and policy.service_exempt:
            cursor.execute("UPDATE campaigns_message SET reserved_at = statement_timestamp() WHERE id = ANY(%s)",
                           [[i for i, _c in claimed]])  # fmt: skip
            return [i for i, _c in claimed]
        pressure = pressure_lateral_sql(customer="m.customer_id", at="statement_timestamp()", channel="m.channel",
                                        purpose="m.purpose", priority="m.priority", exclude_id="m.id",
                                        count_planned=False)  # fmt: skip
        next_day = next_open_time(policy, _next_midnight(now))
        cursor.execute(
            f"""
            WITH verdict AS (
                SELECT m.id, coalesce(pr.over, false) AS over, pr.slot,
                    coalesce(pr.n_day, 0) AS n_day, coalesce(pr.n_window, 0) AS n_window,
                    (SELECT count(*) FROM campaigns_message h JOIN campaigns_campaign hc ON hc.id = h.campaign_id
                     WHERE h.customer_id = m.customer_id AND h.id <> m.id AND h.purpose = 'marketing'
                       AND h.status = 'planned' AND h.not_before <= statement_timestamp() AND hc.status = 'running'
                       AND (h.priority > m.priority OR (h.priority = m.priority AND h.campaign_id < m.campaign_id))
                    ) AS higher_due
                FROM campaigns_message m
                {pressure}
                WHERE m.id = ANY(%(ids)s)
            )
            UPDATE campaigns_message m SET
                status = CASE WHEN v.over OR v.blocked THEN 'planned' ELSE 'claimed' END,
                reserved_at = CASE WHEN v.over OR v.blocked THEN NULL ELSE statement_timestamp() END,
                not_before = CASE WHEN v.over THEN v.slot WHEN v.blocked THEN %(next_day)s ELSE m.not_before END,
                reason = CASE WHEN v.over OR v.blocked THEN 'over_budget' ELSE m.reason END,
                claimed_by = CASE WHEN v.over OR v.blocked THEN '' ELSE m.claimed_by END,
                lease_expires_at = CASE WHEN v.over OR v.blocked THEN NULL ELSE m.lease_expires_at END
            FROM (SELECT verdict.*, NOT verdict.over AND verdict.higher_due > 0
                         AND (verdict.n_day + verdict.higher_due >= %(p_max_day)s
                              OR verdict.n_window + verdict.higher_due >= %(p_max_window)s) AS blocked
                  FROM verdict) v
            WHERE m.id = v.id
            RETURNING m.id, m.status
            """,
            {**pressure_params(policy, start=now), "ids": [i for i, _c in claimed], "next_day": next_day},
        )
        return sorted(i for i, status in cursor.fetchall() if status == "claimed")


def _next_midnight(now: datetime.datetime) -> datetime.datetime:
    local = timezone.localtime(now)
    return (local + datetime.timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)


# -- 2. handover ------------------------------------------------------------------------------------

_SENDING_SQL = """
UPDATE campaigns_message m SET status = 'sending', handover_at = statement_timestamp(),
    lease_expires_at = statement_timestamp() + %(lease)s
WHERE m.id = ANY(%(ids)s) AND m.status = 'claimed' AND m.claimed_by = %(worker)s
  AND EXISTS (SELECT 1 FROM campaigns_campaign c WHERE c.id = m.campaign_id AND c.status = 'running')
  AND NOT EXISTS (SELECT 1 FROM campaigns_suppression s WHERE s.channel = m.channel AND s.value = m.to_address)
  AND (m.channel NOT IN ('email', 'sms', 'phone') OR EXISTS (
        SELECT 1 FROM customers_contactpoint k WHERE k.customer_id = m.customer_id AND k.value = m.to_address
        AND NOT k.is_undeliverable))
  AND (SELECT CASE WHEN cs.status = 'withdrawn' THEN false
                   WHEN m.purpose = 'marketing' AND m.channel IN ('email', 'sms') THEN cs.status = 'granted'
                   ELSE true END
       FROM (SELECT NULL) one LEFT JOIN LATERAL (
            SELECT c2.status FROM customers_consent c2 WHERE c2.customer_id = m.customer_id AND c2.channel = m.channel
            AND c2.purpose = m.purpose ORDER BY c2.occurred_at DESC, c2.id DESC LIMIT 1) cs ON true)
RETURNING m.id
"""

_CONSENT_NOW = """(SELECT c2.status FROM customers_consent c2 WHERE c2.customer_id = m.customer_id
    AND c2.channel = m.channel AND c2.purpose = m.purpose ORDER BY c2.occurred_at DESC, c2.id DESC LIMIT 1)"""
_WHY_NOT_SQL = f"""
UPDATE campaigns_message m SET
    status = CASE WHEN camp.status = 'running' THEN 'skipped' ELSE 'planned' END,
    reason = CASE WHEN camp.status <> 'running' THEN m.reason
                  WHEN EXISTS (SELECT 1 FROM campaigns_suppression s WHERE s.channel = m.channel
                               AND s.value = m.to_address) THEN 'suppressed'
                  WHEN {_CONSENT_NOW} = 'withdrawn' THEN 'withdrawn'
                  WHEN {_CONSENT_NOW} IS DISTINCT FROM 'granted' AND m.purpose = 'marketing'
                       AND m.channel IN ('email', 'sms') THEN 'no_consent'
                  ELSE 'undeliverable' END,
    reserved_at = NULL, lease_expires_at = NULL, claimed_by = ''
FROM campaigns_campaign camp
WHERE m.id = ANY(%(ids)s) AND m.status = 'claimed' AND m.claimed_by = %(worker)s AND camp.id = m.campaign_id
"""


def _mark_sending(cursor, *, message_id: int, worker: str) -> bool:
    """Re-check one claimed message and mark it ``sending`` (autocommitted before the handover)."""
    return bool(messages_mark_sending(cursor, ids=[message_id], worker=worker))


def messages_mark_sending(cursor, *, ids: list[int], worker: str) -> list[int]:
    """Re-check claimed messages at send time, in one statement: the campaign still runs, the consent
    (latest ledger entry) still holds, the address is neither suppressed nor undeliverable. Those that
    pass become ``sending`` (returned); the others are skipped with the reason, or back to planned when
    the campaign was paused meanwhile."""
    cursor.execute(_SENDING_SQL, {"ids": ids, "worker": worker, "lease": _lease()})
    passed = [row[0] for row in cursor.fetchall()]
    rest = sorted(set(ids) - set(passed))
    if rest:
        cursor.execute(_WHY_NOT_SQL, {"ids": rest, "worker": worker})
    return passed


def _payload(message: Message, campaign: Campaign, cache: dict):
    template = cache.get(message.language)
    if template is None:
        template = cache[message.language] = template_for_language(cache["base"], message.language)
    parts = render_parts(template, context=message_context(customer=message.customer, message=message,
                                                           last_order=cache.get("last_orders", {}).get(
                                                               message.customer_id, {})))  # fmt: skip
    if message.channel == CampaignChannel.EMAIL:
        return email_build(message=message, parts=parts, to=message.to_address, sender=campaign.sender), parts
    sender = campaign.sender.sms_sender if campaign.sender and campaign.sender.sms_sender else settings.SMS_SENDER
    return {"body": parts["body"], "sender": sender}, parts


def _last_orders(customer_ids: list[int]) -> dict[int, dict]:
    from customers.models import Order

    rows = (
        Order.objects.filter(customer_id__in=customer_ids)
        .order_by("customer_id", "-placed_at")
        .distinct("customer_id")
        .values("customer_id", "number", "placed_at", "total_amount")
    )
    return {r["customer_id"]: {"number": r["number"], "date": r["placed_at"], "total": r["total_amount"]} for r in rows}


# -- 3. sent ---------------------------------------------------------------------------------------------


@transaction.atomic
def _record_sent(sent: list[tuple[Message, str, dict]], *, campaign: Campaign, cost: Decimal) -> int:
    """Mark handed-over messages sent and write one timeline interaction per message, in bulk.

    The status change comes first and is guarded (``status = 'sending'``): a message the sweeper
    already settled is neither marked twice nor given a second interaction. Returns how many changed.
    """
    if not sent:
        return 0
    now = timezone.now()
    by_id = {message.pk: (message, provider_id, parts) for message, provider_id, parts in sent}
    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE campaigns_message m SET status = 'sent', sent_at = %(now)s, provider_id = v.provider_id,
                lease_expires_at = NULL, cost = %(cost)s
            FROM unnest(%(ids)s::bigint[], %(pids)s::text[]) AS v(id, provider_id)
            WHERE m.id = v.id AND m.status = 'sending'
            RETURNING m.id
            """,
            {"now": now, "cost": cost, "ids": list(by_id), "pids": [by_id[i][1] for i in by_id]},
        )
        changed = sorted(row[0] for row in cursor.fetchall())
        if not changed:
            return 0
        interactions = [
            interaction_build(
                channel=INTERACTION_CHANNEL[message.channel], direction=Direction.OUTBOUND,
                kind=INTERACTION_KIND[message.channel], customer=message.customer, occurred_at=now,
                subject=(parts.get("subject") or campaign.name)[:255],
                summary=(parts.get("text") or parts.get("body") or "")[:500], cost=cost,
                external_id=message.message_id or provider_id,
                metadata={"campaign_id": campaign.pk, "campaign": campaign.name, "message_id": message.pk},
            )
            for message, provider_id, parts in (by_id[i] for i in changed)
        ]  # fmt: skip
        interactions_record_many(interactions)
        cursor.execute(
            """
            UPDATE campaigns_message m SET interaction_id = v.interaction_id
            FROM unnest(%(ids)s::bigint[], %(iids)s::bigint[]) AS v(id, interaction_id) WHERE m.id = v.id
            """,
            {"ids": changed, "iids": [interaction.pk for interaction in interactions]},
        )
    return len(changed)


def _record_failure(message: Message, error: TransportError) -> None:
    if error.permanent:
        Message.objects.filter(pk=message.pk, status=MessageStatus.SENDING).update(
            status=MessageStatus.FAILED, reason=SkipReason.REFUSED, error=error.message[:500],
            failed_at=timezone.now(), lease_expires_at=None,
        )  # fmt: skip
    elif error.certain:
        retry = message.attempts < MAX_ATTEMPTS
        Message.objects.filter(pk=message.pk, status=MessageStatus.SENDING).update(
            status=MessageStatus.PLANNED if retry else MessageStatus.FAILED, error=error.message[:500],
            not_before=timezone.now() + datetime.timedelta(seconds=30 * message.attempts),
            reserved_at=None, claimed_by="", lease_expires_at=None, handover_at=None,
            failed_at=None if retry else timezone.now(),
        )  # fmt: skip
    # else: the handover may have happened; the row stays "sending" and the sweeper checks it.


# -- the loop a worker runs -------------------------------------------------------------------------------


def campaign_complete_if_done(*, campaign_id: int) -> bool:
    from campaigns.services.campaigns import campaign_complete_if_done as complete

    return complete(campaign_id=campaign_id)


def campaign_dispatch(*, campaign_id: int, seconds: float = 20.0, size: int | None = None) -> dict:
    """Send due messages of a campaign for up to ``seconds``; returns ``{"sent": n, "more": bool,
    "retry_in": seconds}``.

    ``more`` says due messages remain (the task then enqueues itself again, after ``retry_in`` seconds
    when the transport was unreachable). A campaign with nothing left to send is completed.
    """
    campaign = Campaign.objects.select_related("sender").filter(pk=campaign_id).first()
    if campaign is None or campaign.status != CampaignStatus.RUNNING:
        return {"sent": 0, "more": False}
    step = campaign.send_step
    if step.channel in (CampaignChannel.POSTAL_MAIL, CampaignChannel.PHONE):
        from campaigns.services.offline import offline_step_dispatch

        report = offline_step_dispatch(campaign=campaign, step=step)
        if not report["more"]:
            campaign_complete_if_done(campaign_id=campaign_id)
        return report
    size = size or settings.CAMPAIGNS_BATCH_SIZE
    worker = worker_name()
    transport = transport_for(step.channel)
    cost, _currency = channel_cost(INTERACTION_CHANNEL[step.channel])
    cache: dict = {"base": step.template}
    deadline = time.monotonic() + seconds
    total, more = 0, False
    try:
        transport.open()
    except TransportError as error:
        logger.warning("Campaign %s: transport unavailable (%s)", campaign_id, error.message)
        return {"sent": 0, "more": True, "retry_in": 30}
    try:
        while time.monotonic() < deadline:
            ids = batch_claim(campaign=campaign, worker=worker, size=size)
            if not ids:
                break
            more = True
            messages = list(Message.objects.select_related("customer").filter(pk__in=ids).order_by("id"))
            cache["last_orders"] = _last_orders([m.customer_id for m in messages])
            total += _send_batch(messages, campaign=campaign, worker=worker, transport=transport, cache=cache,
                                 cost=cost)  # fmt: skip
            more = Message.objects.filter(campaign_id=campaign_id, status=MessageStatus.PLANNED,
                                          not_before__lte=timezone.now()).exists()  # fmt: skip
            if not more:
                break
    finally:
        transport.close()
    if not more:
        campaign_complete_if_done(campaign_id=campaign_id)
    return {"sent": total, "more": more, "retry_in": 0}


def _send_batch(messages, *, campaign, worker, transport, cache, cost) -> int:
    sent: list[tuple[Message, str, dict]] = []
    count = 0
    with connection.cursor() as cursor:
        for message in messages:
            try:
                payload, parts = _payload(message, campaign, cache)
            except ApplicationError as error:
                Message.objects.filter(pk=message.pk, status=MessageStatus.CLAIMED).update(
                    status=MessageStatus.FAILED, reason=SkipReason.RENDER_ERROR, error=error.message[:500],
                    reserved_at=None, failed_at=timezone.now(),
                )  # fmt: skip
                continue
            if not _mark_sending(cursor, message_id=message.pk, worker=worker):
                continue
            try:
                provider_id = transport.send(message=message, payload=payload)
            except TransportError as error:
                _record_failure(message, error)
                if not error.certain:
                    transport.close()
                continue
            if not sent:
                oldest = time.monotonic()
            sent.append((message, provider_id, parts))
            # Flushed often: a handed-over message must be recorded well within its lease.
            if len(sent) >= FLUSH_EVERY or time.monotonic() - oldest > FLUSH_SECONDS:
                count += _record_sent(sent, campaign=campaign, cost=cost)
                sent = []
    return count + _record_sent(sent, campaign=campaign, cost=cost)


# -- the sweeper -----------------------------------------------------------------------------------------


def outbox_sweep(*, limit: int = 2000) -> dict:
    """Finish what crashed workers or a lost Redis left: run by beat (and callable by hand).

    Starts scheduled campaigns whose time has come; puts expired claims back to planned; checks
    expired handovers with the transport (sent / planned again / failed "not confirmed"); completes
    campaigns with nothing left; and returns the ids of running campaigns with due work and nobody on
    it (the task enqueues dispatch for them).
    """
    from campaigns.services.campaigns import campaign_start

    now = timezone.now()
    started = 0
    for campaign in Campaign.objects.filter(status=CampaignStatus.SCHEDULED, scheduled_at__lte=now):
        campaign_start(campaign=campaign, acting_user=None)
        started += 1
    expired = Message.objects.filter(status=MessageStatus.CLAIMED, lease_expires_at__lt=now)
    # A message whose worker died on it again and again (a poison message) stops being retried.
    expired.filter(attempts__gte=MAX_ATTEMPTS).update(
        status=MessageStatus.FAILED, failed_at=now, claimed_by="", lease_expires_at=None, reserved_at=None,
        error=f"Claimed {MAX_ATTEMPTS} times without being handed over: not tried again.",
    )  # fmt: skip
    released = expired.update(status=MessageStatus.PLANNED, claimed_by="", lease_expires_at=None, reserved_at=None)
    checked = _sweep_handovers(now=now, limit=limit)
    completed = 0
    for campaign_id in Campaign.objects.filter(status=CampaignStatus.RUNNING).values_list("pk", flat=True):
        completed += campaign_complete_if_done(campaign_id=campaign_id)
    wake = list(
        Campaign.objects.filter(
            status=CampaignStatus.RUNNING, messages__status=MessageStatus.PLANNED, messages__not_before__lte=now
        )
        .distinct()
        .values_list("pk", flat=True)  # fmt: skip
    )
    busy = set(
        Message.objects.filter(
            campaign_id__in=wake, status__in=[MessageStatus.CLAIMED, MessageStatus.SENDING], lease_expires_at__gte=now
        )
        .values_list("campaign_id", flat=True)
        .distinct()  # fmt: skip
    )
    return {"started": started, "released": released, "checked": checked, "completed": completed,
            "wake": [c for c in wake if c not in busy]}  # fmt: skip


def _sweep_handovers(*, now, limit: int) -> int:
    stale = list(
        Message.objects.select_related("customer", "campaign", "step__template")
        .filter(status=MessageStatus.SENDING, lease_expires_at__lt=now)
        .order_by("id")[:limit]
    )
    if not stale:
        return 0
    transports: dict = {}
    confirmed: dict[int, list] = {}
    for message in stale:
        if message.channel not in TRANSPORTS:
            found = False  # letters and call tasks are written in the transaction that marks them sent
        else:
            transport = transports.setdefault(message.channel, transport_for(message.channel))
            found = transport.lookup(message=message)
        if found is True:
            confirmed.setdefault(message.campaign_id, []).append((message, message.message_id, {}))
        elif found is False:
            Message.objects.filter(pk=message.pk, status=MessageStatus.SENDING).update(
                status=MessageStatus.PLANNED, claimed_by="", lease_expires_at=None, reserved_at=None, handover_at=None
            )
        else:
            Message.objects.filter(pk=message.pk, status=MessageStatus.SENDING).update(
                status=MessageStatus.FAILED, reason=SkipReason.UNCERTAIN, failed_at=now, lease_expires_at=None,
                error="The handover was interrupted and the transport cannot confirm it; not resent.",
            )  # fmt: skip
    for batch in confirmed.values():
        campaign = batch[0][0].campaign
        cost, _currency = channel_cost(INTERACTION_CHANNEL[campaign.send_step.channel])
        _record_sent(batch, campaign=campaign, cost=cost)
    return len(stale)


def campaign_progress(*, campaign: Campaign) -> dict:
    """Counts per status, the rate over the last minute and an ETA (the campaign page's live part)."""
    counts = dict(Message.objects.filter(campaign=campaign).values_list("status").annotate(n=models_count()).order_by())
    now = timezone.now()
    recent = Message.objects.filter(campaign=campaign, sent_at__gte=now - datetime.timedelta(seconds=60)).count()
    planned = counts.get(MessageStatus.PLANNED, 0) + counts.get(MessageStatus.CLAIMED, 0)
    due = Message.objects.filter(campaign=campaign, status=MessageStatus.PLANNED, not_before__lte=now).count()
    deferred = planned - due - counts.get(MessageStatus.CLAIMED, 0)
    sent = sum(counts.get(s, 0) for s in ("sent", "delivered", "opened", "clicked", "bounced", "complained",
                                          "unsubscribed"))  # fmt: skip
    to_send = sent + planned + counts.get(MessageStatus.SENDING, 0) + counts.get(MessageStatus.FAILED, 0)
    rate = recent / 60
    return {
        "counts": counts, "sent": sent, "planned": planned, "deferred": max(deferred, 0), "due": due,
        "failed": counts.get(MessageStatus.FAILED, 0), "skipped": counts.get(MessageStatus.SKIPPED, 0),
        "rate": round(rate, 1), "eta_seconds": int(due / rate) if rate else None,
        "percent": int(100 * (to_send - planned) / to_send) if to_send else 100,
    }  # fmt: skip


def models_count():
    from django.db.models import Count

    return Count("id")
