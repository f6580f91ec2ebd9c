"""403 and 404 pages inside the staff layout; under /api/ the API's JSON error format instead.

(500 stays a plain template that needs no context.)
"""

from django.http import JsonResponse
from django.shortcuts import render
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
