"""API tokens of the signed-in staff member: list, create (the key is shown once), revoke."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from crm import services
from crm.access import staff_view
from crm.errors import ApplicationError
from crm.models import ApiToken


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=services.NAME_MAX_LENGTH,
        help_text=gettext_lazy("What the token is for, e.g. 'ERP sync'. Only you can see it."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "placeholder": gettext_lazy("ERP sync")}),
    )


@staff_view(permission="crm.use_api_tokens")
def api_tokens(request: HttpRequest) -> HttpResponse:
    """The caller's tokens and the form to create one; a successful POST shows the new key once.

    The key is rendered in the POST's response itself (not stored for a redirect), because the only
    places to keep it until the next GET are the session or a message, both of which end up in the
    database or a cookie. The response is marked never-cache so the key does not outlive the page.
    """
    form = ApiTokenForm(request.POST or None)
    new_token, new_key = None, None
    if request.method == "POST" and form.is_valid():
        try:
            new_token, new_key = services.api_token_create(
                user=request.user, name=form.cleaned_data["name"], acting_user=request.user
            )
        except ApplicationError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            form = ApiTokenForm()
    context = {
        "form": form,
        "tokens": ApiToken.objects.filter(user=request.user).order_by("revoked_at", "-created_at"),
        "new_token": new_token,
        "new_key": new_key,
    }
    response = render(request, "crm/tokens.html", context)
    add_never_cache_headers(response)
    return response


@staff_view(permission="crm.use_api_tokens")
@require_POST
def api_token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    """Revoke one of the caller's tokens (an admin may revoke anyone's); someone else's token is a 404.

    htmx requests (the confirmed button in the list) get the updated row; a plain form post is
    redirected back to the list with a message.
    """
    token = services.api_token_get_for_user(user=request.user, pk=pk)
    services.api_token_revoke(token=token, acting_user=request.user)
    if getattr(request, "htmx", False):
        return render(request, "crm/tokens.html#token-row", {"token": token})
    messages.success(request, _("The token “%(name)s” was revoked.") % {"name": token.name})
    return redirect("api_tokens")
