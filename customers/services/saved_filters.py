"""Saved filters of the customer list: a name for a query string, private or shared with the team."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from crm.errors import ApplicationError
from customers.models import SavedFilter

# Parameters that describe a position in the list, not a filter.
NOT_SAVED = {"cursor", "page"}


def saved_filter_query_clean(query: str) -> str:
    """The query string without paging parameters, in a stable order."""
    pairs = [(k, v) for k, v in parse_qsl(query or "", keep_blank_values=False) if k not in NOT_SAVED]
    return urlencode(pairs)[:2000]


@transaction.atomic
def saved_filter_save(*, owner, name: str, query: str, is_shared: bool = False) -> SavedFilter:
    """Save the list's current filter under ``name`` for ``owner``; the same name replaces the old one."""
    name = " ".join((name or "").split())[:100]
    if not name:
        raise ApplicationError("required", _("Give the filter a name."), field="name")
    if not saved_filter_query_clean(query):
        # A filter with no criterion would list every customer: it is always a lost filter, never intended.
        raise ApplicationError("empty", _("Filter the list first, then save the filter."), field="query")
    try:
        saved, _created = SavedFilter.objects.update_or_create(
            owner=owner, name=name, defaults={"query": saved_filter_query_clean(query), "is_shared": is_shared}
        )
    except IntegrityError:  # two tabs saving the same name at once
        raise ApplicationError("duplicate", _("You already have a filter with this name."), field="name") from None
    return saved


@transaction.atomic
def saved_filter_delete(*, saved_filter: SavedFilter, acting_user) -> None:
    """Delete a saved filter; only its owner may."""
    if saved_filter.owner_id != acting_user.pk:
        raise ApplicationError("forbidden", _("Only the person who saved this filter can delete it."), status_code=403)
    saved_filter.delete()
