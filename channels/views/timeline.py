"""The 360 timeline (panel, filter chips, infinite scroll) and the forms that log a call, a visit or a note.

Thin shells: ``channels.selectors`` reads, ``channels.services.visits`` writes. The panel's first page
is rendered inside the 360 page (``timeline_panel_context``); ``timeline`` serves the same body for the
filter chips (htmx), the next pages (``before`` cursor, htmx ``revealed``) and a full page without JS.
"""

from __future__ import annotations

import functools
import re
from html import escape as html_escape
from urllib.parse import urlencode

from django.contrib import messages
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import formats, timezone
from django.utils.dateformat import format as date_format
from django.utils.safestring import mark_safe
from django.utils.text import Truncator
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
from crm.pickers import PICKER_RESULTS
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


@functools.cache
def chip_icon(name: str, size: int = 12) -> str:
    """A heroicon's inline SVG, rendered once per process (the chips show the same eight on every page)."""
    return mark_safe(str(heroicon_outline(name, size=size)))  # noqa: S308 - the heroicons package's own SVG


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
    case_url = _url_maker(CASE_URL) if can_link_case else None
    conversation_makers = {channel: _url_maker(name) for channel, name in conversation_urls.items()}
    for entry in entries:
        entry.icon = KIND_ICONS.get(entry.kind) or CHANNEL_ICONS.get(entry.channel, "chat-bubble-left")
        # Bodies are sanitised when recorded; sanitising again on display also covers rows loaded in bulk.
        entry.safe_body = html_sanitise(entry.body) if entry.body else ""
        seconds = entry.duration_seconds
        entry.duration_text = f"{seconds // 60}:{seconds % 60:02d}" if seconds is not None else ""
        entry.case_url = case_url(entry.case_id) if entry.case_id and case_url else None
        conversation_url = conversation_makers.get(entry.channel) if entry.conversation_id else None
        entry.conversation_url = conversation_url(entry.conversation_id) if conversation_url else None


_PK_MARK = 987654321


def _url_maker(name: str):
    """``pk -> URL`` of a ``<int:pk>`` route, reversed once (not once per entry); None when it does not exist."""
    url = _url_or_none(name, _PK_MARK)
    if url is None or url.count(str(_PK_MARK)) != 1:
        return (lambda pk: _url_or_none(name, pk)) if url is not None else None
    before, after = url.split(str(_PK_MARK))
    return lambda pk: f"{before}{pk}{after}"


def _truncated(text: str, length: int) -> str:
    # What |truncatechars does, without building a Truncator for the (usual) text that fits.
    return text if len(text) <= length else Truncator(text).chars(length)


def _icon(name: str, size: int) -> str:
    return (f'<svg width="{size}" height="{size}" fill="none" stroke="currentColor" stroke-width="1.5" '
            f'aria-hidden="true"><use href="#tl-{name}"/></svg>')  # fmt: skip


_AGENT_ICON, _CLOCK_ICON, _COST_ICON, _STORE_ICON = (_icon(name, 12) for name in ("user", "clock", "banknotes",
                                                                                   "building-storefront"))  # fmt: skip


def escape(value) -> str:
    # django.utils.html.escape without its lazy-string wrapper (called ~15 times an entry).
    return html_escape(str(value))


_STRFTIME = {"d": "%d", "m": "%m", "Y": "%Y", "y": "%y", "H": "%H", "i": "%M", "s": "%S"}
_FORMAT_CHARS = re.compile(r"[A-Za-z\\]")


@functools.lru_cache(maxsize=32)
def _strftime_format(django_format: str) -> str | None:
    """The strftime equivalent of a Django date format made of d, m, Y, y, H, i, s and punctuation only
    (French "d/m/Y H:i"); None for anything else (English "m/d/Y P"), which goes through dateformat."""
    if any(char not in _STRFTIME for char in _FORMAT_CHARS.findall(django_format)):
        return None
    return "".join(_STRFTIME.get(char, char.replace("%", "%%")) for char in django_format)


