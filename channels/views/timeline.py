"""The 360 timeline (panel, filter chips, infinite scroll) and the forms that log a call, a visit or a note.

Thin shells: ``channels.selectors`` reads, ``channels.services.visits`` writes. The panel's first page
is rendered inside the 360 page (``timeline_panel_context``); ``timeline`` serves the same body for the
filter chips (htmx), the next pages (``before`` cursor, htmx ``revealed``) and a full page without JS.
"""

from __future__ import annotations

import functools
from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from heroicons.templatetags.heroicons import heroicon_outline

from channels.choices import InteractionChannel, InteractionKind
from channels.composer import composer_actions_for
from channels.forms import CallLogForm, NoteForm, TimelineFilterForm, VisitForm
from channels.selectors import TimelineCursor, customer_cost_of_service, interaction_timeline
from channels.services import visits
from channels.services.interactions import html_sanitise
from crm.access import staff_view
from crm.errors import ApplicationError
from customers.access import customer_get_for_user, customer_survivor
from customers.forms import form_add_application_error
from customers.models import Customer, Product

CHANNEL_ICONS = {
    InteractionChannel.PHONE: "phone",
    InteractionChannel.EMAIL: "envelope",
    InteractionChannel.WEB: "globe-alt",
    InteractionChannel.FACE_TO_FACE: "building-storefront",
    InteractionChannel.POSTAL_MAIL: "envelope-open",
    InteractionChannel.SMS: "device-phone-mobile",
    InteractionChannel.CHAT: "chat-bubble-left-right",
    InteractionChannel.SOCIAL: "hashtag",
}
KIND_ICONS = {InteractionKind.NOTE: "pencil-square", InteractionKind.SURVEY: "face-smile"}
# Pages other areas provide; a timeline entry links to them once they exist.
CASE_URL = "channels:case_detail"
# A conversation opens on its channel's page: the email thread or the chat.
CONVERSATION_URLS = {InteractionChannel.EMAIL: "channels:email_thread", InteractionChannel.CHAT: "channels:chat_detail"}


# Icons are drawn once per page as SVG symbols and referenced by each entry (<use>): 50 entries with
# four inline heroicons each made the page 140 kB and most of its rendering time.
SPRITE_ICONS = sorted({*CHANNEL_ICONS.values(), *KIND_ICONS.values(), "chat-bubble-left", "user", "clock", "banknotes",
                       "building-storefront"})  # fmt: skip


@functools.cache
def icon_sprite() -> str:
    """Hidden ``<svg>`` holding one ``<symbol id="tl-<name>">`` per timeline icon (heroicons outline)."""
    symbols = []
    for name in SPRITE_ICONS:
        svg = str(heroicon_outline(name))
        inner = svg[svg.index(">") + 1 : svg.rindex("</svg>")]
        symbols.append(f'<symbol id="tl-{name}" viewBox="0 0 24 24">{inner}</symbol>')
    return '<svg xmlns="http://www.w3.org/2000/svg" class="d-none" aria-hidden="true">' + "".join(symbols) + "</svg>"


def _url_or_none(name: str, pk: int) -> str | None:
    try:
        return reverse(name, kwargs={"pk": pk})
    except NoReverseMatch:
        return None


def _linkable(name: str) -> bool:
    return _url_or_none(name, 1) is not None


def _query(channels: list[str], kinds: list[str], before: str = "") -> str:
    params = [("channel", c) for c in channels] + [("kind", k) for k in kinds]
    if before:
        params.append(("before", before))
    return urlencode(params)


def _toggle(values: list[str], value: str) -> list[str]:
    return [v for v in values if v != value] if value in values else [*values, value]


