"""Reads of campaigns and templates: access helpers, the campaign list, the live outcome counts."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import Http404

from campaigns.models import Campaign, Message, MessageStatus, SkipReason, Template
from campaigns.services.dispatch import campaign_progress

DEFERRED_REASONS = (SkipReason.OVER_BUDGET, SkipReason.QUIET_HOURS)


def _allowed(user, permission: str) -> None:
    if not (user.is_authenticated and user.is_active and user.has_perm(permission)):
        raise PermissionDenied


def campaign_get_for_user(*, user, pk: int, permission: str = "campaigns.view_campaign") -> Campaign:
    """The campaign, if ``user`` holds ``permission`` (403 otherwise; 404 when there is none)."""
    _allowed(user, permission)
    campaign = Campaign.objects.select_related("owner", "sender").filter(pk=pk).first()
    if campaign is None:
        raise Http404
    return campaign


def template_get_for_user(*, user, pk: int, permission: str = "campaigns.view_template") -> Template:
    _allowed(user, permission)
    template = Template.objects.filter(pk=pk).first()
    if template is None:
        raise Http404
    return template


def campaign_list(*, status: str | None = None):
    """Campaigns newest first with their owner and send step's template (a fixed number of queries)."""
    queryset = Campaign.objects.select_related("owner").prefetch_related("steps__template", "segments")
    if status:
        queryset = queryset.filter(status=status)
    return queryset.order_by("-created_at", "-id")


def campaign_outcomes(*, campaign: Campaign) -> dict:
    """Everything the campaign page shows live: the dispatch progress (planned, sent, rate, ETA), who was
    left out by reason, who was deferred by reason, and the responses (opened, clicked, unsubscribed,
    bounced, complained). Four queries whatever the size of the campaign."""
    progress = campaign_progress(campaign=campaign)
    messages = Message.objects.filter(campaign=campaign)
    by_reason = messages.filter(
        Q(status=MessageStatus.SKIPPED) | Q(status=MessageStatus.PLANNED, reason__in=DEFERRED_REASONS)
    )
    labels = dict(SkipReason.choices)
    excluded, deferred = [], []
    for status, reason, count in by_reason.values_list("status", "reason").annotate(n=Count("id")).order_by("-n"):
        entry = {"reason": reason, "label": str(labels.get(reason, reason)), "count": count}
        (excluded if status == MessageStatus.SKIPPED else deferred).append(entry)
    responses = messages.aggregate(
        opened=Count("id", filter=Q(opened_at__isnull=False)),
        clicked=Count("id", filter=Q(clicked_at__isnull=False)),
        unsubscribed=Count("id", filter=Q(unsubscribed_at__isnull=False)),
        bounced=Count("id", filter=Q(bounced_at__isnull=False)),
        complained=Count("id", filter=Q(complained_at__isnull=False)),
        delivered=Count("id", filter=Q(delivered_at__isnull=False)),
    )
    return {**progress, **responses, "excluded": excluded, "excluded_total": sum(e["count"] for e in excluded),
            "deferred_reasons": deferred, "total": sum(progress["counts"].values())}  # fmt: skip
