"""The staff directory, for supervisors and admins."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.shortcuts import render

from crm import selectors
from crm.access import staff_view
from crm.roles import ROLE_PERMISSIONS


@staff_view(permission="crm.supervise_team")
def team(request):
    role = request.GET.get("role", "")
    staff = selectors.staff_list()
    if role in ROLE_PERMISSIONS:
        staff = staff.filter(groups__name=role)
    page = Paginator(staff, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "crm/team.html",
        {"page": page, "role": role, "roles": list(selectors.staff_counts_by_role().items())},
    )
