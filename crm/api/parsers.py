"""The API's body parsers: DRF's, plus the input rule of ``crm.input_guard`` and bounds that keep a 400 a 400.

Registered as ``REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"]``; a view that declares its own parsers
subclasses these. Urlencoded forms are checked earlier, by ``crm.middleware.InputGuardMiddleware``.

- JSON: a string or key holding a control character is refused naming its dotted path; nesting deeper
  than ``JSON_MAX_DEPTH`` (or deep enough to exhaust Python's recursion limit) is ``too_deep``.
- multipart: the same rule on every non-file field (multi-line) and file name (single-line); more
  files or fields than Django's ``DATA_UPLOAD_MAX_NUMBER_*`` settings is ``too_many``.
- Bodies larger than ``DATA_UPLOAD_MAX_MEMORY_SIZE`` answer 413 ``too_large``
  (``crm.api.errors.exception_handler`` maps Django's ``RequestDataTooBig``).
"""

from __future__ import annotations

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.utils.translation import gettext as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError

from crm import input_guard
from crm.api.errors import too_large_error, too_many_error
from crm.errors import ApplicationError

JSON_MAX_DEPTH = 64


class JSONParser(parsers.JSONParser):
    # A batch endpoint that refuses bad items one by one (web events: one bad event must not lose a
    # visitor's whole beacon) turns the character check off and applies it per item instead.
    check_characters = True

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ApplicationError(
                "too_deep", _("The JSON is nested too deeply (at most %(max)d levels).") % {"max": JSON_MAX_DEPTH}
            ) from None
        except ParseError:
            raise
        except ValueError as error:  # e.g. an integer of more than 4,300 digits
            raise ParseError(_("JSON parse error - %(error)s") % {"error": error}) from None
        input_guard.check_json(data, max_depth=JSON_MAX_DEPTH, characters=self.check_characters)
        return data


class MultiPartParser(parsers.MultiPartParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            parsed = super().parse(stream, media_type, parser_context)
        except (TooManyFieldsSent, TooManyFilesSent):
            raise too_many_error() from None
        except RequestDataTooBig:
            raise too_large_error() from None
        input_guard.check_pairs(_flat(parsed.data), multi_line=True)
        input_guard.check_pairs(((name, upload.name or "") for name, upload in _flat(parsed.files)), multi_line=False)
        return parsed


def _flat(multi_value_dict):
    for key, values in multi_value_dict.lists():
        for value in values:
            yield key, value
