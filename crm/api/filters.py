"""django-filter filters for the API's FilterSets, with the rules of ``crm.api.fields`` (date-time offsets)."""

from __future__ import annotations

from django import forms
from django_filters import fields as filter_fields
from django_filters import rest_framework as filters

from crm.api.fields import OFFSET_MESSAGE, offset_is_valid


class IsoDateTimeFormField(filter_fields.IsoDateTimeField):
    def to_python(self, value):
        result = super().to_python(value)
        if result is not None and not offset_is_valid(result):
            raise forms.ValidationError(OFFSET_MESSAGE, code="invalid_offset")
        return result


class IsoDateTimeRangeFormField(filter_fields.RangeField):
    widget = filter_fields.DateRangeWidget

    def __init__(self, *args, **kwargs):
        super().__init__((IsoDateTimeFormField(), IsoDateTimeFormField()), *args, **kwargs)


class IsoDateTimeFilter(filters.IsoDateTimeFilter):
    field_class = IsoDateTimeFormField


class IsoDateTimeFromToRangeFilter(filters.IsoDateTimeFromToRangeFilter):
    field_class = IsoDateTimeRangeFormField
