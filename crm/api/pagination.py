"""Cursor pagination: stable pages over large, changing tables (no OFFSET, no COUNT)."""

from rest_framework import pagination


class CursorPagination(pagination.CursorPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 1000
    ordering = "-pk"
