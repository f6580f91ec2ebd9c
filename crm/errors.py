"""Domain errors raised by services, shared by every entry point (HTML views, API, tasks, commands).

The API maps an ``ApplicationError`` to its error format (``crm.api.errors``); HTML views show its
message next to the field it names.
"""

from __future__ import annotations


class ApplicationError(Exception):
    """A domain rule refused the request (raised by services; 400 unless ``status`` says otherwise)."""

    def __init__(self, code: str, message: str, *, field: str | None = None, status_code: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
        self.status_code = status_code
