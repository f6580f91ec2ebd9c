"""Personal data pages of one customer: export (JSON / CSV zip), erase; and the invoice PDF."""

from __future__ import annotations

import json

from django import forms
from django.contrib import messages
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.access import staff_view
from crm.errors import ApplicationError
from customers.access import customer_get_for_user
from customers.documents import invoice_pdf
from customers.models import Invoice
from customers.services.gdpr import customer_erase, customer_export_data, customer_export_zip


@staff_view(permission="customers.export_customer")
def gdpr_export(request: HttpRequest, pk: int) -> HttpResponse:
    """The export page (two download buttons); ``?format=json`` or ``?format=zip`` downloads (and is recorded)."""
    customer = customer_get_for_user(user=request.user, pk=pk, action="export")
    export_format = request.GET.get("format")
    stamp = f"{customer.account_number}"
    if export_format == "json":
        data = customer_export_data(customer=customer, acting_user=request.user)
        response = HttpResponse(json.dumps(data, cls=DjangoJSONEncoder, indent=2, ensure_ascii=False),
                                content_type="application/json; charset=utf-8")  # fmt: skip
        response["Content-Disposition"] = f'attachment; filename="{stamp}-personal-data.json"'
        return response
    if export_format == "zip":
        response = HttpResponse(customer_export_zip(customer=customer, acting_user=request.user),
                                content_type="application/zip")  # fmt: skip
        response["Content-Disposition"] = f'attachment; filename="{stamp}-personal-data.zip"'
        return response
    return render(request, "customers/gdpr/export.html", {"customer": customer})


class EraseForm(forms.Form):
    account_number = forms.CharField(
        label=gettext_lazy("Type the account number to confirm"), max_length=16,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )  # fmt: skip

    def __init__(self, *args, customer, **kwargs):
        super().__init__(*args, **kwargs)
        self.customer = customer

    def clean_account_number(self):
        value = self.cleaned_data["account_number"].strip().upper()
        if value != self.customer.account_number:
            raise forms.ValidationError(_("This is not the account number of this customer."))
        return value


@staff_view(permission="customers.erase_customer")
def gdpr_erase(request: HttpRequest, pk: int) -> HttpResponse:
    """Confirm (by typing the account number) and irreversibly anonymise the customer."""
    customer = customer_get_for_user(user=request.user, pk=pk, action="erase")
    form = EraseForm(request.POST or None, customer=customer)
    if request.method == "POST" and form.is_valid():
        try:
            customer_erase(customer=customer, acting_user=request.user)
        except ApplicationError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("The customer's personal data was erased."))
            return redirect("customers:gdpr_erase", pk=customer.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "customers/gdpr/erase.html", {"customer": customer, "form": form}, status=status)


@staff_view(permission="customers.view_invoice")
def invoice_pdf_view(request: HttpRequest, pk: int, invoice_pk: int) -> HttpResponse:
    """The invoice as a PDF rendered now; an invoice of another customer is a 404."""
    customer = customer_get_for_user(user=request.user, pk=pk)
    invoice = get_object_or_404(Invoice.objects.select_related("customer", "order", "contract"), pk=invoice_pk,
                                customer=customer)  # fmt: skip
    response = HttpResponse(invoice_pdf(invoice=invoice), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{invoice.number}.pdf"'
    return response
