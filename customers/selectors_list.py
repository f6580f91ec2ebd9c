"""Reads behind the customer list and the 360 page: filters, sort, keyset pages, counts, history.

The list never counts the whole table (an estimate from ``pg_class.reltuples`` instead) and pages
by keyset (``WHERE (sort key, id) > last seen``), so page 1,000 costs what page 1 costs.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import json
from dataclasses import dataclass, field

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from crm.pickers import SearchPickerWidget
from customers.choices import Channel, ConsentStatus, ContactKind, Purpose, Stage
from customers.models import (
    AttributeDefinition,
    ContactPoint,
    Contract,
    Customer,
    Invoice,
    Order,
    OrderLine,
    PostalAddress,
    SavedFilter,
)
from customers.normalise import looks_like_phone, phone_normalise

PAGE_SIZE = 50
COUNT_CAP = 10_000
ACCOUNT_NUMBER_LENGTH = len("C-0000000")
UNKNOWN = "unknown"

# sort parameter -> ordering columns; "id" always ends the key so it is unique (keyset pagination).
SORTS = {
    "-created": [("created_at", True), ("id", True)],
    "created": [("created_at", False), ("id", False)],
    "name": [("search_name", False), ("id", False)],
    "-name": [("search_name", True), ("id", True)],
    "stage": [("stage", False), ("created_at", True), ("id", True)],
}
SORT_LABELS = {
    "-created": _("Newest first"),
    "created": _("Oldest first"),
    "name": _("Name A-Z"),
    "-name": _("Name Z-A"),
    "stage": _("Stage"),
}


def _staff_choices(request=None):
    User = get_user_model()
    return User.objects.filter(is_active=True, groups__isnull=False).distinct().order_by("first_name", "last_name")


OWNER_NONE = "null"  # django-filter's value for "no owner"


def owner_search(q: str, *, limit: int) -> list:
    """Active staff with a role whose first name, last name or username contains every word of ``q``
    (at most ``limit`` + 1 rows: the extra one says "more match")."""
    people = _staff_choices()
    for word in (q or "").split()[:4]:
        people = people.filter(
            Q(first_name__icontains=word) | Q(last_name__icontains=word) | Q(username__icontains=word)
        )
    return list(people.only("id", "username", "first_name", "last_name")[: limit + 1])


def owner_labels(values) -> dict[str, str]:
    """``{value: name}`` for the owner picker's current value (a staff id, or "no owner")."""
    ids = [int(value) for value in values if str(value).isdigit()]
    users = get_user_model().objects.filter(pk__in=ids).only("id", "username", "first_name", "last_name")
    labels = {str(user.pk): user.get_full_name() or user.username for user in users}
    if OWNER_NONE in values:
        labels[OWNER_NONE] = str(_("No owner"))
    return labels


def _attribute_choices():
    return [(d.key, d.display_label) for d in AttributeDefinition.objects.all()]


