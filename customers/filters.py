"""django-filter FilterSets of the customer API: each filter is an index-served lookup."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters

from crm.api.filters import IsoDateTimeFilter, IsoDateTimeFromToRangeFilter
from customers.choices import Channel, ConsentStatus, Purpose, Stage
from customers.models import Customer
from customers.selectors import consent_state_subquery

UNKNOWN = "unknown"
SEARCH_LIMIT = 1000


class CustomerFilter(filters.FilterSet):
    stage = filters.MultipleChoiceFilter(
        choices=Stage.choices, help_text=_("Only customers in this stage (repeatable).")
    )
    owner = filters.NumberFilter(field_name="owner_id", help_text=_("Only customers owned by this staff id."))
    tag = filters.CharFilter(method="filter_tag", help_text=_("Only customers carrying this tag."))
    created = IsoDateTimeFromToRangeFilter(
        field_name="created_at", help_text=_("created_after / created_before: ISO 8601 date-times.")
    )
    updated_since = IsoDateTimeFilter(
        field_name="updated_at", lookup_expr="gte", help_text=_("Only customers changed at or after this time.")
    )
    consent_channel = filters.ChoiceFilter(
        choices=Channel.choices, method="filter_noop", help_text=_("With consent_purpose and consent_status.")
    )
    consent_purpose = filters.ChoiceFilter(
        choices=Purpose.choices, method="filter_noop", help_text=_("With consent_channel and consent_status.")
    )
    consent_status = filters.ChoiceFilter(
        choices=[*ConsentStatus.choices, (UNKNOWN, _("Never asked"))],
        method="filter_noop",
        help_text=_("The effective consent (the ledger's latest entry) for consent_channel and consent_purpose."),
    )
    search = filters.CharFilter(
        method="filter_search", help_text=_("A name, email, phone number in any format or account number.")
    )

    class Meta:
        model = Customer
        fields: list[str] = []

    def filter_tag(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(tags__contains=[" ".join(value.split()).lower()])

    def filter_noop(self, queryset: QuerySet, name: str, value) -> QuerySet:
        return queryset  # the three consent parameters are applied together in filter_queryset

    def filter_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        from customers.search import customer_search

        hits = customer_search(query=value, limit=SEARCH_LIMIT)
        return queryset.filter(pk__in=[hit.pk for hit in hits])

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        queryset = super().filter_queryset(queryset)
        data = self.form.cleaned_data
        channel, purpose, status = data.get("consent_channel"), data.get("consent_purpose"), data.get("consent_status")
        if channel and purpose and status:
            queryset = queryset.annotate(_consent=consent_state_subquery(channel=channel, purpose=purpose))
            queryset = queryset.filter(_consent__isnull=True) if status == UNKNOWN else queryset.filter(_consent=status)
        return queryset

    def is_valid(self) -> bool:
        valid = super().is_valid()
        if valid:
            given = [self.form.cleaned_data.get(f"consent_{part}") for part in ("channel", "purpose", "status")]
            if any(given) and not all(given):
                self.form.add_error(
                    "consent_status", _("Give consent_channel, consent_purpose and consent_status together.")
                )
                return False
        return valid
