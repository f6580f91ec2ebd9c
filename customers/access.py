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


# The largest id PostgreSQL's bigint holds: a bigger "id" is no object, not a database error.
MAX_PK = 2**63 - 1


def object_pk(value) -> int | None:
    """``value`` (a URL part, a form field) as a database id, or None when it cannot be one.

    ``"abc"``, ``""``, ``None``, ``"1.5"``, ``"-3"`` and numbers beyond bigint are None: callers answer 404.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    else:
        text = str(value if value is not None else "").strip()
        if not text.isascii() or not text.isdigit():
            return None
        number = int(text)
    return number if 0 < number <= MAX_PK else None


def customer_get_for_user(*, user, pk, action: str = "view", queryset=None, live: bool = False) -> Customer:
    """Return customer ``pk`` if ``user`` may perform ``action`` on it.

    Raises ``PermissionDenied`` when the role lacks the permission and ``Http404`` when no such
    customer exists (a non-numeric id included: never a 500). A merged-away or anonymised customer is
    returned as is (callers redirect to ``merged_into`` or show the tombstone) unless ``live`` is set:
    then it is a ``Http404`` too, for the views that change a record (the services refuse it as well).
    """
    permission = ACTIONS[action]
    if not (user.is_authenticated and user.is_active and user.has_perm(permission)):
        raise PermissionDenied
    number = object_pk(pk)
    customer = None
    if number is not None:
        customer = (queryset if queryset is not None else Customer.objects.all()).filter(pk=number).first()
    if customer is None:
        raise Http404(_("No such customer."))
    if live and not customer.is_live:
        raise Http404(_("This customer was merged or anonymised: their record cannot be changed."))
    return customer


def customer_survivor(customer: Customer) -> Customer:
    """Follow ``merged_into`` to the customer that holds this one's record now."""
    seen = set()
    while customer.merged_into_id is not None and customer.pk not in seen:
        seen.add(customer.pk)
        customer = Customer.objects.get(pk=customer.merged_into_id)
    return customer
