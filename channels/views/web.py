"""HTML views of the web area: the demo shop page that embeds track.js."""

from __future__ import annotations

from django.contrib.staticfiles import finders
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.clickjacking import xframe_options_exempt

from channels.demo_web import DEMO_SITE_KEY
from channels.models import Site
from channels.services.web import web_activity
from crm.access import public_view
from customers.models import Product

DEMO_PRODUCTS = 6


@public_view
@xframe_options_exempt
def web_demo(request: HttpRequest) -> HttpResponse:
    """A small shop: products with add-to-cart buttons and a sign-in form, measured by track.js."""
    site = Site.objects.filter(key=DEMO_SITE_KEY, is_active=True).first()
    products = list(Product.objects.filter(is_active=True).order_by("category", "name")[:DEMO_PRODUCTS])
    return render(request, "channels/web/demo.html", {
        "site": site,
        "products": products,
        "widget_available": finders.find("relais/widget.js") is not None,
        # ?consent=required shows how a site with a consent banner embeds track.js.
        "require_consent": request.GET.get("consent") == "required",
    })  # fmt: skip


def web_panel_context(*, customer, user) -> dict:
    """Context of the 360 page's "On the web" panel (one aggregate query)."""
    return {"web": web_activity(customer=customer)}