def _decorate(entries, *, can_link_case: bool, conversation_urls: dict[str, str]) -> None:
    """Add what the template shows and cannot compute: icon, safe body, duration text, links."""
    for entry in entries:
        entry.icon = KIND_ICONS.get(entry.kind) or CHANNEL_ICONS.get(entry.channel, "chat-bubble-left")
        # Bodies are sanitised when recorded; sanitising again on display also covers rows loaded in bulk.
        entry.safe_body = html_sanitise(entry.body) if entry.body else ""
        seconds = entry.duration_seconds
        entry.duration_text = f"{seconds // 60}:{seconds % 60:02d}" if seconds is not None else ""
        entry.case_url = _url_or_none(CASE_URL, entry.case_id) if entry.case_id and can_link_case else None
        conversation_url = conversation_urls.get(entry.channel) if entry.conversation_id else None
        entry.conversation_url = _url_or_none(conversation_url, entry.conversation_id) if conversation_url else None


def timeline_context(*, customer: Customer, channels: list[str], kinds: list[str], before: str = "") -> dict:
    """The context of the timeline body: one page of entries, the chips and the next page's URL."""
    page = interaction_timeline(customer=customer, channels=channels, kinds=kinds,
                                before=TimelineCursor.decode(before))  # fmt: skip
    conversation_urls = {channel: name for channel, name in CONVERSATION_URLS.items() if _linkable(name)}
    _decorate(page.entries, can_link_case=_linkable(CASE_URL), conversation_urls=conversation_urls)
    base = reverse("channels:timeline", kwargs={"pk": customer.pk})
    channel_chips = [
        {"value": value, "label": label, "icon": CHANNEL_ICONS.get(value), "active": value in channels,
         "url": f"{base}?{_query(_toggle(channels, value), kinds)}"}
        for value, label in InteractionChannel.choices
    ]  # fmt: skip
    kind_chips = [
        {"value": value, "label": label, "active": value in kinds,
         "url": f"{base}?{_query(channels, _toggle(kinds, value))}"}
        for value, label in InteractionKind.choices
    ]  # fmt: skip
    return {
        "customer": customer,
        "entries": page.entries,
        "next_url": f"{base}?{_query(channels, kinds, page.next_cursor)}" if page.next_cursor else None,
        "channel_chips": channel_chips,
        "kind_chips": kind_chips,
        "is_filtered": bool(channels or kinds),
        "clear_url": base,
        "is_continuation": bool(before),
        # Translated once per page rather than once per entry (gettext in the loop was a measurable share).
        "labels": {
            "duration": _("Duration"),
            "cost": _("Cost of this contact"),
            "show_body": _("Show the full text"),
            "conversation": _("Conversation"),
            "case": _("Case"),
        },  # fmt: skip
        "icon_sprite": mark_safe(icon_sprite()),  # noqa: S308 - built from the heroicons package's own SVG files
    }


def timeline_panel_context(*, customer: Customer, user) -> dict:
    """The 360 page's timeline panel: the composer actions and the first page, unfiltered."""
    return {
        "composer_actions": composer_actions_for(customer=customer, user=user),
        **timeline_context(customer=customer, channels=[], kinds=[]),
    }


def cost_panel_context(*, customer: Customer, user) -> dict:
    return {"cost": customer_cost_of_service(customer=customer)}


def _customer_for_log(request: HttpRequest, pk: int) -> Customer:
    customer = customer_get_for_user(user=request.user, pk=pk)
    if not customer.is_live:
        raise Http404(_("This customer was merged or anonymised; log the contact on the customer it became."))
    return customer


@staff_view(permission="channels.view_interaction")
def timeline(request: HttpRequest, pk: int) -> HttpResponse:
    """The timeline body (htmx: chips and next pages) or, without htmx, the full-page timeline."""
    customer = customer_get_for_user(user=request.user, pk=pk)
    if customer.merged_into_id is not None:
        return redirect(reverse("channels:timeline", kwargs={"pk": customer_survivor(customer).pk}))
    values = TimelineFilterForm(request.GET).values()
    context = timeline_context(customer=customer, channels=values["channels"], kinds=values["kinds"],
                               before=values["before"])  # fmt: skip
    if getattr(request, "htmx", False):
        template = "channels/timeline/entries.html" if values["before"] else "channels/timeline/body.html"
        return render(request, template, context)
    return render(request, "channels/timeline/page.html", context)


