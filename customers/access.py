"""Fetch a customer and check the caller may use it, in one call (views and APIs never split the two)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _

from customers.models import Customer

# What a staff member may do with a customer, as the Django permission it needs.
ACTIONS = {
    "view": "customers.view_customer",
    "change": "customers.change_customer",
    "consent": "customers.record_consent",
    "merge": "customers.merge_customer",
    "export": "customers.export_customer",
    "erase": "customers.erase_customer",
}


def customer_get_for_user(*, user, pk: int, action: str = "view", queryset=None) -> Customer:
    """Return customer ``pk`` if ``user`` may perform ``action`` on it.

    Raises ``PermissionDenied`` when the role lacks the permission and ``Http404`` when no such
    customer exists. A merged-away customer is returned as is (callers redirect to
    ``merged_into``); changes to it are refused by the services.
    """
    permission = ACTIONS[action]
    if not (user.is_authenticated and user.is_active and user.has_perm(permission)):
        raise PermissionDenied
    try:
        return (queryset if queryset is not None else Customer.objects.all()).get(pk=pk)
    except (Customer.DoesNotExist, ValueError, TypeError):
        raise Http404(_("No such customer.")) from None


def customer_survivor(customer: Customer) -> Customer:
    """Follow ``merged_into`` to the customer that holds this one's record now."""
    seen = set()
    while customer.merged_into_id is not None and customer.pk not in seen:
        seen.add(customer.pk)
        customer = Customer.objects.get(pk=customer.merged_into_id)
    return customer
