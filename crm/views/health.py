"""GET /health/ for load balancers, orchestrators and operators."""

from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from crm.access import public_view
from crm.health import health_report


@public_view
@never_cache
@require_GET
def health(request):
    """200 with every check when all parts answer; 503 naming the failing parts otherwise."""
    report = health_report()
    return JsonResponse(report, status=200 if report["status"] == "ok" else 503)