def _form_page(request, *, form, customer, title: str, testid: str, template="channels/timeline/form.html", **extra):
    context = {"form": form, "customer": customer, "title": title, "testid": testid, **extra}
    return render(request, template, context, status=400 if form.is_bound and form.errors else 200)


def _saved(request: HttpRequest, customer: Customer, message: str) -> HttpResponse:
    messages.success(request, message)
    return redirect(f"{customer.get_absolute_url()}#timeline")


@staff_view(permission="channels.add_interaction")
def call_log(request: HttpRequest, pk: int) -> HttpResponse:
    """Log an inbound or outbound phone call by hand (outcome, duration, reason, optional case)."""
    customer = _customer_for_log(request, pk)
    form = CallLogForm(request.POST or None, customer=customer)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        minutes = data.get("duration_minutes")
        try:
            visits.call_log(
                customer=customer, direction=data["direction"], reason=data["reason"], outcome=data["outcome"],
                duration_seconds=minutes * 60 if minutes is not None else None, notes=data.get("notes") or "",
                occurred_at=data["occurred_at"], case=data.get("case"), acting_user=request.user,
            )  # fmt: skip
        except ApplicationError as error:
            form_add_application_error(form, error)
        else:
            return _saved(request, customer, _("Call logged."))
    return _form_page(request, form=form, customer=customer, title=_("Log a call"), testid="call-log-form")


@staff_view(permission="channels.add_interaction")
def visit_log(request: HttpRequest, pk: int) -> HttpResponse:
    """Log a face-to-face visit (store, reason, products, outcome) with an optional follow-up task."""
    customer = _customer_for_log(request, pk)
    store = getattr(getattr(request.user, "agent_profile", None), "store", "") if request.method != "POST" else ""
    form = VisitForm(request.POST or None, customer=customer, initial={"store": store} if store else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        follow_up = None
        if data.get("follow_up_title"):
            follow_up = visits.FollowUpInput(title=data["follow_up_title"], due_at=data["follow_up_due_at"],
                                             assignee=data.get("follow_up_assignee"))  # fmt: skip
        try:
            visits.visit_record(
                customer=customer,
                data=visits.VisitInput(
                    store=data["store"], reason=data["reason"], outcome=data.get("outcome") or "",
                    notes=data.get("notes") or "", products=data["products"],
                    duration_minutes=data.get("duration_minutes"), occurred_at=data["occurred_at"],
                    case=data.get("case"), follow_up=follow_up,
                ),
                acting_user=request.user,
            )  # fmt: skip
        except ApplicationError as error:
            form_add_application_error(form, error)
        else:
            return _saved(request, customer, _("Visit logged."))
    products = Product.objects.filter(is_active=True).order_by("name").values("sku", "name")[:PRODUCT_SUGGESTIONS]
    return _form_page(request, form=form, customer=customer, title=_("Log a visit"), testid="visit-form",
                      template="channels/timeline/visit_form.html", products=products)  # fmt: skip


# Suggestions offered while typing a product code (the field accepts any existing SKU).
PRODUCT_SUGGESTIONS = 500


@staff_view(permission="channels.add_interaction")
def note_add(request: HttpRequest, pk: int) -> HttpResponse:
    """Add an internal note to the customer's timeline."""
    customer = _customer_for_log(request, pk)
    form = NoteForm(request.POST or None, customer=customer)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            visits.note_add(customer=customer, text=data["text"], subject=data.get("subject") or "",
                            channel=data["channel"], case=data.get("case"), acting_user=request.user)  # fmt: skip
        except ApplicationError as error:
            form_add_application_error(form, error)
        else:
            return _saved(request, customer, _("Note added."))
    return _form_page(request, form=form, customer=customer, title=_("Add a note"), testid="note-form")
