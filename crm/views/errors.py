"""403 and 404 pages inside the staff layout; under /api/ the API's JSON error format instead.

500 stays a plain template that needs no context, except when the database could not serve the
request (no connection free in the pool within its timeout, the server down or refusing, a statement
cancelled): that is a 503 with ``Retry-After``, so that a browser user reloads and an integration
retries, instead of a "server error" that would be filed as a bug.
"""

import sys

from django.db import OperationalError
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import get_template
from django.utils.translation import gettext as _

from crm.api.errors import error_body


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def permission_denied(request, exception=None):
    if _is_api(request):
        message = _("You do not have permission to perform this action.")
        return JsonResponse(error_body(code="permission_denied", message=message, status_code=403), status=403)
    return render(request, "403.html", status=403)


def page_not_found(request, exception=None):
    if _is_api(request):
        message = _("No such endpoint or object.")
        return JsonResponse(error_body(code="not_found", message=message, status_code=404), status=404)
    return render(request, "404.html", status=404)


RETRY_AFTER_SECONDS = 5


def server_error(request):
    exception = sys.exc_info()[1]
    if not isinstance(exception, OperationalError):
        return HttpResponse(get_template("500.html").render(), status=500)
    if _is_api(request):
        message = _("The service is busy or its database cannot be reached; retry in a few seconds.")
        response = JsonResponse(error_body(code="unavailable", message=message, status_code=503), status=503)
    else:
        response = HttpResponse(get_template("503.html").render(), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
