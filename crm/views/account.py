"""The signed-in staff member's own account: details, language, password."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _

from crm.access import staff_view
from crm.forms import AccountForm


@staff_view
def account(request):
    form = AccountForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        messages.success(request, _("Your details were saved."))
        response = redirect("account")
        if user.language:
            translation.activate(user.language)
            response.set_cookie(settings.LANGUAGE_COOKIE_NAME, user.language, samesite="Lax")
        return response
    return render(request, "crm/account.html", {"form": form})


password_change = staff_view(auth_views.PasswordChangeView.as_view())
password_change_done = staff_view(auth_views.PasswordChangeDoneView.as_view())
