"""SMS from the 360 page (compose with templates and a live part count) and the demo provider's outbox.

Thin shells around ``channels.services.sms``.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from channels.choices import OPEN_CASE_STATUSES
from channels.models import Case, ResponseTemplate
from channels.services import sms as sms_services
from channels.sms.console import console_outbox
from channels.sms.encoding import sms_segments
from crm.access import staff_view
from crm.errors import ApplicationError
from customers.access import customer_get_for_user
from customers.forms import form_add_application_error
from customers.models import ContactPoint, Customer


class SmsComposeForm(forms.Form):
    to = forms.ModelChoiceField(label=_lazy("To"), queryset=ContactPoint.objects.none(), empty_label=None)
    case = forms.ModelChoiceField(label=_lazy("About the case"), queryset=Case.objects.none(), required=False,
                                  empty_label=_lazy("No case"))  # fmt: skip
    template = forms.ModelChoiceField(label=_lazy("Template"), queryset=ResponseTemplate.objects.none(),
                                      required=False, empty_label=_lazy("No template"))  # fmt: skip
    body = forms.CharField(label=_lazy("Message"), max_length=2000, widget=forms.Textarea(attrs={"rows": 5}))

    def __init__(self, *args, customer: Customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to"].queryset = customer.contact_points.filter(kind="mobile", is_undeliverable=False).order_by(
            "-is_primary", "id"
        )
        self.fields["to"].label_from_instance = lambda cp: f"{cp.display_value}{f' ({cp.label})' if cp.label else ''}"
        self.fields["case"].queryset = Case.objects.filter(customer=customer, status__in=OPEN_CASE_STATUSES).order_by(
            "-created_at"
        )
        self.fields["template"].queryset = ResponseTemplate.objects.filter(channel="sms", is_active=True)


def _customer(request: HttpRequest, pk: int) -> Customer:
    customer = customer_get_for_user(user=request.user, pk=pk)
    if not customer.is_live:
        raise Http404(_("This customer was merged or anonymised."))
    return customer


@staff_view(permission="channels.reply_customer")
def sms_compose(request: HttpRequest, pk: int) -> HttpResponse:
    """Write and send an SMS to the customer (``?case=`` preselects a case, ``?template=`` fills the text)."""
    customer = _customer(request, pk)
    form = SmsComposeForm(request.POST or None, customer=customer)
    if request.method == "GET":
        initial = {}
        case_id = request.GET.get("case")
        if case_id and case_id.isdigit():
            initial["case"] = form.fields["case"].queryset.filter(pk=case_id).first()
        template_id = request.GET.get("template")
        template = form.fields["template"].queryset.filter(pk=template_id).first() if template_id else None
        if template is not None:
            initial["template"] = template
            try:
                initial["body"] = sms_services.sms_template_render(
                    template=template, customer=customer, agent=request.user, case=initial.get("case")
                )
            except ApplicationError as error:
                messages.error(request, error.message)
        elif request.GET.get("body"):
            initial["body"] = request.GET["body"][:2000]
        form = SmsComposeForm(initial=initial, customer=customer)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            interaction = sms_services.sms_send(
                customer=customer, body=data["body"], acting_user=request.user, case=data.get("case"),
                template=data.get("template"), contact_point=data["to"],
            )  # fmt: skip
        except ApplicationError as error:
            form_add_application_error(form, error, aliases={"customer": "", "to": "to"})
        else:
            messages.success(
                request,
                _("SMS sent to %(number)s (%(segments)s part(s)).")
                % {"number": data["to"].display_value, "segments": interaction.metadata.get("segments", 1)},
            )
            return redirect(customer)
    body = form["body"].value() or ""
    context = {
        "customer": customer,
        "form": form,
        "count": sms_segments(body.strip()),
        "max_segments": sms_services.MAX_SEGMENTS,
        "mobiles": sms_services.sms_mobiles(customer=customer),
        "consent": sms_services.sms_consent_state(customer=customer),
        "provider": settings.SMS_PROVIDER,
    }
    return render(request, "channels/sms/compose.html", context)


@staff_view(permission="channels.reply_customer")
def sms_outbox(request: HttpRequest) -> HttpResponse:
    """What the console (demo) provider "sent": the last messages, newest first."""
    sent = console_outbox() if settings.SMS_PROVIDER == "console" else []
    for entry in sent:
        entry["at"] = parse_datetime(entry.get("at") or "")
    return render(request, "channels/sms/outbox.html", {"messages_sent": sent, "provider": settings.SMS_PROVIDER})
