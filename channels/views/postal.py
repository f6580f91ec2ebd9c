"""Postal mail screens: write a letter (preview, then create), a letter's page and PDF, returned mail,
and letter batches (queued from a saved filter or pasted account numbers and written by a Celery task
whose progress the batch page polls; PDF, mail-house CSV).

Thin shells around ``channels.services.postal``.
"""

from __future__ import annotations

import csv
import tempfile

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_POST

from channels.access import letter_get_for_user
from channels.choices import LetterStatus
from channels.documents.letters import letter_page_count, letter_pdf, letter_reference, letters_pdf_write
from channels.models import Letter, LetterBatch, ResponseTemplate
from channels.services import postal as postal_services
from crm.access import staff_view
from crm.errors import ApplicationError
from customers.access import customer_get_for_user
from customers.choices import Purpose
from customers.forms import form_add_application_error
from customers.models import Customer, SavedFilter
from customers.selectors_list import saved_filters_for_user


def _letter_templates():
    return ResponseTemplate.objects.filter(channel="letter", is_active=True)


class LetterForm(forms.Form):
    template = forms.ModelChoiceField(label=_lazy("Template"), queryset=ResponseTemplate.objects.none(),
                                      required=False, empty_label=_lazy("No template"))  # fmt: skip
    subject = forms.CharField(label=_lazy("Subject"), max_length=200, required=False)
    body = forms.CharField(label=_lazy("Text"), max_length=20000, widget=forms.Textarea(attrs={"rows": 14}),
                           help_text=_lazy("Plain text; an empty line starts a new paragraph. The address, date, "
                                           "references and signature are added."))  # fmt: skip

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["template"].queryset = _letter_templates()


def _live_customer(request: HttpRequest, pk: int) -> Customer:
    customer = customer_get_for_user(user=request.user, pk=pk)
    if not customer.is_live:
        raise Http404(_("This customer was merged or anonymised."))
    return customer


@staff_view(permission="channels.add_letter")
def letter_compose(request: HttpRequest, pk: int) -> HttpResponse:
    """Write a letter to the customer: choose a template, edit, preview, then create it (and its PDF)."""
    customer = _live_customer(request, pk)
    form = LetterForm(request.POST or None)
    if request.method == "GET":
        initial = {}
        template = _letter_templates().filter(pk=request.GET.get("template") or 0).first()
        if template is not None:
            try:
                subject, body = postal_services.letter_text_render(template=template, customer=customer,
                                                                   agent=request.user)  # fmt: skip
            except ApplicationError as error:
                messages.error(request, error.message)
            else:
                initial = {"template": template, "subject": subject, "body": body}
        form = LetterForm(initial=initial)
    try:
        address = postal_services.letter_address(customer=customer)
        address_error = None
    except ApplicationError as error:
        address, address_error = None, error.message
    preview = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if request.POST.get("action") == "create":
            try:
                letter = postal_services.letter_create(
                    customer=customer, subject=data["subject"], body=data["body"], acting_user=request.user,
                    template=data.get("template"),
                )  # fmt: skip
            except ApplicationError as error:
                form_add_application_error(form, error, aliases={"address": "", "customer": ""})
            else:
                messages.success(request, _("Letter %(reference)s created: print it or send the PDF to the mail "
                                            "house.") % {"reference": letter_reference(letter)})  # fmt: skip
                return redirect("channels:letter_detail", pk=letter.pk)
        else:
            preview = {"subject": data["subject"], "body": data["body"]}
    context = {
        "customer": customer, "form": form, "address": address, "address_error": address_error, "preview": preview,
    }  # fmt: skip
    return render(request, "channels/postal/compose.html", context)


def _letter_for(request: HttpRequest, pk: int, action: str = "view") -> Letter:
    # The letter is part of the customer's record: whoever may not see the customer may not see it.
    return letter_get_for_user(user=request.user, pk=pk, action=action)


@staff_view(permission="channels.view_letter")
def letter_detail(request: HttpRequest, pk: int) -> HttpResponse:
    letter = _letter_for(request, pk)
    context = {
        "letter": letter,
        "reference": letter_reference(letter),
        "pages": letter_page_count(letter),
        "can_return": request.user.has_perm("channels.change_letter") and letter.status != LetterStatus.RETURNED,
    }
    return render(request, "channels/postal/letter.html", context)