def entries_html(entries, labels: dict) -> str:
    """The ``<li>`` of every entry, built in Python: the template loop with its lookups, filters and
    escaping cost about 1 ms an entry; this is a few microseconds. Same markup as before (the tests and
    the browser read its ``data-testid``), every value escaped, dates in the active time zone and locale."""
    datetime_format = formats.get_format("SHORT_DATETIME_FORMAT")
    strftime_format = _strftime_format(datetime_format)
    tz = timezone.get_current_timezone()
    duration_title, cost_title = escape(labels["duration"]), escape(labels["cost"])
    case_label, conversation_label = escape(labels["case"]), escape(labels["conversation"])
    show_body = escape(labels["show_body"])
    channel_labels, kind_labels, direction_labels = {}, {}, {}
    costs = {}
    parts = []
    add = parts.append
    for entry in entries:
        channel = channel_labels.get(entry.channel)
        if channel is None:
            channel = channel_labels[entry.channel] = escape(entry.get_channel_display())
        kind = kind_labels.get(entry.kind)
        if kind is None:
            kind = kind_labels[entry.kind] = escape(entry.get_kind_display())
        direction = direction_labels.get(entry.direction)
        if direction is None:
            direction = direction_labels[entry.direction] = escape(entry.get_direction_display())
        local = entry.occurred_at.astimezone(tz)  # what the |date filter shows: the active time zone
        shown = local.strftime(strftime_format) if strftime_format else date_format(local, datetime_format)
        add(f'<li class="border-bottom py-2 d-flex gap-2" data-testid="timeline-entry" data-interaction="{entry.id}" '
            f'data-channel="{escape(entry.channel)}" data-kind="{escape(entry.kind)}">'
            f'<span class="text-body-secondary flex-shrink-0 pt-1" title="{channel}" aria-hidden="true">'
            f"{_icon(entry.icon, 18)}</span>"
            f'<div class="flex-grow-1 small" style="min-width:0">'
            f'<div class="d-flex flex-wrap justify-content-between gap-1"><span><strong>{kind}</strong> '
            f'<span class="text-body-secondary">· {channel} · {direction}</span>')  # fmt: skip
        if entry.outcome:
            add(f' <span class="badge text-bg-light border" data-testid="entry-outcome">{escape(entry.outcome)}</span>')
        add(f'</span><time class="text-body-secondary text-nowrap" datetime="{local.isoformat()}">'
            f"{escape(shown)}</time></div>")  # fmt: skip
        if entry.subject:
            add(f'<div class="fw-semibold text-truncate" data-testid="entry-subject">{escape(entry.subject)}</div>')
        if entry.summary:
            add(f'<div class="text-body-secondary" data-testid="entry-summary">'
                f"{escape(_truncated(entry.summary, 300))}</div>")  # fmt: skip
        add('<div class="text-body-secondary d-flex flex-wrap gap-2 mt-1">')
        agent_name = entry.agent_name
        if agent_name:
            add(f"<span>{_AGENT_ICON} {escape(agent_name)}</span>")
        if entry.duration_text:
            add(
                f'<span title="{duration_title}" data-testid="entry-duration">{_CLOCK_ICON} '
                f"{entry.duration_text}</span>"
            )
        if entry.cost:
            cost = costs.get(entry.cost)
            if cost is None:
                cost = costs[entry.cost] = escape(formats.localize(entry.cost))
            add(
                f'<span title="{cost_title}" data-testid="entry-cost">{_COST_ICON} {cost} '
                f"{escape(entry.currency)}</span>"
            )
        store = entry.metadata.get("store") if isinstance(entry.metadata, dict) else None
        if store:
            add(f"<span>{_STORE_ICON} {escape(store)}</span>")
        if entry.case_id:
            text = f"{case_label} {escape(entry.case_number)}"
            if entry.case_url:
                add(f'<a href="{escape(entry.case_url)}" data-testid="entry-case">{text}</a>')
            else:
                add(f'<span data-testid="entry-case">{text}</span>')
        if entry.conversation_id:
            text = conversation_label
            if entry.conversation_subject:
                text += f": {escape(_truncated(entry.conversation_subject, 40))}"
            if entry.conversation_url:
                add(f'<a href="{escape(entry.conversation_url)}" data-testid="entry-conversation">{text}</a>')
            else:
                add(f'<span data-testid="entry-conversation">{text}</span>')
        add("</div>")
        if entry.safe_body:
            add(
                f'<details class="mt-1" data-testid="entry-body"><summary class="text-primary">{show_body}'
                f'</summary><div class="border rounded p-2 mt-1 bg-body-tertiary text-break">{entry.safe_body}</div>'
                "</details>"
            )
        add("</div></li>\n")
    return "".join(parts)