class CustomerFilter(django_filters.FilterSet):
    """The customer list's filters; every one of them is a plain query-string parameter (saved filters)."""

    q = django_filters.CharFilter(label=_("Search"), method="filter_q")
    stage = django_filters.MultipleChoiceFilter(label=_("Stage"), choices=Stage.choices)
    # A search picker, not a <select>: a team of 1,000 staff made the list page render 1,000 options.
    owner = django_filters.ModelChoiceFilter(
        label=_("Owner"), queryset=_staff_choices, null_label=_("No owner"),
        widget=SearchPickerWidget(search_url_name="customers:owner_picker_hx", labels=owner_labels,
                                  placeholder=_("Type a name (empty: anyone)")),
    )  # fmt: skip
    tag = django_filters.CharFilter(label=_("Tag"), method="filter_tag")
    consent_channel = django_filters.ChoiceFilter(label=_("Consent channel"), choices=Channel.choices,
                                                  method="filter_noop")  # fmt: skip
    consent_purpose = django_filters.ChoiceFilter(label=_("Consent purpose"), choices=Purpose.choices,
                                                  method="filter_noop")  # fmt: skip
    consent_status = django_filters.ChoiceFilter(
        label=_("Consent state"),
        choices=[*ConsentStatus.choices, (UNKNOWN, _("Never asked"))],
        method="filter_noop",
    )
    attribute = django_filters.ChoiceFilter(label=_("Custom attribute"), choices=_attribute_choices,
                                            method="filter_noop")  # fmt: skip
    attribute_value = django_filters.CharFilter(label=_("Attribute value"), method="filter_noop")
    created_after = django_filters.DateFilter(label=_("Created from"), field_name="created_at", lookup_expr="date__gte",
                                              widget=forms.DateInput(attrs={"type": "date"}))  # fmt: skip
    created_before = django_filters.DateFilter(label=_("Created until"), field_name="created_at",
                                               lookup_expr="date__lte",
                                               widget=forms.DateInput(attrs={"type": "date"}))  # fmt: skip
    sort = django_filters.ChoiceFilter(label=_("Sort"), choices=list(SORT_LABELS.items()), method="filter_noop",
                                       empty_label=None)  # fmt: skip

    class Meta:
        model = Customer
        fields: list[str] = []

    def filter_noop(self, queryset, name, value):
        return queryset  # applied together in filter_queryset (they only mean something as a pair)

    def filter_q(self, queryset, name, value):
        text = " ".join(value.split())
        if not text:
            return queryset
        if "@" in text:
            ids = ContactPoint.objects.filter(kind=ContactKind.EMAIL, value__startswith=text.lower())
            return queryset.filter(pk__in=ids.values("customer_id"))
        if looks_like_phone(text):
            try:
                e164 = phone_normalise(text).e164
            except Exception:  # noqa: BLE001 - not a valid number: search it as text below
                e164 = None
            if e164:
                ids = ContactPoint.objects.filter(kind__in=[ContactKind.PHONE, ContactKind.MOBILE], value=e164)
                matches = Q(pk__in=ids.values("customer_id"))
                if len(text) <= ACCOUNT_NUMBER_LENGTH:  # the tail of an account number, as typed ("0004323")
                    matches |= Q(account_number__iendswith=text)
                return queryset.filter(matches)
        # Account numbers are generated upper-case ("C-0004323"): an equality the unique index answers, so
        # PostgreSQL can OR it with the trigram index on search_name (an iexact, upper(...) = ..., cannot).
        condition = Q(account_number=text.upper())
        words = Q()
        for word in text.split():
            words &= Q(search_name__contains=_fold_for_like(word))
        return queryset.filter(condition | words)

    def filter_tag(self, queryset, name, value):
        tag = " ".join(value.split()).lower()
        return queryset.filter(tags__contains=[tag]) if tag else queryset

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        data = self.form.cleaned_data
        channel, purpose, status = data.get("consent_channel"), data.get("consent_purpose"), data.get("consent_status")
        if channel and status:
            from customers.selectors import consent_state_subquery

            queryset = queryset.annotate(
                _consent=consent_state_subquery(channel=channel, purpose=purpose or Purpose.MARKETING)
            )
            queryset = queryset.filter(_consent__isnull=True) if status == UNKNOWN else queryset.filter(_consent=status)
        key, value = data.get("attribute"), (data.get("attribute_value") or "").strip()
        if key:
            if value:
                queryset = queryset.filter(
                    Q(attributes__contains={key: _typed_attribute(key, value)}) | Q(attributes__contains={key: value})
                )
            else:
                queryset = queryset.filter(attributes__has_key=key)
        return queryset

    @property
    def sort_key(self) -> str:
        sort = self.form.cleaned_data.get("sort") if self.form.is_valid() else None
        return sort if sort in SORTS else "-created"

    @property
    def is_filtered(self) -> bool:
        if not self.form.is_valid():
            return False
        return any(value not in (None, "", [], ()) for name, value in self.form.cleaned_data.items() if name != "sort")


def _fold_for_like(word: str) -> str:
    from customers.normalise import fold

    return fold(word)


def _typed_attribute(key: str, value: str):
    definition = AttributeDefinition.objects.filter(key=key).first()
    if definition is None:
        return value
    if definition.type == AttributeDefinition.Type.NUMBER:
        try:
            number = float(value.replace(",", "."))
            return int(number) if number.is_integer() else number
        except ValueError:
            return value
    if definition.type == AttributeDefinition.Type.BOOLEAN:
        return value.lower() in {"1", "true", "yes", "oui", "vrai"}
    return value


def customer_list_queryset() -> QuerySet:
    """Live customers with the columns the list and the export show, one query for a page."""
    email = ContactPoint.objects.filter(customer=OuterRef("pk"), kind=ContactKind.EMAIL).order_by("-is_primary", "id")
    phone = ContactPoint.objects.filter(
        customer=OuterRef("pk"), kind__in=[ContactKind.MOBILE, ContactKind.PHONE]
    ).order_by("-is_primary", "-kind", "id")
    address = PostalAddress.objects.filter(customer=OuterRef("pk")).order_by("-is_primary", "-valid_from", "id")
    return (
        Customer.objects.live()
        .select_related("owner")
        .annotate(
            primary_email=Subquery(email.values("value")[:1]),
            primary_phone=Subquery(phone.values("value")[:1]),
            primary_city=Subquery(address.values("city")[:1]),
            primary_postcode=Subquery(address.values("postcode")[:1]),
        )
    )