@staff_view(permission="channels.view_letter")
def letter_pdf_download(request: HttpRequest, pk: int) -> HttpResponse:
    letter = _letter_for(request, pk)
    response = HttpResponse(letter_pdf(letter), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="letter-{letter_reference(letter)}.pdf"'
    return response


@staff_view(permission="channels.change_letter")
@require_POST
def letter_returned(request: HttpRequest, pk: int) -> HttpResponse:
    """The letter came back: mark it returned and its address undeliverable (Supervisor, Admin)."""
    letter = _letter_for(request, pk, "change")
    letter, changed = postal_services.letter_mark_returned(
        letter=letter, acting_user=request.user, reason=request.POST.get("reason", "")
    )
    if changed:
        messages.success(request, _("Letter marked returned; the address is now marked undeliverable."))
    else:
        messages.info(request, _("This letter was already marked returned."))
    return redirect("channels:letter_detail", pk=letter.pk)


# -- batches -----------------------------------------------------------------------------------


# Where a batch's customers can come from: (value, label). Campaigns' segments will add
# ("segment", _lazy("Customers of a segment")) here, with a select filled like ``saved_filter``.
BATCH_SOURCES = [("filter", _lazy("Customers of a saved filter")), ("accounts", _lazy("Account numbers"))]


class BatchForm(forms.Form):
    name = forms.CharField(label=_lazy("Batch name"), max_length=200, required=False)
    template = forms.ModelChoiceField(label=_lazy("Letter template"), queryset=ResponseTemplate.objects.none(),
                                      empty_label=None)  # fmt: skip
    purpose = forms.ChoiceField(
        label=_lazy("Purpose"), choices=[(Purpose.SERVICE, _lazy("Service (information, contract, invoice)")),
                                         (Purpose.MARKETING, _lazy("Marketing (offers)"))],
        help_text=_lazy("A marketing batch leaves out customers who objected to marketing by post."),
    )  # fmt: skip
    source = forms.ChoiceField(label=_lazy("Who"), choices=BATCH_SOURCES, widget=forms.RadioSelect, initial="filter")
    saved_filter = forms.ModelChoiceField(
        label=_lazy("Saved filter"), queryset=SavedFilter.objects.none(), required=False,
        empty_label=_lazy("Choose a saved filter"),
        help_text=_lazy("Your filters and those shared with the team. Filter the customer list, then save the "
                        "filter there to find it here."),
    )  # fmt: skip
    account_numbers = forms.CharField(label=_lazy("Account numbers"), required=False,
                                      widget=forms.Textarea(attrs={"rows": 5}),
                                      help_text=_lazy("Paste them one per line, or separated by commas."))  # fmt: skip

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["template"].queryset = _letter_templates()
        self.fields["saved_filter"].queryset = saved_filters_for_user(user=user)

    def clean(self):
        data = super().clean()
        if data.get("source") == "filter":
            if data.get("saved_filter"):
                data["query"] = data["saved_filter"].query
            else:
                self.add_error("saved_filter", _("Choose a saved filter."))
        elif data.get("source") == "accounts" and not (data.get("account_numbers") or "").strip():
            self.add_error("account_numbers", _("Paste at least one account number."))
        return data


@staff_view(permission="channels.view_letterbatch")
def batch_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(LetterBatch.objects.select_related("template", "created_by"), 50).get_page(request.GET.get("page"))
    return render(request, "channels/postal/batch_list.html", {"page": page})


@staff_view(permission="channels.add_letterbatch")
def batch_create(request: HttpRequest) -> HttpResponse:
    """A batch of letters for the customers of a saved filter or pasted account numbers
    (``?saved_filter=<id>`` preselects a filter)."""
    initial = {"saved_filter": request.GET.get("saved_filter") or None}
    form = BatchForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            batch = postal_services.letter_batch_queue(
                name=data["name"], template=data["template"], acting_user=request.user, purpose=data["purpose"],
                **({"account_numbers": data["account_numbers"]} if data["source"] == "accounts"
                   else {"query": data["query"]}),
            )  # fmt: skip
        except ApplicationError as error:
            form_add_application_error(form, error, aliases={"query": "saved_filter"})
        else:
            messages.success(request, _("The batch is queued: its letters are being written."))
            return redirect("channels:letter_batch_detail", pk=batch.pk)
    return render(request, "channels/postal/batch_form.html", {"form": form})


def _batch_context(batch: LetterBatch) -> dict:
    return {"batch": batch, "running": batch.is_running}


@staff_view(permission="channels.view_letterbatch")
def batch_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The batch: its progress while the task writes it (polled), then its counts, who was left out
    and its letters."""
    batch = get_object_or_404(LetterBatch.objects.select_related("template", "created_by"), pk=pk)
    context = _batch_context(batch)
    if not batch.is_running:
        context["letters"] = Paginator(postal_services.batch_letters(batch), 100).get_page(request.GET.get("page"))
        context["returned"] = batch.letters.filter(status=LetterStatus.RETURNED).count()
    return render(request, "channels/postal/batch_detail.html", context)


@staff_view(permission="channels.view_letterbatch")
def batch_progress_hx(request: HttpRequest, pk: int) -> HttpResponse:
    """The progress partial, polled every second while the batch is written; when it ends, htmx
    reloads the page (which then lists the letters)."""
    batch = get_object_or_404(LetterBatch, pk=pk)
    if not batch.is_running and request.GET.get("watching"):
        response = HttpResponse("")
        response["HX-Refresh"] = "true"
        return response
    return render(request, "channels/postal/batch_detail.html#progress", {**_batch_context(batch), "polled": True})


@staff_view(permission="channels.view_letterbatch")
def batch_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """Every letter of the batch in one PDF, each starting on a new page."""
    batch = _finished_batch(pk)
    output = tempfile.TemporaryFile()  # noqa: SIM115 -- FileResponse closes it once streamed
    letters_pdf_write(postal_services.batch_letters(batch).iterator(chunk_size=200), output, title=batch.name)
    output.seek(0)
    return FileResponse(output, as_attachment=True, filename=f"letters-batch-{batch.pk}.pdf",
                        content_type="application/pdf")  # fmt: skip


def _finished_batch(pk: int) -> LetterBatch:
    # A batch still being written has no complete PDF or CSV yet.
    batch = get_object_or_404(LetterBatch, pk=pk)
    if batch.is_running:
        raise Http404(_("This batch is still being written."))
    return batch


class _Echo:
    def write(self, value: str) -> str:
        return value


@staff_view(permission="channels.view_letterbatch")
def batch_csv(request: HttpRequest, pk: int) -> HttpResponse:
    """The mail house's CSV: reference, the six AFNOR lines, postcode, city, country, pages."""
    batch = _finished_batch(pk)
    writer = csv.writer(_Echo())
    rows = (writer.writerow(row) for row in postal_services.letter_batch_csv_rows(batch))
    response = StreamingHttpResponse(rows, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="letters-batch-{batch.pk}.csv"'
    return response