def timeline_context(*, customer: Customer, channels: list[str], kinds: list[str], before: str = "") -> dict:
    """The context of the timeline body: one page of entries, the chips and the next page's URL."""
    page = interaction_timeline(customer=customer, channels=channels, kinds=kinds,
                                before=TimelineCursor.decode(before))  # fmt: skip
    conversation_urls = {channel: name for channel, name in CONVERSATION_URLS.items() if _linkable(name)}
    _decorate(page.entries, can_link_case=_linkable(CASE_URL), conversation_urls=conversation_urls)
    base = reverse("channels:timeline", kwargs={"pk": customer.pk})
    channel_chips = [
        {"value": value, "label": label, "icon": CHANNEL_ICONS.get(value), "icon_html": chip_icon(CHANNEL_ICONS[value]),
         "active": value in channels,
         "url": f"{base}?{_query(_toggle(channels, value), kinds)}"}
        for value, label in InteractionChannel.choices
    ]  # fmt: skip
    kind_chips = [
        {"value": value, "label": label, "active": value in kinds,
         "url": f"{base}?{_query(channels, _toggle(kinds, value))}"}
        for value, label in InteractionKind.choices
    ]  # fmt: skip
    # Translated once per page rather than once per entry (gettext in the loop was a measurable share).
    labels = {
        "duration": _("Duration"),
        "cost": _("Cost of this contact"),
        "show_body": _("Show the full text"),
        "conversation": _("Conversation"),
        "case": _("Case"),
    }  # fmt: skip
    return {
        "customer": customer,
        "entries": page.entries,
        "entries_html": mark_safe(entries_html(page.entries, labels)),  # noqa: S308 - every value escaped there
        "next_url": f"{base}?{_query(channels, kinds, page.next_cursor)}" if page.next_cursor else None,
        "channel_chips": channel_chips,
        "kind_chips": kind_chips,
        "is_filtered": bool(channels or kinds),
        "clear_url": base,
        "is_continuation": bool(before),
        "labels": labels,
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
    return _form_page(request, form=form, customer=customer, title=_("Log a visit"), testid="visit-form",
                      template="channels/timeline/visit_form.html")  # fmt: skip


@staff_view(permission="channels.add_interaction")
def product_picker_hx(request: HttpRequest) -> HttpResponse:
    """The product picker's options: active products whose name or code contains every word typed."""
    q = (request.GET.get("q") or "").strip()[:100]
    products = Product.objects.filter(is_active=True)
    for word in q.split()[:4]:
        products = products.filter(Q(name__icontains=word) | Q(sku__icontains=word))
    found = list(products.order_by("name").values("sku", "name")[: PICKER_RESULTS + 1])
    items = [{"value": p["sku"], "label": f"{p['name']} ({p['sku']})"} for p in found[:PICKER_RESULTS]]
    context = {"items": items, "more": len(found) > PICKER_RESULTS, "q": q, "prefix": "product-option",
               "label": _("Products")}  # fmt: skip
    return render(request, "pickers/options.html", context)


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