# -- keyset pagination ---------------------------------------------------------------------------


@dataclass
class KeysetPage:
    rows: list
    next_cursor: str | None
    previous_cursor: str | None = None
    has_previous: bool = False


def _cursor_encode(values: list) -> str:
    plain = [v.isoformat() if isinstance(v, (datetime.date, datetime.datetime)) else v for v in values]
    return base64.urlsafe_b64encode(json.dumps(plain).encode()).decode().rstrip("=")


def _cursor_decode(cursor: str, columns: list[tuple[str, bool]]) -> list | None:
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
    if not isinstance(values, list) or len(values) != len(columns):
        return None
    decoded = []
    for (column, _desc), value in zip(columns, values, strict=True):
        if column == "created_at":
            try:
                value = datetime.datetime.fromisoformat(value)
            except (TypeError, ValueError):
                return None
        elif column == "id" and not isinstance(value, int):
            return None
        decoded.append(value)
    return decoded


def _after(columns: list[tuple[str, bool]], values: list) -> Q:
    """Rows strictly after ``values`` in the order of ``columns`` (mixed directions allowed)."""
    condition = Q()
    for index, (column, desc) in enumerate(columns):
        step = Q(**{f"{column}__{'lt' if desc else 'gt'}": values[index]})
        for previous in range(index):
            step &= Q(**{columns[previous][0]: values[previous]})
        condition |= step
    return condition


def keyset_page(*, queryset: QuerySet, sort: str, cursor: str | None = None, size: int = PAGE_SIZE) -> KeysetPage:
    """One page of ``queryset`` in ``sort`` order after ``cursor`` (an opaque token from the previous page)."""
    columns = SORTS.get(sort, SORTS["-created"])
    ordering = [f"-{column}" if desc else column for column, desc in columns]
    queryset = queryset.order_by(*ordering)
    values = _cursor_decode(cursor, columns) if cursor else None
    if values is not None:
        queryset = queryset.filter(_after(columns, values))
    rows = list(queryset[: size + 1])
    next_cursor = None
    if len(rows) > size:
        rows = rows[:size]
        last = rows[-1]
        next_cursor = _cursor_encode([getattr(last, column) for column, _desc in columns])
    return KeysetPage(rows=rows, next_cursor=next_cursor, has_previous=values is not None)


# -- counts ------------------------------------------------------------------------------------


@dataclass
class ListCount:
    value: int
    is_estimate: bool = False
    is_capped: bool = False


def customer_count_estimate() -> int:
    """PostgreSQL's own row estimate of the customer table (kept current by autovacuum/ANALYZE)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE oid = 'customers_customer'::regclass")
        row = cursor.fetchone()
    return int(row[0]) if row and row[0] is not None else -1


def customer_list_count(*, queryset: QuerySet, is_filtered: bool, cap: int = COUNT_CAP) -> ListCount:
    """How many customers the list shows: an estimate when unfiltered, else an exact count up to ``cap``."""
    if not is_filtered:
        estimate = customer_count_estimate()
        if estimate >= cap:
            return ListCount(value=estimate, is_estimate=True)
    counted = queryset.order_by().values("pk")[: cap + 1].count()
    if counted > cap:
        return ListCount(value=cap, is_capped=True)
    return ListCount(value=counted)


def saved_filters_for_user(*, user) -> QuerySet:
    """The user's own saved filters and those their colleagues shared."""
    return SavedFilter.objects.filter(Q(owner=user) | Q(is_shared=True)).select_related("owner").order_by("name")


# -- the 360 page ------------------------------------------------------------------------------


@dataclass
class Customer360:
    customer: Customer
    contact_points: list
    addresses: list
    orders: list
    orders_total: int
    contracts: list
    invoices: list
    stage_changes: list
    consent_badges: list
    attributes: list
    history: list
    extra: dict = field(default_factory=dict)


def orders_with_line_counts(*, customer: Customer) -> QuerySet:
    """The customer's orders, newest first, each with its number of lines (one query)."""
    lines = (
        OrderLine.objects.filter(customer_id=OuterRef("customer_id"), order_id=OuterRef("pk"))
        .order_by()
        .values("order_id")
        .annotate(n=Count("id"))
        .values("n")
    )
    return Order.objects.filter(customer=customer).annotate(line_count=Subquery(lines)).order_by("-placed_at", "-id")


def customer_attributes(*, customer: Customer) -> list[dict]:
    """Custom attributes with their labels, defined ones first in their order, unknown keys after."""
    definitions = list(AttributeDefinition.objects.all())
    known = {d.key for d in definitions}
    values = customer.attributes or {}
    rows = [{"key": d.key, "label": d.display_label, "value": values.get(d.key), "type": d.type} for d in definitions]
    rows += [{"key": k, "label": k, "value": v, "type": "text"} for k, v in sorted(values.items()) if k not in known]
    return rows


