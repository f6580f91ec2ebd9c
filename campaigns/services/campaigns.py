"""Campaigns: creating one and its status machine, one audited service per transition.

draft -> scheduled -> running -> (paused <-> running) -> completed, and cancelled from any open status.
Launching plans the send step (``campaigns.services.planning``) in the same transaction, then wakes
the dispatch workers after commit. Every transition writes a ``CampaignEvent`` with the acting user.
"""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from campaigns.models import (
    Campaign,
    CampaignChannel,
    CampaignEvent,
    CampaignStatus,
    CampaignStep,
    Message,
    MessageStatus,
    Segment,
    SenderIdentity,
    SkipReason,
    StepKind,
    Template,
)
from crm.errors import ApplicationError

TRANSITIONS = {
    CampaignStatus.DRAFT: {CampaignStatus.SCHEDULED, CampaignStatus.RUNNING, CampaignStatus.CANCELLED},
    CampaignStatus.SCHEDULED: {CampaignStatus.RUNNING, CampaignStatus.CANCELLED},
    CampaignStatus.RUNNING: {CampaignStatus.PAUSED, CampaignStatus.COMPLETED, CampaignStatus.CANCELLED},
    CampaignStatus.PAUSED: {CampaignStatus.RUNNING, CampaignStatus.CANCELLED},
    CampaignStatus.COMPLETED: set(),
    CampaignStatus.CANCELLED: set(),
}


def _transition(campaign: Campaign, to: str, *, acting_user, detail: dict | None = None) -> Campaign:
    """Move ``campaign`` (locked) to ``to`` if the machine allows it, with its audit row."""
    locked = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if to not in TRANSITIONS[locked.status]:
        raise ApplicationError(
            "invalid_transition",
            _("A %(from)s campaign cannot become %(to)s.")
            % {"from": locked.get_status_display().lower(), "to": CampaignStatus(to).label.lower()},
            field="status",
            status_code=409,
        )
    previous = locked.status
    locked.status = to
    fields = ["status", "updated_at"]
    if to in (CampaignStatus.RUNNING, CampaignStatus.SCHEDULED) and locked.launched_at is None:
        locked.launched_at = timezone.now()
        fields.append("launched_at")
    if to in (CampaignStatus.COMPLETED, CampaignStatus.CANCELLED):
        locked.finished_at = timezone.now()
        fields.append("finished_at")
    locked.save(update_fields=fields)
    CampaignEvent.objects.create(campaign=locked, from_status=previous, to_status=to,
                                 acting_user=acting_user if getattr(acting_user, "is_authenticated", False) else None,
                                 detail=detail or {})  # fmt: skip
    campaign.status, campaign.launched_at, campaign.finished_at = locked.status, locked.launched_at, locked.finished_at
    return campaign


def _wake_dispatch(campaign_id: int, workers: int = 2) -> None:
    from campaigns.tasks.dispatch import send_campaign_batch_task

    def wake():
        for _i in range(workers):
            send_campaign_batch_task.delay(campaign_id)

    transaction.on_commit(wake)


# -- create and edit -------------------------------------------------------------------------------


def _check_fields(*, name: str, channel: str, template: Template, priority: int, purpose: str,
                  scheduled_at: datetime.datetime | None) -> None:  # fmt: skip
    if not (name or "").strip():
        raise ApplicationError("required", _("Give the campaign a name."), field="name")
    if channel not in CampaignChannel.values:
        raise ApplicationError("invalid_choice", _("Choose a channel."), field="channel")
    if template is None or template.channel != channel:
        raise ApplicationError("invalid_template", _("Choose a template of this channel."), field="template")
    if not (1 <= int(priority) <= 5):
        raise ApplicationError("invalid", _("The priority goes from 1 to 5."), field="priority")
    if purpose not in ("marketing", "service"):
        raise ApplicationError("invalid_choice", _("Choose a purpose."), field="purpose")
    if scheduled_at is not None and timezone.is_naive(scheduled_at):
        raise ApplicationError("invalid_date", _("Give the time with its time zone."), field="scheduled_at")


@transaction.atomic
def campaign_create(*, acting_user, name: str, channel: str, template: Template, segments: list[Segment],
                    exclusion_segments: list[Segment] | None = None, objective: str = "", priority: int = 3,
                    purpose: str = "marketing", scheduled_at: datetime.datetime | None = None,
                    sender: SenderIdentity | None = None, attribution_days: int = 7) -> Campaign:  # fmt: skip
    """A draft campaign with its one send step (``channel`` + ``template``) and audience."""
    _check_fields(name=name, channel=channel, template=template, priority=priority, purpose=purpose,
                  scheduled_at=scheduled_at)  # fmt: skip
    campaign = Campaign.objects.create(
        name=name.strip()[:200], objective=objective, owner=acting_user, priority=int(priority), purpose=purpose,
        scheduled_at=scheduled_at, sender=sender or SenderIdentity.objects.filter(is_default=True).first(),
        attribution_days=attribution_days,
    )  # fmt: skip
    campaign.segments.set(segments)
    campaign.exclusion_segments.set(exclusion_segments or [])
    CampaignStep.objects.create(campaign=campaign, position=1, kind=StepKind.SEND, channel=channel, template=template)
    CampaignEvent.objects.create(campaign=campaign, to_status=CampaignStatus.DRAFT, acting_user=acting_user)
    return campaign


