"""Steps that end with people rather than a provider: postal letters and agents' call tasks.

Postal: the step's due messages become ONE ``LetterBatch`` per pass through the channels'
``letter_batch_create`` (which writes each letter and its timeline interaction); customers it leaves
out are skipped with its reason. Call: one ``FollowUp`` per message in the agent's "my work", with the
script, assigned round-robin among the available members of round-robin queues (the desk's rule).
"""

from __future__ import annotations

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from campaigns.models import Campaign, CampaignChannel, CampaignStep, Message, MessageStatus, SkipReason
from campaigns.services.dispatch import batch_claim, messages_mark_sending, worker_name
from campaigns.services.templates import message_context, render_parts, sandbox_compile, template_for_language
from channels.choices import AssignmentRule, Direction, InteractionChannel, InteractionKind
from channels.models import FollowUp, QueueMember, ResponseTemplate
from channels.services.interactions import interaction_build, interactions_record_many
from channels.services.postal import BatchSelection, letter_batch_create
from crm.errors import ApplicationError

OFFLINE_BATCH = 5_000


def offline_step_dispatch(*, campaign: Campaign, step: CampaignStep) -> dict:
    """Turn the step's due messages into letters or call tasks; returns ``{"sent": n, "more": bool}``.

    Exactly once by transaction: the send-time re-check, the letters (or tasks) and the ``sent`` status
    are one transaction, so a crash leaves the messages claimed, and the sweeper releases them.
    """
    worker = worker_name()
    ids = batch_claim(campaign=campaign, worker=worker, size=OFFLINE_BATCH)
    if not ids:
        return {"sent": 0, "more": False}
    with transaction.atomic():
        with connection.cursor() as cursor:
            ids = messages_mark_sending(cursor, ids=ids, worker=worker)
        if not ids:
            sent = 0
        elif step.channel == CampaignChannel.POSTAL_MAIL:
            sent = _letters(campaign=campaign, step=step, ids=ids)
        else:
            sent = _call_tasks(campaign=campaign, step=step, ids=ids)
    more = Message.objects.filter(campaign=campaign, status=MessageStatus.PLANNED,
                                  not_before__lte=timezone.now()).exists()  # fmt: skip
    return {"sent": sent, "more": more}


def _letter_template(step: CampaignStep, language: str) -> ResponseTemplate:
    """The campaign template as the postal flow's letter template. The postal flow renders it with the
    desk's renderer and context (name, title, account number, agent): checked in the sandbox first, so
    nothing beyond the allow-list runs there either."""
    template = template_for_language(step.template, language)
    sandbox_compile(template.subject, field="subject")
    sandbox_compile(template.body, field="body")
    response_template, _created = ResponseTemplate.objects.update_or_create(
        channel="letter", name=f"Campaign {step.campaign_id}: {template.name}"[:100], language=template.language,
        defaults={"subject": template.subject[:200], "body": template.body, "is_active": True},
    )  # fmt: skip
    return response_template


@transaction.atomic
def _letters(*, campaign: Campaign, step: CampaignStep, ids: list[int]) -> int:
    messages = list(Message.objects.select_related("customer").filter(pk__in=ids, status=MessageStatus.SENDING))
    by_language: dict[str, list[Message]] = {}
    for message in messages:
        by_language.setdefault(message.language, []).append(message)
    sent = 0
    now = timezone.now()
    for language, group in by_language.items():
        try:
            letter_template = _letter_template(step, language)
        except ApplicationError as error:
            Message.objects.filter(pk__in=[m.pk for m in group]).update(
                status=MessageStatus.FAILED, reason=SkipReason.RENDER_ERROR, error=error.message[:500],
                reserved_at=None, lease_expires_at=None, failed_at=timezone.now(),
            )  # fmt: skip
            continue
        try:
            batch = letter_batch_create(
                name=f"{campaign.name} ({language})", template=letter_template,
                selection=BatchSelection(customers=[m.customer for m in group]), acting_user=campaign.owner,
                purpose=campaign.purpose,
            )  # fmt: skip
        except ApplicationError as error:
            Message.objects.filter(pk__in=[m.pk for m in group]).update(
                status=MessageStatus.SKIPPED, reason=SkipReason.UNDELIVERABLE, error=error.message[:500],
                reserved_at=None, lease_expires_at=None,
            )  # fmt: skip
            continue
        left_out = {entry["customer_id"]: entry["reason"] for entry in batch.skipped if entry.get("customer_id")}
        Message.objects.filter(pk__in=[m.pk for m in group if m.customer_id in left_out]).update(
            status=MessageStatus.SKIPPED, reason=SkipReason.UNDELIVERABLE, reserved_at=None, lease_expires_at=None
        )
        done = [m.pk for m in group if m.customer_id not in left_out]
        sent += Message.objects.filter(pk__in=done).update(status=MessageStatus.SENT, sent_at=now,
                                                           provider_id=f"letter-batch-{batch.pk}",
                                                           lease_expires_at=None)  # fmt: skip
        CampaignStep.objects.filter(pk=step.pk).update(letter_batch_id=batch.pk)
    return sent


def _next_agent():
    """The available member of a round-robin queue assigned longest ago (locked, as the desk does)."""
    member = (
        QueueMember.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(queue__assignment_rule=AssignmentRule.ROUND_ROBIN, is_available=True, user__is_active=True)
        .order_by(F("last_assigned_at").asc(nulls_first=True), "id")
        .first()
    )
    if member is None:
        return None
    QueueMember.objects.filter(pk=member.pk).update(last_assigned_at=timezone.now())
    return member.user


@transaction.atomic
def _call_tasks(*, campaign: Campaign, step: CampaignStep, ids: list[int]) -> int:
    messages = list(Message.objects.select_related("customer").filter(pk__in=ids, status=MessageStatus.SENDING))
    now = timezone.now()
    interactions = []
    done = []
    for message in messages:
        template = template_for_language(step.template, message.language)
        try:
            script = render_parts(template, context=message_context(customer=message.customer, message=message))
        except ApplicationError as error:
            Message.objects.filter(pk=message.pk).update(
                status=MessageStatus.FAILED, reason=SkipReason.RENDER_ERROR, error=error.message[:500],
                reserved_at=None, lease_expires_at=None, failed_at=now,
            )  # fmt: skip
            continue
        script = script["body"]
        done.append(message)
        assignee = _next_agent()
        follow_up = FollowUp.objects.create(
            customer=message.customer, title=f"{campaign.name}: {script}"[:255],
            due_at=message.not_before or now, assignee=assignee, created_by=campaign.owner,
        )  # fmt: skip
        message.provider_id = f"follow-up-{follow_up.pk}"
        interactions.append(interaction_build(
            channel=InteractionChannel.PHONE, direction=Direction.OUTBOUND, kind=InteractionKind.NOTE,
            customer=message.customer, subject=_("Call task for “%(campaign)s”") % {"campaign": campaign.name},
            summary=script[:500], cost=0, external_id=message.message_id,
            metadata={"campaign_id": campaign.pk, "message_id": message.pk, "follow_up_id": follow_up.pk},
        ))  # fmt: skip
    interactions_record_many(interactions)
    for message, interaction in zip(done, interactions, strict=True):
        Message.objects.filter(pk=message.pk).update(status=MessageStatus.SENT, sent_at=now, lease_expires_at=None,
                                                     provider_id=message.provider_id,
                                                     interaction_id=interaction.pk)  # fmt: skip
        FollowUp.objects.filter(pk=int(message.provider_id.removeprefix("follow-up-"))).update(interaction=interaction)
    return len(done)
