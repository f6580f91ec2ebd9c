"""The one rule on characters every input must follow, whatever path it comes in by.

NUL and the other C0 control characters (U+0000-U+001F) are never data a person typed: they break
PostgreSQL (which cannot store NUL), the XLSX export (openpyxl refuses them), the search index and
logs. Lone UTF-16 surrogates (U+D800-U+DFFF, reachable through JSON's ``\\ud800`` escapes) cannot
be encoded in UTF-8 at all. So:

- a **multi-line** value (a body field: a JSON string, a form field, which may be a textarea) may hold
  tab, line feed and carriage return, and no other control character;
- a **single-line** value (a query parameter, a path segment, a multipart file name) may hold tab,
  and no other control character;
- no value, and no key, may hold a lone surrogate.

``InputGuardMiddleware`` (below) applies it to the path, the query string and urlencoded form
bodies of every request; ``crm.api.parsers`` applies it to JSON and multipart bodies of the API. A
refusal is ``BadCharacter``: HTTP 400 naming the field (code ``control_character``): in the API's
error format under /api/, else a plain page that names the form field, so whoever typed (or pasted)
the text knows which field to mend when going back to the form, which the browser keeps filled in.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import Http404, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import render
from django.urls import resolve
from django.utils.translation import gettext as _

from crm.errors import ApplicationError

CODE = "control_character"
# C0 minus tab, LF and CR (the same set as openpyxl's ILLEGAL_CHARACTERS_RE), plus lone surrogates.
_MULTI_LINE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")
# C0 minus tab, plus lone surrogates.
_SINGLE_LINE = re.compile("[\x00-\x08\x0a-\x1f\ud800-\udfff]")


class BadCharacter(ApplicationError):
    """A value holds a character the input rule refuses; ``field`` names where (dotted for nested JSON)."""

    def __init__(self, field: str) -> None:
        super().__init__(CODE, bad_character_message(), field=field)


def bad_character_message() -> str:
    return _(
        "Control characters (such as NUL) and invalid Unicode are not allowed; only tab, and line breaks "
        "in multi-line text, are."
    )


def has_bad_character(value: str, *, multi_line: bool) -> bool:
    return (_MULTI_LINE if multi_line else _SINGLE_LINE).search(value) is not None


def printable_name(name: str) -> str:
    """A field name fit to be echoed in an error: refused characters shown as ``\\uXXXX``."""
    return _SINGLE_LINE.sub(lambda match: f"\\u{ord(match.group()):04x}", name)


def check_pairs(pairs: Iterable[tuple[str, str]], *, multi_line: bool, prefix: str = "") -> None:
    """Raise ``BadCharacter`` for the first (key, value) pair breaking the rule (keys are single-line)."""
    for key, value in pairs:
        name = f"{prefix}{printable_name(key)}"
        if has_bad_character(key, multi_line=False) or has_bad_character(value, multi_line=multi_line):
            raise BadCharacter(name)


def check_json(data, *, max_depth: int, characters: bool = True) -> None:
    """Walk parsed JSON without recursion; refuse a bad string (key or value) or nesting beyond ``max_depth``.

    The field is named by its dotted path (``metadata.notes.0``), as ``crm.api.errors`` names fields.
    """
    stack: list[tuple[object, str, int]] = [(data, "", 0)]
    while stack:
        value, path, depth = stack.pop()
        if isinstance(value, str):
            if characters and has_bad_character(value, multi_line=True):
                raise BadCharacter(path or "non_field_errors")
        elif isinstance(value, (dict, list)):
            if depth >= max_depth:
                raise ApplicationError(
                    "too_deep",
                    _("The JSON is nested too deeply (at most %(max)d levels).") % {"max": max_depth},
                    field=path or None,
                )
            if isinstance(value, dict):
                for key, item in reversed(value.items()):  # popped in document order
                    name = f"{path}.{printable_name(key)}" if path else printable_name(key)
                    if characters and has_bad_character(key, multi_line=False):
                        raise BadCharacter(name)
                    stack.append((item, name, depth + 1))
            else:
                for index, item in reversed(list(enumerate(value))):
                    stack.append((item, f"{path}.{index}" if path else str(index), depth + 1))


class InputGuardMiddleware:
    """The input rule on the path, the query string and urlencoded form bodies.

    It runs before URL resolution and before any view, so no view, search box or filter can receive a
    NUL; and it answers the size and count limits Django enforces on bodies (``RequestDataTooBig``,
    ``TooManyFieldsSent``) itself, so neither can turn into a debug page whatever ``DEBUG`` says. Under
    /api/ the answer is the API's error format; elsewhere a plain 400 (or 413) page. Multipart bodies
    of the API are left to ``crm.api.parsers`` (reading them here would consume the raw body that
    signed webhooks verify); HTML multipart forms are read here, as the CSRF check would read them.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            self.check(request)
        except BadCharacter as error:
            return refusal(request, status=400, code=error.code, message=error.message, field=error.field)
        except RequestDataTooBig:
            return refusal(request, status=413, code="too_large", message=_("The request body is too large."))
        except (TooManyFieldsSent, TooManyFilesSent):
            return refusal(request, status=400, code="too_many", message=_("The request has too many fields or files."))
        return self.get_response(request)

    def check(self, request) -> None:
        if has_bad_character(request.path_info, multi_line=False):
            raise BadCharacter(_path_parameter(request.path_info))
        check_pairs(_pairs(request.GET), multi_line=False)
        content_type = request.content_type or ""
        if content_type == "application/x-www-form-urlencoded":
            form = request.POST if request.method == "POST" else QueryDict(request.body, encoding=request.encoding)
            check_pairs(_pairs(form), multi_line=True)
        elif content_type == "multipart/form-data" and request.method == "POST" and not _is_api(request):
            check_pairs(_pairs(request.POST), multi_line=True)
            check_pairs(((name, upload.name or "") for name, upload in _pairs(request.FILES)),
                                    multi_line=False)  # fmt: skip


def _is_api(request) -> bool:
    return request.path_info.startswith("/api/")


def _pairs(multi_value_dict):
    for key, values in multi_value_dict.lists():
        for value in values:
            yield key, value


def _path_parameter(path: str) -> str:
    """The name of the URL parameter holding the refused character (``site_key``), else ``path``."""
    try:
        match = resolve(path)
    except Http404:
        return "path"
    for name, value in match.kwargs.items():
        if isinstance(value, str) and has_bad_character(value, multi_line=False):
            return name
    return "path"


def refusal(request, *, status: int, code: str, message: str, field: str | None = None) -> HttpResponse:
    """A refused request: the API's error format under /api/, a plain page elsewhere (never a debug page)."""
    from crm.api.errors import error_body  # crm.api imports DRF, whose settings need the app registry

    if _is_api(request):
        fields = {field: [{"code": code, "message": message}]} if field else None
        return JsonResponse(error_body(code=code, message=message, status_code=status, fields=fields), status=status)
    return render(request, "400.html", {"message": message, "status": status, "field": field}, status=status)
