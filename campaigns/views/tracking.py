"""Public tracking endpoints (no sign-in): open pixel, click redirect, one-click unsubscribe.

Every URL is signed (``campaigns.services.tracking``); a forged or altered one is a 404.
"""

from __future__ import annotations

import base64
import contextlib

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils import translation
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from campaigns.services.tracking import (
    SALT_UNSUBSCRIBE,
    message_clicked,
    message_from_token,
    message_opened,
    message_unsubscribe,
)
from crm.access import public_view
from crm.errors import ApplicationError

PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


@public_view
@never_cache
def track_open(request: HttpRequest, token: str) -> HttpResponse:
    """The open pixel: always a transparent GIF (a bad token records nothing)."""
    message_opened(token=token)
    return HttpResponse(PIXEL, content_type="image/gif")


@public_view
@never_cache
def track_click(request: HttpRequest, token: str) -> HttpResponse:
    """Record the click and redirect to the link, which must be one of the message's own template."""
    try:
        target = message_clicked(token=token)
    except ApplicationError:
        raise Http404 from None
    return HttpResponseRedirect(target)


@public_view
@csrf_exempt  # RFC 8058: the mail client POSTs "List-Unsubscribe=One-Click" without any token of ours
@never_cache
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET: a page in the customer's language with one button. POST (the button, or the mail client's
    one-click POST): withdraw the consent for this channel and purpose, the message as proof."""
    try:
        message = message_from_token(token, salt=SALT_UNSUBSCRIBE)
    except ApplicationError:
        raise Http404 from None
    with translation.override(message.language or message.customer.language):
        if request.method == "POST":
            one_click = request.POST.get("List-Unsubscribe") == "One-Click"
            # An anonymised record refuses ledger entries: nothing is sent to it any more anyway.
            with contextlib.suppress(ApplicationError):
                message_unsubscribe(token=token, ip_address=request.META.get("REMOTE_ADDR"),
                                    user_agent=request.headers.get("User-Agent", ""), one_click=one_click)  # fmt: skip
            return render(request, "campaigns/tracking/unsubscribe.html", {"message": message, "done": True})
        return render(request, "campaigns/tracking/unsubscribe.html", {"message": message, "done": False})
