"""Cursor pagination: stable pages over large, changing tables (no OFFSET, no COUNT).

A cursor is opaque to clients but readable by anyone (base64 of ``o=..&r=..&p=..``). A cursor that does
not decode, or whose position is not a value of the ordering field (``p=abc`` for an id, a date with a
24-hour offset), answers 400 ``invalid_cursor`` instead of reaching the database.
"""

from __future__ import annotations

import datetime
import re

from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.utils.translation import gettext as _
from rest_framework import pagination
from rest_framework.exceptions import NotFound

from crm.api.fields import offset_is_valid
from crm.errors import ApplicationError

BASE64 = re.compile(r"[A-Za-z0-9+/]*={0,2}")


def invalid_cursor_error() -> ApplicationError:
    return ApplicationError("invalid_cursor", _("Invalid cursor: follow the `next` and `previous` links as given."),
                            field="cursor")  # fmt: skip


class CursorPagination(pagination.CursorPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 1000
    ordering = "-pk"

    def paginate_queryset(self, queryset, request, view=None):
        self._model = queryset.model
        return super().paginate_queryset(queryset, request, view)

    def decode_cursor(self, request):
        encoded = request.query_params.get(self.cursor_query_param)
        if encoded is not None and not BASE64.fullmatch(encoded):
            raise invalid_cursor_error()  # b64decode would silently drop the foreign characters
        try:
            cursor = super().decode_cursor(request)
        except NotFound:
            raise invalid_cursor_error() from None
        if cursor is not None and cursor.position is not None:
            self._check_position(cursor.position)
        return cursor

    def _check_position(self, position: str) -> None:
        name = self.ordering[0].lstrip("-") if isinstance(self.ordering, (list, tuple)) else self.ordering.lstrip("-")
        model = getattr(self, "_model", None)
        if model is None:
            return
        try:
            field = model._meta.pk if name == "pk" else model._meta.get_field(name)
        except FieldDoesNotExist:
            return
        try:
            value = field.to_python(position)
        except (ValidationError, ValueError, TypeError, OverflowError):
            raise invalid_cursor_error() from None
        if isinstance(value, datetime.datetime) and not offset_is_valid(value):
            raise invalid_cursor_error()
        if isinstance(value, int) and not -(2**63) <= value < 2**63:
            raise invalid_cursor_error()
