"""API tokens of the signed-in staff member (the helper owning the API base completes this)."""

from django.http import HttpResponse

from crm.access import staff_view


@staff_view(permission="crm.use_api_tokens")
def api_tokens(request):
    return HttpResponse("")


@staff_view(permission="crm.use_api_tokens")
def api_token_revoke(request, pk):
    return HttpResponse("")
