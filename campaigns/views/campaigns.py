"""Campaign screens: the list, create and edit a draft (audience, channel, template, purpose, schedule),
the plan preview before launch, the status actions, and the page with its live progress (polled).
Thin shells around ``campaigns.services.campaigns`` (every action with ``acting_user``)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_POST

from campaigns.forms import CampaignForm
from campaigns.models import Campaign, CampaignStatus
from campaigns.selectors.campaigns import campaign_get_for_user, campaign_list, campaign_outcomes
from campaigns.services import campaigns as campaign_services
from campaigns.services.planning import plan_preview, preview_lines
from crm.access import staff_view
from crm.errors import ApplicationError
from customers.forms import form_add_application_error

LIVE_STATUSES = (CampaignStatus.SCHEDULED, CampaignStatus.RUNNING)


@staff_view(permission="campaigns.view_campaign")
def campaign_list_view(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status") or ""
    campaigns = campaign_list(status=status if status in CampaignStatus.values else None)[:200]
    return render(request, "campaigns/campaigns/list.html",
                  {"campaigns": campaigns, "status": status, "statuses": CampaignStatus.choices})  # fmt: skip


def _service_fields(data: dict) -> dict:
    return {
        "name": data["name"], "objective": data["objective"], "priority": data["priority"],
        "purpose": data["purpose"], "scheduled_at": data["scheduled_at"], "sender": data["sender"],
    }  # fmt: skip


@staff_view(permission="campaigns.add_campaign")
def campaign_create_view(request: HttpRequest) -> HttpResponse:
    """A draft campaign: audience, channel and template, purpose, priority and schedule."""
    initial = {"segments": [request.GET["segment"]]} if request.GET.get("segment", "").isdigit() else {}
    form = CampaignForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            campaign = campaign_services.campaign_create(
                acting_user=request.user, channel=data["channel"], template=data["template"],
                segments=list(data["segments"]), exclusion_segments=list(data["exclusion_segments"]),
                **_service_fields(data),
            )  # fmt: skip
        except ApplicationError as error:
            form_add_application_error(form, error)
        else:
            messages.success(request, _("Draft saved: check the plan, then launch it."))
            return redirect("campaigns:campaign_detail", pk=campaign.pk)
    return render(request, "campaigns/campaigns/form.html", {"form": form, "campaign": None})


@staff_view(permission="campaigns.change_campaign")
def campaign_edit_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Change a draft (a launched campaign is paused or cancelled, not edited)."""
    campaign = campaign_get_for_user(user=request.user, pk=pk, permission="campaigns.change_campaign")
    step = campaign.send_step
    initial = {
        "name": campaign.name, "objective": campaign.objective, "segments": list(campaign.segments.all()),
        "exclusion_segments": list(campaign.exclusion_segments.all()), "channel": step.channel if step else "",
        "template": step.template if step else None, "purpose": campaign.purpose, "priority": campaign.priority,
        "scheduled_at": campaign.scheduled_at, "sender": campaign.sender,
    }  # fmt: skip
    form = CampaignForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if data["template"].channel != data["channel"]:
                raise ApplicationError("invalid_template", _("Choose a template of this channel."), field="template")
            campaign_services.campaign_update(
                campaign=campaign, acting_user=request.user, segments=list(data["segments"]),
                exclusion_segments=list(data["exclusion_segments"]), template=data["template"],
                **_service_fields(data),
            )  # fmt: skip
        except ApplicationError as error:
            form_add_application_error(form, error)
        else:
            messages.success(request, _("Campaign saved."))
            return redirect("campaigns:campaign_detail", pk=campaign.pk)
    return render(request, "campaigns/campaigns/form.html", {"form": form, "campaign": campaign})


def _actions(user, campaign: Campaign) -> list[tuple[str, str, str]]:
    """The status actions this user may take now: (URL name, label, button style)."""
    if not user.has_perm("campaigns.manage_campaign"):
        return []
    allowed = campaign_services.TRANSITIONS[campaign.status]
    actions = []
    if campaign.status == CampaignStatus.DRAFT:
        label = _("Schedule") if campaign.scheduled_at else _("Launch now")
        actions.append(("campaigns:campaign_launch", label, "btn-primary"))
    if CampaignStatus.PAUSED in allowed:
        actions.append(("campaigns:campaign_pause", _("Pause"), "btn-outline-secondary"))
    if campaign.status == CampaignStatus.PAUSED:
        actions.append(("campaigns:campaign_resume", _("Resume"), "btn-primary"))
    if CampaignStatus.CANCELLED in allowed:
        actions.append(("campaigns:campaign_cancel", _("Cancel the campaign"), "btn-outline-danger"))
    return actions


def _outcomes_context(campaign: Campaign) -> dict:
    return {"campaign": campaign, "outcomes": campaign_outcomes(campaign=campaign),
            "live": campaign.status in LIVE_STATUSES}  # fmt: skip


@staff_view(permission="campaigns.view_campaign")
def campaign_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    """A campaign: for a draft, the plan (counts per reason) before launch; then its live progress."""
    campaign = campaign_get_for_user(user=request.user, pk=pk)
    context = {
        **_outcomes_context(campaign),
        "step": campaign.send_step,
        "actions": _actions(request.user, campaign),
        "events": campaign.events.select_related("acting_user").order_by("-occurred_at", "-id")[:20],
        "segments": list(campaign.segments.all()),
        "exclusions": list(campaign.exclusion_segments.all()),
    }
    if campaign.status == CampaignStatus.DRAFT:
        try:
            context["plan"] = preview_lines(plan_preview(campaign=campaign))
        except ApplicationError as error:
            context["plan_error"] = error.message
    return render(request, "campaigns/campaigns/detail.html", context)


@staff_view(permission="campaigns.view_campaign")
def campaign_progress_hx(request: HttpRequest, pk: int) -> HttpResponse:
    """The live part of the campaign page, polled every 2 s while the campaign is scheduled or running."""
    campaign = campaign_get_for_user(user=request.user, pk=pk)
    return render(request, "campaigns/campaigns/detail.html#progress", _outcomes_context(campaign))


def _status_action(service, done: str):
    @staff_view(permission="campaigns.manage_campaign")
    @require_POST
    def view(request: HttpRequest, pk: int) -> HttpResponse:
        campaign = campaign_get_for_user(user=request.user, pk=pk, permission="campaigns.manage_campaign")
        try:
            service(campaign=campaign, acting_user=request.user)
        except ApplicationError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, done)
        return redirect("campaigns:campaign_detail", pk=campaign.pk)

    view.__name__ = f"{service.__name__}_view"
    view.__doc__ = f"POST: ``{service.__name__}`` with the signed-in user as ``acting_user``."
    return view


campaign_launch_view = _status_action(campaign_services.campaign_launch, _lazy("Campaign launched."))
campaign_pause_view = _status_action(campaign_services.campaign_pause, _lazy("Campaign paused: no new message leaves."))
campaign_resume_view = _status_action(campaign_services.campaign_resume, _lazy("Campaign resumed."))
campaign_cancel_view = _status_action(campaign_services.campaign_cancel,
                                      _lazy("Campaign cancelled: the messages not sent yet are skipped."))  # fmt: skip
