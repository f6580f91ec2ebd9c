"""The 360 page of one customer and the forms that change the record (thin shells around the services)."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm.access import staff_view
from crm.errors import ApplicationError
from customers import panels
from customers.access import customer_get_for_user, customer_survivor
from customers.choices import ConsentSource
from customers.forms import (
    AddressForm,
    ConsentForm,
    ContactPointForm,
    CustomerCreateForm,
    CustomerEditForm,
    StageForm,
    form_add_application_error,
)
from customers.models import Customer, PostalAddress
from customers.selectors_list import customer_360, orders_with_line_counts
from customers.services import records


def optional_url(name: str, **kwargs) -> str | None:
    """The URL of a page another part of Relais provides, or None while it does not exist yet."""
    try:
        return reverse(name, kwargs=kwargs or None)
    except NoReverseMatch:
        return None


def _client_ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def _live_customer(request: HttpRequest, pk: int, action: str) -> Customer:
    customer = customer_get_for_user(user=request.user, pk=pk, action=action)
    if not customer.is_live:
        raise Http404(_("This customer was merged or anonymised and cannot be changed."))
    return customer


@staff_view(permission="customers.view_customer")
def customer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The agent's main screen for one customer; a merged one redirects to the customer it became."""
    customer = customer_get_for_user(user=request.user, pk=pk)
    if customer.merged_into_id is not None:
        survivor = customer_survivor(customer)
        messages.info(
            request,
            _("%(old)s was merged into %(new)s; you are now on the surviving record.")
            % {"old": customer.account_number, "new": survivor.account_number},
        )
        return redirect(survivor)
    if customer.anonymised_at is not None:
        return render(request, "customers/tombstone.html", {"customer": customer}, status=200)
    user = request.user
    data = customer_360(customer=customer)
    context = {
        "customer": customer,
        "data": data,
        "can_change": user.has_perm("customers.change_customer"),
        "can_consent": user.has_perm("customers.record_consent"),
        "invoice_links": {
            invoice.pk: url
            for invoice in data.invoices
            if (url := optional_url("customers:invoice_pdf", pk=customer.pk, invoice_pk=invoice.pk))
        },
        "merge_url": optional_url("customers:merge", pk=customer.pk)
        if user.has_perm("customers.merge_customer")
        else None,
        "gdpr_export_url": optional_url("customers:gdpr_export", pk=customer.pk)
        if user.has_perm("customers.export_customer")
        else None,
        "gdpr_erase_url": optional_url("customers:gdpr_erase", pk=customer.pk)
        if user.has_perm("customers.erase_customer")
        else None,
        "centre_panels": panels.panels_for(customer=customer, user=user, column="centre"),
        "side_panels": panels.panels_for(customer=customer, user=user, column="side"),
    }
    return render(request, "customers/detail.html", context)


@staff_view(permission="customers.view_order")
def customer_orders(request: HttpRequest, pk: int) -> HttpResponse:
    """Every order of the customer, 50 per page, newest first."""
    customer = customer_get_for_user(user=request.user, pk=pk)
    page = Paginator(orders_with_line_counts(customer=customer), 50).get_page(request.GET.get("page"))
    return render(request, "customers/orders.html", {"customer": customer, "page": page})


@staff_view(permission="customers.add_customer")
def customer_create(request: HttpRequest) -> HttpResponse:
    form = CustomerCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        values = form.identity_values()
        data = records.CustomerInput(
            **values,
            stage=form.cleaned_data["stage"],
            emails=[form.cleaned_data["email"]] if form.cleaned_data.get("email") else [],
            phones=[form.cleaned_data["phone"]] if form.cleaned_data.get("phone") else [],
            addresses=[form.address_input()] if form.has_address() else [],
        )
        try:
            customer = records.customer_create(data=data, acting_user=request.user)
        except ApplicationError as error:
            form_add_application_error(form, error)
        else:
            messages.success(request, _("Customer %(account)s created.") % {"account": customer.account_number})
            return redirect(customer)
    return render(request, "customers/form.html", {"form": form, "title": _("New customer"), "customer": None})


@staff_view(permission="customers.change_customer")
def customer_edit(request: HttpRequest, pk: int) -> HttpResponse:
    customer = _live_customer(request, pk, "change")
    initial = {
        "kind": customer.kind, "title": customer.title, "given_name": customer.given_name,
        "family_name": customer.family_name, "company_name": customer.company_name,
        "birth_date": customer.birth_date, "language": customer.language, "owner": customer.owner_id,
        "preferred_channel": customer.preferred_channel, "tags": ", ".join(customer.tags), "notes": customer.notes,
    }  # fmt: skip
    form = CustomerEditForm(request.POST or None, initial=initial, attributes=customer.attributes)
    if request.method == "POST" and form.is_valid():
        try:
            records.customer_update(customer=customer, acting_user=request.user, **form.identity_values())
        except ApplicationError as error:
            form_add_application_error(form, error)
        else:
            messages.success(request, _("Changes saved."))
            return redirect(customer)
    return render(request, "customers/form.html", {"form": form, "title": _("Edit customer"), "customer": customer})


