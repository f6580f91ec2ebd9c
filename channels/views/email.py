"""Email screens: compose a reply from the 360 page or a case, read an email thread, download an attachment.

Thin shells around ``channels.services.email_out`` and the models' reads.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from channels.access import attachment_get_for_user, email_thread_get_for_user
from channels.choices import OPEN_CASE_STATUSES, ConversationKind
from channels.models import Case, Conversation, ResponseTemplate
from channels.services import email_out
from channels.services.email_in import email_body_full
from channels.services.html_images import images_block, images_blocked, images_reveal
from crm.access import staff_view
from crm.errors import ApplicationError
from crm.middleware import csp_allow_images
from customers.access import customer_get_for_user
from customers.forms import form_add_application_error
from customers.models import ContactPoint, Customer


class EmailComposeForm(forms.Form):
    to = forms.ModelChoiceField(label=_lazy("To"), queryset=ContactPoint.objects.none(), empty_label=None)
    case = forms.ModelChoiceField(label=_lazy("About the case"), queryset=Case.objects.none(), required=False,
                                  empty_label=_lazy("No case"))  # fmt: skip
    conversation = forms.ModelChoiceField(queryset=Conversation.objects.none(), required=False,
                                          widget=forms.HiddenInput)  # fmt: skip
    template = forms.ModelChoiceField(label=_lazy("Template"), queryset=ResponseTemplate.objects.none(),
                                      required=False, empty_label=_lazy("No template"))  # fmt: skip
    subject = forms.CharField(label=_lazy("Subject"), max_length=200)
    body = forms.CharField(label=_lazy("Message"), max_length=50_000, widget=forms.Textarea(attrs={"rows": 12}))

    def __init__(self, *args, customer: Customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to"].queryset = customer.contact_points.filter(kind="email", is_undeliverable=False).order_by(
            "-is_primary", "id"
        )
        self.fields["case"].queryset = Case.objects.filter(customer=customer).order_by("-created_at")
        self.fields["conversation"].queryset = Conversation.objects.filter(
            customer=customer, kind=ConversationKind.EMAIL
        )
        self.fields["template"].queryset = ResponseTemplate.objects.filter(channel="email", is_active=True)


def _customer(request: HttpRequest, pk: int) -> Customer:
    customer = customer_get_for_user(user=request.user, pk=pk)
    if not customer.is_live:
        raise Http404(_("This customer was merged or anonymised."))
    return customer


def _pick(queryset, value):
    return queryset.filter(pk=value).first() if value and str(value).isdigit() else None


@staff_view(permission="channels.reply_customer")
def email_compose(request: HttpRequest, pk: int) -> HttpResponse:
    """Write and send an email to the customer; ``?case=`` / ``?conversation=`` reply in that thread,
    ``?template=`` fills subject and text from a response template."""
    customer = _customer(request, pk)
    form = EmailComposeForm(request.POST or None, customer=customer)
    if request.method == "GET":
        case = _pick(form.fields["case"].queryset, request.GET.get("case"))
        conversation = _pick(form.fields["conversation"].queryset, request.GET.get("conversation"))
        if request.GET.get("case") and case is None or request.GET.get("conversation") and conversation is None:
            raise Http404(_("No such case or conversation for this customer."))
        thread = email_out.email_thread_for(customer=customer, case=case, conversation=conversation)
        case = case or (thread.conversation.case if thread.conversation and thread.conversation.case_id else None)
        initial = {"case": case, "conversation": thread.conversation, "subject": thread.subject}
        template = _pick(form.fields["template"].queryset, request.GET.get("template"))
        if template is not None:
            initial["template"] = template
            try:
                subject, body = email_out.email_template_render(template=template, customer=customer,
                                                                agent=request.user, case=case)  # fmt: skip
            except ApplicationError as error:
                messages.error(request, error.message)
            else:
                initial["body"] = body
                if subject and not thread.conversation:
                    initial["subject"] = subject
        form = EmailComposeForm(initial=initial, customer=customer)
    elif form.is_valid():
        data = form.cleaned_data
        try:
            interaction = email_out.email_reply_send(
                customer=customer, subject=data["subject"], body=data["body"], acting_user=request.user,
                to=data["to"], case=data.get("case"), conversation=data.get("conversation"),
                template=data.get("template"),
            )  # fmt: skip
        except ApplicationError as error:
            form_add_application_error(form, error)
        else:
            messages.success(request, _("Email sent to %(address)s.") % {"address": data["to"].value})
            return redirect("channels:email_thread", pk=interaction.conversation_id)
    chosen = form["conversation"].value()
    conversation = _pick(form.fields["conversation"].queryset, getattr(chosen, "pk", chosen))
    thread_messages = list(conversation.interactions.order_by("-occurred_at", "-id")[:5]) if conversation else []
    context = {
        "customer": customer,
        "form": form,
        "recipients": list(customer.contact_points.filter(kind="email").order_by("is_undeliverable", "-is_primary")),
        "thread_messages": thread_messages,
        "cancel_url": reverse("channels:email_thread", kwargs={"pk": conversation.pk})
        if conversation
        else customer.get_absolute_url(),
        "open_statuses": OPEN_CASE_STATUSES,
    }
    return render(request, "channels/email/compose.html", context)


@staff_view(permission="channels.view_conversation")
def email_thread(request: HttpRequest, pk: int) -> HttpResponse:
    """One email thread, oldest first: every message with its sender, recipients and attachments."""
    conversation = email_thread_get_for_user(user=request.user, pk=pk)
    interactions = list(
        conversation.interactions.select_related("agent").prefetch_related("attachments").order_by("occurred_at", "id")
    )
    # ?images=<message id>: that one message's remote images load (see channels.services.html_images).
    shown = request.GET.get("images", "")
    own_hosts = {request.get_host().rsplit(":", 1)[0].lower(), *(h.lstrip(".").lower() for h in settings.ALLOWED_HOSTS)}
    entries = []
    for interaction in interactions:
        full_body = email_body_full(interaction) if interaction.metadata.get("full_body") else ""
        body = images_block(interaction.body)  # rows stored before images were blocked
        blocked = images_blocked(body) or images_blocked(full_body)
        showing = blocked and shown == str(interaction.pk)
        if showing:
            body, full_body = images_reveal(body, own_hosts=own_hosts), images_reveal(full_body, own_hosts=own_hosts)
        entries.append({"interaction": interaction, "body": body, "full_body": full_body, "images_blocked": blocked,
                        "images_shown": showing, "attachments": list(interaction.attachments.all())})  # fmt: skip
    reply_url = None
    if conversation.customer_id and request.user.has_perm("channels.reply_customer"):
        reply_url = reverse("channels:email_compose", kwargs={"pk": conversation.customer_id})
        reply_url += f"?conversation={conversation.pk}"
    case_url = None
    if conversation.case_id:
        try:  # the desk's case page, when it is installed
            case_url = reverse("channels:case_detail", kwargs={"pk": conversation.case_id})
        except NoReverseMatch:
            case_url = None
    context = {"conversation": conversation, "entries": entries, "reply_url": reply_url, "case_url": case_url}
    response = render(request, "channels/email/thread.html", context)
    if any(entry["images_shown"] for entry in entries):
        csp_allow_images(response, "https:")
    return response


@staff_view(permission="channels.view_interaction")
def email_attachment(request: HttpRequest, pk: int) -> FileResponse:
    """The file, always as a download (never rendered inline: an HTML attachment must not run here)."""
    attachment = attachment_get_for_user(user=request.user, pk=pk)
    try:
        handle = attachment.file.open("rb")
    except (FileNotFoundError, ValueError):
        raise Http404(_("The file of this attachment is missing from the storage.")) from None
    response = FileResponse(handle, as_attachment=True, filename=attachment.filename,
                            content_type="application/octet-stream")  # fmt: skip
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