HISTORY_HIDDEN_FIELDS = {"id", "customer", "customer_id", "pgh_obj"}


def _history_field(model, name: str):
    """The model field an event key names (pghistory keys are attnames: ``owner_id`` for ``owner``)."""
    if model is None:
        return None
    for field_ in model._meta.concrete_fields:
        if name in (field_.name, field_.attname):
            return field_
    return None


def _history_value(field_, value, names: dict) -> object:
    """What a person reads for a stored value: a choice's label, a referenced object's name, yes/no."""
    if value is None or field_ is None:
        return value
    if field_.is_relation:
        return names.get((field_.related_model, value), f"#{value}")
    if field_.flatchoices:
        return dict(field_.flatchoices).get(value, value)
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    return value


def customer_history(*, customer: Customer, limit: int = 30) -> list[dict]:
    """Field changes of the customer, their contact points and addresses: who, when, through what, what.

    Reads django-pghistory's aggregate of event tables filtered on this customer (one query), then
    one query per kind of referenced object (the people who made the changes and the owners named in
    them share one). Fields are shown by their translated verbose name, choices by their label and
    references by the name of the object (an owner's name, not their id).
    """
    from django.apps import apps
    from pghistory.models import Events

    events = list(Events.objects.references(customer).order_by("-pgh_created_at", "-pgh_id")[:limit])
    parsed, wanted = [], {}
    user_model = get_user_model()
    for event in events:
        context = event.pgh_context or {}
        try:
            model = apps.get_model(event.pgh_obj_model)
        except (LookupError, ValueError):
            model = None
        if event.pgh_label == "insert":
            changes = [(k, None, v) for k, v in sorted((event.pgh_data or {}).items()) if v not in (None, "", [], {})]
        else:
            changes = [(k, before, after) for k, (before, after) in sorted((event.pgh_diff or {}).items())]
        changes = [(k, _history_field(model, k), b, a) for k, b, a in changes if k not in HISTORY_HIDDEN_FIELDS]
        if not changes and event.pgh_label == "update":
            continue
        for _key, field_, before, after in changes:
            if field_ is not None and field_.is_relation:
                wanted.setdefault(field_.related_model, set()).update(v for v in (before, after) if v is not None)
        if context.get("user"):
            wanted.setdefault(user_model, set()).add(int(context["user"]))
        parsed.append((event, model, context, changes))
    names: dict = {}
    for related, ids in wanted.items():
        for obj in related._default_manager.filter(pk__in=ids):
            names[(related, obj.pk)] = obj
    rows = []
    for event, model, context, changes in parsed:
        shown = []
        for key, field_, before, after in changes:
            label = capfirst(str(field_.verbose_name)) if field_ is not None else key
            before, after = _history_value(field_, before, names), _history_value(field_, after, names)
            if isinstance(before, user_model):
                before = before.get_full_name() or before.get_username()
            if isinstance(after, user_model):
                after = after.get_full_name() or after.get_username()
            shown.append((label, before, after))
        rows.append(
            {
                "at": event.pgh_created_at,
                "model": str(model._meta.verbose_name) if model else event.pgh_obj_model.split(".")[-1].lower(),
                "label": event.pgh_label,
                "user": names.get((user_model, int(context["user"]))) if context.get("user") else None,
                "channel": context.get("channel", ""),
                "changes": shown,
            }
        )
    return rows


def customer_360(*, customer: Customer, orders_limit: int = 20) -> Customer360:
    """Everything the 360 page shows about ``customer``, in a fixed number of queries."""
    from customers.selectors import consent_badges

    orders = list(orders_with_line_counts(customer=customer)[:orders_limit])
    orders_total = len(orders) if len(orders) < orders_limit else Order.objects.filter(customer=customer).count()
    return Customer360(
        customer=customer,
        contact_points=list(ContactPoint.objects.filter(customer=customer).order_by("-is_primary", "kind", "id")),
        addresses=list(PostalAddress.objects.filter(customer=customer).order_by("-is_primary", "-valid_from", "id")),
        orders=orders,
        orders_total=orders_total,
        contracts=list(Contract.objects.filter(customer=customer).order_by("-start_date", "-id")[:20]),
        invoices=list(Invoice.objects.filter(customer=customer).order_by("-issued_on", "-id")[:20]),
        stage_changes=list(customer.stage_changes.select_related("acting_user").order_by("-entered_at", "-id")[:10]),
        consent_badges=consent_badges(customer=customer),
        attributes=customer_attributes(customer=customer),
        history=customer_history(customer=customer),
    )