EDITABLE = ("name", "objective", "priority", "purpose", "scheduled_at", "sender", "attribution_days")


@transaction.atomic
def campaign_update(*, campaign: Campaign, acting_user, segments=None, exclusion_segments=None, template=None,
                    **changes) -> Campaign:  # fmt: skip
    """Change a draft campaign (a launched one is not edited: pause or cancel it)."""
    campaign = Campaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.status != CampaignStatus.DRAFT:
        raise ApplicationError("not_draft", _("Only a draft campaign can be changed."), status_code=409)
    for name, value in changes.items():
        if name not in EDITABLE:
            raise ApplicationError("invalid_field", _("Unknown field: %(name)s") % {"name": name}, field=name)
        setattr(campaign, name, value)
    step = campaign.send_step
    template = template or step.template
    _check_fields(name=campaign.name, channel=template.channel, template=template, priority=campaign.priority,
                  purpose=campaign.purpose, scheduled_at=campaign.scheduled_at)  # fmt: skip
    campaign.save()
    if segments is not None:
        campaign.segments.set(segments)
    if exclusion_segments is not None:
        campaign.exclusion_segments.set(exclusion_segments)
    if template != step.template:
        CampaignStep.objects.filter(pk=step.pk).update(template=template, channel=template.channel)
    return campaign


# -- the status machine ------------------------------------------------------------------------------


@transaction.atomic
def campaign_launch(*, campaign: Campaign, acting_user) -> dict:
    """Plan the send step and start the campaign: running now, or scheduled when its time is ahead.

    Returns the plan's counts per reason. The dispatch workers are woken after commit.
    """
    from campaigns.services.planning import step_plan

    step = campaign.send_step
    if step is None:
        raise ApplicationError("no_step", _("Choose a channel and a template first."), field="template")
    future = campaign.scheduled_at is not None and campaign.scheduled_at > timezone.now()
    target = CampaignStatus.SCHEDULED if future else CampaignStatus.RUNNING
    _transition(campaign, target, acting_user=acting_user)
    counts = step_plan(step=step)
    CampaignEvent.objects.filter(campaign=campaign, to_status=target).order_by("-id").update(detail={"plan": counts})
    if target == CampaignStatus.RUNNING:
        _wake_dispatch(campaign.pk)
    return counts


@transaction.atomic
def campaign_start(*, campaign: Campaign, acting_user=None) -> Campaign:
    """A scheduled campaign whose time has come starts running (the sweeper calls this)."""
    _transition(campaign, CampaignStatus.RUNNING, acting_user=acting_user)
    _wake_dispatch(campaign.pk)
    return campaign


@transaction.atomic
def campaign_pause(*, campaign: Campaign, acting_user) -> Campaign:
    """Stop new claims: a worker hands over no further message of a paused campaign (checked per message)."""
    _transition(campaign, CampaignStatus.PAUSED, acting_user=acting_user)
    Message.objects.filter(campaign=campaign, status=MessageStatus.CLAIMED).update(
        status=MessageStatus.PLANNED, claimed_by="", lease_expires_at=None, reserved_at=None
    )
    return campaign


@transaction.atomic
def campaign_resume(*, campaign: Campaign, acting_user) -> Campaign:
    _transition(campaign, CampaignStatus.RUNNING, acting_user=acting_user)
    _wake_dispatch(campaign.pk)
    return campaign


@transaction.atomic
def campaign_cancel(*, campaign: Campaign, acting_user) -> Campaign:
    """Cancel: every message not yet handed over is skipped (reason "cancelled")."""
    _transition(campaign, CampaignStatus.CANCELLED, acting_user=acting_user)
    unsent = Message.objects.filter(campaign=campaign, status__in=[MessageStatus.PLANNED, MessageStatus.CLAIMED])
    skipped = unsent.update(
        status=MessageStatus.SKIPPED, reason=SkipReason.CANCELLED, lease_expires_at=None, reserved_at=None
    )
    CampaignEvent.objects.filter(campaign=campaign, to_status=CampaignStatus.CANCELLED).order_by("-id").update(
        detail={"skipped": skipped}
    )
    return campaign


@transaction.atomic
def campaign_complete_if_done(*, campaign_id: int) -> bool:
    """Complete a running campaign with nothing left to send (planned, claimed or being handed over)."""
    campaign = Campaign.objects.select_for_update().filter(pk=campaign_id, status=CampaignStatus.RUNNING).first()
    if campaign is None:
        return False
    open_statuses = [MessageStatus.PLANNED, MessageStatus.CLAIMED, MessageStatus.SENDING]
    if Message.objects.filter(campaign_id=campaign_id, status__in=open_statuses).exists():
        return False
    _transition(campaign, CampaignStatus.COMPLETED, acting_user=None)
    return True
