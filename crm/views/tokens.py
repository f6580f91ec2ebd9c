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


# Where the new key waits between the POST that creates it and the GET that shows it (once).
NEW_KEY_SESSION = "api_token_new_key"


@staff_view(permission="crm.use_api_tokens")
def api_tokens(request: HttpRequest) -> HttpResponse:
    """The caller's tokens and the form to create one; a new key is shown once, after a redirect.

    Post/redirect/get: a successful POST keeps the key in the server-side session and redirects, so a
    reload (or the browser's "resend the form?") cannot create a second token. The GET pops the key
    from the session while rendering it, so it is shown exactly once and no longer stored anywhere;
    the page is marked never-cache so the key does not outlive it in the browser either.
    """
    form = ApiTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            token, key = services.api_token_create(
                user=request.user, name=form.cleaned_data["name"], acting_user=request.user
            )
        except ApplicationError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            request.session[NEW_KEY_SESSION] = {"token_id": token.pk, "key": key}
            return redirect("api_tokens")
    tokens = ApiToken.objects.filter(user=request.user).order_by("revoked_at", "-created_at")
    new_token, new_key = None, None
    pending = request.session.pop(NEW_KEY_SESSION, None) if request.method == "GET" else None
    if pending:
        new_token = tokens.filter(pk=pending.get("token_id")).first()
        new_key = pending.get("key") if new_token is not None else None
    context = {"form": form, "tokens": tokens, "new_token": new_token, "new_key": new_key}
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
