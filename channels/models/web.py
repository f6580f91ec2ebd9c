"""Web events (lean, high volume) and the link from an anonymous visitor id to a customer."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from channels.choices import WebEventType
from customers.models import Customer


class WebEvent(models.Model):
    """One page view, product view, cart event, form submit or click. Written in bulk (COPY/INSERT),
    never through the ORM one by one; summarised per session onto the timeline."""

    id = models.BigAutoField(primary_key=True)
    # No single-column indexes on the two keys: web_event_visitor (site first) and web_event_customer
    # serve their lookups, and every index costs on this write-heavy table.
    site = models.ForeignKey("channels.Site", on_delete=models.PROTECT, related_name="+", db_index=False)
    visitor_id = models.CharField(max_length=64)
    session_id = models.CharField(max_length=64)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                 db_index=False)  # fmt: skip
    event_type = models.CharField(max_length=20, choices=WebEventType.choices)
    occurred_at = models.DateTimeField()
    url = models.CharField(max_length=1000, blank=True)
    title = models.CharField(max_length=300, blank=True)
    product_sku = models.CharField(max_length=64, blank=True)
    properties = models.JSONField(default=dict, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("web event")
        verbose_name_plural = _("web events")
        indexes = [
            models.Index(
                fields=["customer", "occurred_at"], name="web_event_customer", condition=Q(customer__isnull=False)
            ),  # fmt: skip
            models.Index(fields=["site", "visitor_id", "occurred_at"], name="web_event_visitor"),
            models.Index(fields=["session_id", "occurred_at"], name="web_event_session"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.url}"


class VisitorLink(models.Model):
    """This browser (visitor id on a site) belongs to this customer: learnt at login or form submit."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="visitor_links")
    site = models.ForeignKey("channels.Site", on_delete=models.CASCADE, related_name="+")
    visitor_id = models.CharField(max_length=64)
    via = models.CharField(max_length=20)  # login, form_submit, chat, callback, api
    linked_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("visitor link")
        verbose_name_plural = _("visitor links")
        constraints = [
            # A shared computer can be two customers' browser: unique per customer, as the schema rule wants.
            models.UniqueConstraint(fields=["customer", "site", "visitor_id"], name="visitor_link_unique"),
        ]
        indexes = [models.Index(fields=["site", "visitor_id"], name="visitor_link_visitor")]

    def __str__(self) -> str:
        return f"{self.visitor_id} -> {self.customer_id}"