@staff_view(permission="customers.change_customer")
def customer_stage(request: HttpRequest, pk: int) -> HttpResponse:
    customer = _live_customer(request, pk, "change")
    form = StageForm(request.POST or None, initial={"stage": customer.stage})
    if request.method == "POST" and form.is_valid():
        try:
            records.customer_change_stage(customer=customer, stage=form.cleaned_data["stage"], acting_user=request.user)
        except ApplicationError as error:
            form_add_application_error(form, error)
        else:
            messages.success(request, _("Stage changed to %(stage)s.") % {"stage": customer.get_stage_display()})
            return redirect(customer)
    return render(request, "customers/form.html", {"form": form, "title": _("Change stage"), "customer": customer})


@staff_view(permission="customers.add_contactpoint")
def contact_point_add(request: HttpRequest, pk: int) -> HttpResponse:
    customer = _live_customer(request, pk, "change")
    form = ContactPointForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            records.contact_point_add(
                customer=customer, kind=form.cleaned_data["kind"], value=form.cleaned_data["value"],
                label=form.cleaned_data.get("label") or "", is_primary=form.cleaned_data.get("is_primary") or None,
                acting_user=request.user,
            )  # fmt: skip
        except ApplicationError as error:
            form_add_application_error(form, error)
        else:
            messages.success(request, _("Contact point added."))
            return redirect(customer)
    context = {"form": form, "title": _("Add a contact point"), "customer": customer}
    return render(request, "customers/form.html", context)


@staff_view(permission="customers.delete_contactpoint")
@require_POST
def contact_point_remove(request: HttpRequest, pk: int, contact_pk: int) -> HttpResponse:
    customer = _live_customer(request, pk, "change")
    contact_point = get_object_or_404(customer.contact_points, pk=contact_pk)
    records.contact_point_remove(contact_point=contact_point, acting_user=request.user)
    messages.success(request, _("%(value)s removed.") % {"value": contact_point.display_value})
    return redirect(customer)


@staff_view(permission="customers.add_postaladdress")
def address_add(request: HttpRequest, pk: int) -> HttpResponse:
    customer = _live_customer(request, pk, "change")
    return _address_form(request, customer, None)


@staff_view(permission="customers.change_postaladdress")
def address_edit(request: HttpRequest, pk: int, address_pk: int) -> HttpResponse:
    customer = _live_customer(request, pk, "change")
    address = get_object_or_404(PostalAddress, customer=customer, pk=address_pk)
    return _address_form(request, customer, address)


def _address_form(request: HttpRequest, customer: Customer, address: PostalAddress | None) -> HttpResponse:
    initial = {"country": "FR", "is_primary": True}
    if address is not None:
        names = ("line1", "line2", "line3", "line4", "line5", "postcode", "city", "country", "valid_from", "is_primary")
        initial = {name: getattr(address, name) for name in names}
    form = AddressForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            if address is None:
                records.address_add(customer=customer, data=form.address_input(), acting_user=request.user)
            else:
                records.address_update(address=address, data=form.address_input(), acting_user=request.user)
        except ApplicationError as error:
            form_add_application_error(form, error)
        else:
            messages.success(request, _("Address saved."))
            return redirect(customer)
    title = _("Add an address") if address is None else _("Edit the address")
    return render(request, "customers/form.html", {"form": form, "title": title, "customer": customer})


@staff_view(permission="customers.record_consent")
def consent_record(request: HttpRequest, pk: int) -> HttpResponse:
    """Record what the customer answered about one channel and purpose, with the text they were told.

    The agent, the IP address and the browser of the agent are recorded with the entry as proof.
    """
    customer = _live_customer(request, pk, "consent")
    form = ConsentForm(request.POST or None, initial={"channel": request.GET.get("channel")})
    if request.method == "POST" and form.is_valid():
        try:
            records.consent_record(
                customer=customer, channel=form.cleaned_data["channel"], purpose=form.cleaned_data["purpose"],
                status=form.cleaned_data["status"], source=ConsentSource.AGENT,
                proof_text=form.cleaned_data["proof_text"], ip_address=_client_ip(request),
                user_agent=request.headers.get("User-Agent", ""), acting_user=request.user,
            )  # fmt: skip
        except ApplicationError as error:
            form_add_application_error(form, error)
        else:
            messages.success(request, _("Consent recorded."))
            return redirect(customer)
    return render(request, "customers/form.html", {"form": form, "title": _("Record a consent"), "customer": customer})
