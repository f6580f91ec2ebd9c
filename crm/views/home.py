"""The staff home page: what this person's role may do, with live figures."""

from __future__ import annotations

from django.shortcuts import render

from crm import selectors
from crm.access import staff_view
from crm.navigation import nav_for_user
from crm.roles import ROLE_DESCRIPTIONS


@staff_view
def home(request):
    user = request.user
    roles = user.role_names
    context = {
        "roles": [(name, ROLE_DESCRIPTIONS.get(name, "")) for name in roles],
        "capabilities": [item for item in nav_for_user(user) if item.key != "home"],
        "my_tokens": selectors.api_token_counts(user=user) if user.has_perm("crm.use_api_tokens") else None,
    }
    if user.has_perm("crm.supervise_team") or user.has_perm("crm.view_operations"):
        context["staff_counts"] = selectors.staff_counts_by_role()
    if user.has_perm("crm.view_operations"):
        from axes.models import AccessAttempt
        from django_celery_beat.models import PeriodicTask

        context["ops"] = {
            "all_tokens": selectors.api_token_counts(),
            "scheduled_jobs": PeriodicTask.objects.filter(enabled=True).count(),
            "locked_out": AccessAttempt.objects.count(),
        }
    return render(request, "crm/home.html", context)
