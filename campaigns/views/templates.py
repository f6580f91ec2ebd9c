"""Campaign template screens: the list per channel and language, the editor with a live preview on a
real customer (the sandboxed renderer of ``campaigns.services.templates``) and a test send."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from campaigns.forms import TemplateForm
from campaigns.models import CampaignChannel, Template
from campaigns.selectors.campaigns import template_get_for_user
from campaigns.services import templates as template_services
from crm.access import staff_view
from crm.errors import ApplicationError
from customers.forms import form_add_application_error
from customers.models import Customer
from customers.search import customer_search

FIELDS = ("name", "channel", "language", "subject", "preheader", "html", "text", "body", "is_active")


@staff_view(permission="campaigns.view_template")
def template_list_view(request: HttpRequest) -> HttpResponse:
    """Templates by name, each with its versions per language; filtered by channel (one query)."""
    channel = request.GET.get("channel") or ""
    templates = Template.objects.order_by("name", "channel", "language")
    if channel in CampaignChannel.values:
        templates = templates.filter(channel=channel)
    context = {"templates": templates, "channel": channel, "channels": CampaignChannel.choices}
    return render(request, "campaigns/templates/list.html", context)


def _form_values(template: Template) -> dict:
    return {name: getattr(template, name) for name in FIELDS}


def _save(request: HttpRequest, form: TemplateForm, template: Template | None) -> Template | None:
    data = dict(form.cleaned_data)
    if template is not None:
        data["channel"] = template.channel  # chosen once: the versions of a template share name and channel
    if data["channel"] != CampaignChannel.EMAIL:
        for name in TemplateForm.EMAIL_ONLY:
            data[name] = ""
    try:
        return template_services.template_save(acting_user=request.user, template=template, **data)
    except ApplicationError as error:
        form_add_application_error(form, error)
        return None


def _editor(request: HttpRequest, template: Template | None) -> HttpResponse:
    if template is not None:
        initial = _form_values(template)
    else:
        channel = request.GET.get("channel")
        initial = {"channel": channel if channel in CampaignChannel.values else CampaignChannel.EMAIL,
                   "language": settings.LANGUAGE_CODE[:2], "is_active": True}  # fmt: skip
    form = TemplateForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        saved = _save(request, form, template)
        if saved is not None:
            messages.success(request, _("Template saved."))
            return redirect("campaigns:template_edit", pk=saved.pk)
    channel = template.channel if template is not None else initial["channel"]
    context = {"channel_label": CampaignChannel(channel).label, "form": form, "template": template,
               "channel": channel, "is_email": channel == CampaignChannel.EMAIL,
               "is_sms": channel == CampaignChannel.SMS}  # fmt: skip
    return render(request, "campaigns/templates/editor.html", context)


@staff_view(permission="campaigns.add_template")
def template_create_view(request: HttpRequest) -> HttpResponse:
    return _editor(request, None)


@staff_view(permission="campaigns.change_template")
def template_edit_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _editor(request, template_get_for_user(user=request.user, pk=pk, permission="campaigns.change_template"))


def _preview_customer(query: str) -> Customer | None:
    """The customer the marketer searched for (best match), else the newest live customer."""
    hits = customer_search(query=query, limit=1) if query.strip() else []
    if hits:
        return Customer.objects.filter(pk=hits[0].pk).first()
    return Customer.objects.live().order_by("-pk").first()


@staff_view(permission="campaigns.view_template")
@require_POST
def template_preview_hx(request: HttpRequest) -> HttpResponse:
    """The template as it is being written, rendered for a real customer (nothing is saved or sent)."""
    form = TemplateForm(request.POST)
    context: dict = {"query": request.POST.get("preview_customer", "")}
    customer = _preview_customer(context["query"])
    if not form.is_valid():
        context["error"] = _("Fill in the name, channel and language to preview.")
    elif customer is None:
        context["error"] = _("There is no customer to preview with yet.")
    else:
        template = Template(**{name: form.cleaned_data[name] for name in FIELDS})
        try:
            context["parts"] = template_services.template_preview(template=template, customer=customer)
        except ApplicationError as error:
            context["error"] = error.message
        context["customer"] = customer
        context["is_email"] = template.channel == CampaignChannel.EMAIL
    return render(request, "campaigns/templates/editor.html#preview", context)


@staff_view(permission="campaigns.change_template")
@require_POST
def template_test_send_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Send the saved template, rendered for the preview customer, to the marketer's own address or phone."""
    template = template_get_for_user(user=request.user, pk=pk, permission="campaigns.change_template")
    customer = _preview_customer(request.POST.get("preview_customer", ""))
    try:
        if customer is None:
            raise ApplicationError("no_customer", _("There is no customer to preview with yet."))
        to = template_services.template_test_send(template=template, customer=customer, acting_user=request.user,
                                                  to=request.POST.get("to", "").strip())  # fmt: skip
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Test sent to %(to)s.") % {"to": to})
    return redirect("campaigns:template_edit", pk=template.pk)
