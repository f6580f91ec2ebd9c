"""Web events: bulk ingest from sites (track.js or a server), visitor stitching, session summaries.

Ingest validates each event in plain Python (a serializer per event would cost more than the write)
and writes the accepted ones with one ``COPY``. A visitor who signs in or submits a form with their
identity is stitched to the customer: their earlier anonymous events get the customer, and their
sessions become timeline entries. ``web_sessions_summarise`` turns each finished session of a known
customer into one ``web_session`` interaction (idempotent: a session that continues updates it).
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from channels.choices import Direction, InteractionChannel, InteractionKind, WebEventType
from channels.models import Interaction, Site, VisitorLink, WebEvent
from channels.services.interactions import channel_cost
from crm.errors import ApplicationError

MAX_EVENTS_PER_REQUEST = 500
PROPERTIES_MAX_BYTES = 2048
FUTURE_TOLERANCE = datetime.timedelta(minutes=5)
MAX_EVENT_AGE = datetime.timedelta(days=7)
SESSION_TIMEOUT = datetime.timedelta(minutes=30)
EVENT_TYPES = frozenset(WebEventType.values)
EVENT_FIELDS = frozenset(
    {"type", "visitor_id", "session_id", "occurred_at", "url", "title", "product_sku", "properties"}
)
IDENTITY_EVENT_TYPES = frozenset({WebEventType.LOGIN, WebEventType.FORM_SUBMIT})
EXACT_REASONS = frozenset({"email", "account_number", "external_id"})
COPY_COLUMNS = (
    "site_id", "visitor_id", "session_id", "customer_id", "event_type", "occurred_at", "url", "title",
    "product_sku", "properties", "received_at",
)  # fmt: skip
WATERMARK_KEY = "channels:web:summarised-up-to"
PRODUCT_NAMES_SHOWN = 3
SUMMARY_CHUNK = 5000  # sessions aggregated and written per statement


@dataclass
class IngestResult:
    """What ``web_events_ingest`` did: how many events were stored, which were refused and why."""

    accepted: int = 0
    rejected: list[dict] = field(default_factory=list)
    stitched_visitors: int = 0


def _error(code: str, message: str) -> list[dict[str, str]]:
    return [{"code": code, "message": message}]


def _text(value, name: str, errors: dict, *, required: bool, max_length: int) -> str:
    if value is None or value == "":
        if required:
            errors[name] = _error("required", _("This field is required."))
        return ""
    if not isinstance(value, str):
        errors[name] = _error("invalid", _("Must be a string."))
        return ""
    if len(value) > max_length:
        errors[name] = _error(
            "max_length", _("At most %(max)d characters (got %(got)d).") % {"max": max_length, "got": len(value)}
        )
    elif not _storable(value):
        errors[name] = _error("invalid", _("Contains characters that cannot be stored (NUL or a lone surrogate)."))
    return value


def _storable(text: str) -> bool:
    """PostgreSQL text refuses NUL, and UTF-8 has no lone surrogates (JSON escapes can carry both)."""
    if text.isascii():
        return "\x00" not in text
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return "\x00" not in text


def _event_clean(event, now: datetime.datetime) -> tuple[tuple | None, dict]:
    """One event as a row for COPY (customer column still empty), or the errors that refuse it."""
    if not isinstance(event, dict):
        return None, {"non_field_errors": _error("invalid", _("Each event must be a JSON object."))}
    errors: dict = {}
    unknown = event.keys() - EVENT_FIELDS
    if unknown:
        errors["non_field_errors"] = _error(
            "unknown_field", _("Unknown fields: %(fields)s.") % {"fields": ", ".join(sorted(map(str, unknown)))}
        )
    event_type = event.get("type")
    if event_type not in EVENT_TYPES:
        errors["type"] = _error(
            "invalid_choice", _("Unknown event type; expected one of: %(types)s.") % {"types": ", ".join(EVENT_TYPES)}
        )
    visitor_id = _text(event.get("visitor_id"), "visitor_id", errors, required=True, max_length=64)
    session_id = _text(event.get("session_id"), "session_id", errors, required=True, max_length=64)
    url = _text(event.get("url"), "url", errors, required=False, max_length=1000)
    title = _text(event.get("title"), "title", errors, required=False, max_length=300)
    sku = _text(event.get("product_sku"), "product_sku", errors, required=False, max_length=64)
    occurred_at = None
    raw_when = event.get("occurred_at")
    if raw_when is None:
        errors["occurred_at"] = _error("required", _("This field is required."))
    else:
        try:
            occurred_at = datetime.datetime.fromisoformat(raw_when) if isinstance(raw_when, str) else None
        except ValueError:
            occurred_at = None
        if occurred_at is None:
            errors["occurred_at"] = _error("invalid", _("Give an ISO 8601 date and time, e.g. 2026-05-04T10:15:00Z."))
        else:
            if occurred_at.tzinfo is None:
                occurred_at = occurred_at.replace(tzinfo=datetime.UTC)
            if occurred_at > now + FUTURE_TOLERANCE:
                errors["occurred_at"] = _error("future", _("More than 5 minutes in the future."))
            elif occurred_at < now - MAX_EVENT_AGE:
                errors["occurred_at"] = _error("too_old", _("Older than 7 days."))
    properties = event.get("properties")
    properties_json = "{}"
    if properties is not None:
        if not isinstance(properties, dict):
            errors["properties"] = _error("invalid", _("Must be a JSON object."))
        else:
            properties_json = json.dumps(properties, ensure_ascii=False, separators=(",", ":"))
            if "\\u0000" in properties_json or not _storable(properties_json):
                errors["properties"] = _error(
                    "invalid", _("Contains characters that cannot be stored (NUL or a lone surrogate).")
                )
            elif len(properties_json.encode()) > PROPERTIES_MAX_BYTES:
                errors["properties"] = _error(
                    "too_large", _("At most %(max)d bytes of JSON.") % {"max": PROPERTIES_MAX_BYTES}
                )
    if errors:
        return None, errors
    return (visitor_id, session_id, event_type, occurred_at, url, title, sku, properties_json), {}


def web_events_payload_events(payload) -> list:
    """The list of events of a request body, or ``ApplicationError`` if the request itself is malformed."""
    if not isinstance(payload, dict):
        raise ApplicationError("malformed", _('The body must be a JSON object with an "events" list.'))
    events = payload.get("events")
    if not isinstance(events, list):
        raise ApplicationError("required", _("Give the events as a JSON list."), field="events")
    if not events:
        raise ApplicationError("empty", _("The events list is empty."), field="events")
    if len(events) > MAX_EVENTS_PER_REQUEST:
        raise ApplicationError(
            "too_many",
            _("At most %(max)d events per request (got %(got)d); split the batch.")
            % {"max": MAX_EVENTS_PER_REQUEST, "got": len(events)},
            field="events",
        )
    return events


def _linked_customers(site: Site, visitor_ids: set[str]) -> dict[str, int]:
    """visitor id -> customer id (the latest link when a shared browser belongs to several people)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT ON (visitor_id) visitor_id, customer_id FROM channels_visitorlink "
            "WHERE site_id = %s AND visitor_id = ANY(%s) ORDER BY visitor_id, linked_at DESC, id DESC",
            [site.pk, list(visitor_ids)],
        )
        return dict(cursor.fetchall())


def _copy_events(rows: list[tuple]) -> None:
    statement = f"COPY channels_webevent ({', '.join(COPY_COLUMNS)}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)


def _identity_of(properties: dict) -> dict:
    """The identity fields an identify / form event carries, as identity_resolve arguments."""
    found = {}
    email = properties.get("customer_email")
    if isinstance(email, str) and email.strip():
        found["email"] = email
    account = properties.get("customer_account")
    if isinstance(account, str) and account.strip():
        found["account_number"] = account
    external_id, source = properties.get("customer_external_id"), properties.get("customer_external_source")
    if isinstance(external_id, str) and isinstance(source, str) and external_id.strip() and source.strip():
        found["external_id"] = (source, external_id)
    return found


def web_customer_identify(**identity):
    """The customer these identity fields name exactly (email, account number or external id), else None.

    Fuzzy matches are never used to stitch a browser to a person.
    """
    from customers.services.identity import identity_resolve

    try:
        result = identity_resolve(**identity)
    except ApplicationError:
        return None  # an email or phone that cannot be one: nothing to stitch
    if result.match is None or not EXACT_REASONS.intersection(result.reasons):
        return None
    return result.match


@transaction.atomic
def web_events_ingest(*, site: Site, events: list, now: datetime.datetime | None = None) -> IngestResult:
    """Store the valid events of one batch with one COPY; report the refused ones by index.

    Preconditions: the caller authenticated ``site`` (active) and checked the batch's shape with
    ``web_events_payload_events``. Events of a visitor already linked to a customer get that customer.
    A ``login`` or ``form_submit`` event whose properties carry ``customer_email``,
    ``customer_account`` or ``customer_external_id`` + ``customer_external_source`` that match one
    customer exactly stitches the visitor (``visitor_stitch``). One transaction: the batch is stored
    whole or not at all.
    """
    now = now or timezone.now()
    result = IngestResult()
    rows: list[tuple] = []
    for index, event in enumerate(events):
        row, errors = _event_clean(event, now)
        if errors:
            result.rejected.append({"index": index, "errors": errors})
        else:
            rows.append(row)
    if not rows:
        return result
    with connection.cursor() as cursor:
        # Analytics, not money: a crash may lose the last fraction of a second of events, and in exchange
        # a batch does not wait for its WAL flush (the commit no longer waits on the disk).
        cursor.execute("SET LOCAL synchronous_commit = off")
    links = _linked_customers(site, {row[0] for row in rows})
    identities: dict[tuple[str, str], dict] = {}
    copy_rows = []
    for visitor_id, session_id, event_type, occurred_at, url, title, sku, properties_json in rows:
        copy_rows.append((site.pk, visitor_id, session_id, links.get(visitor_id), event_type, occurred_at, url,
                          title, sku, properties_json, now))  # fmt: skip
        if event_type in IDENTITY_EVENT_TYPES and "customer_" in properties_json:
            identity = _identity_of(json.loads(properties_json))
            if identity:
                identities.setdefault((visitor_id, event_type), identity)
    _copy_events(copy_rows)
    result.accepted = len(copy_rows)
    for (visitor_id, event_type), identity in identities.items():
        customer = web_customer_identify(**identity)
        if customer is not None:
            visitor_stitch(site=site, visitor_id=visitor_id, customer=customer, via=event_type)
            result.stitched_visitors += 1
    return result


@transaction.atomic
def visitor_stitch(*, site: Site, visitor_id: str, customer, via: str) -> int:
    """Link a browser (``visitor_id`` on ``site``) to ``customer``; return how many events it claimed.

    Creates the ``VisitorLink`` (idempotent), gives the customer every event of that visitor that has
    none yet (one set-based UPDATE: another person's events on a shared browser stay theirs), and
    summarises the visitor's sessions so they appear on the customer's timeline. ``via`` says how the
    visitor was identified (login, form_submit, chat, callback, api); a link only claimed (``CLAIMED_VIA``)
    takes the ``via`` of a later confirmation. Used by the chat and call-back widget and the portal too.
    """
    link, created = VisitorLink.objects.get_or_create(
        customer=customer, site=site, visitor_id=visitor_id, defaults={"via": via}
    )
    if not created and link.via in CLAIMED_VIA and via not in CLAIMED_VIA:
        # Something that speaks for itself confirms a link a browser only claimed.
        VisitorLink.objects.filter(pk=link.pk).update(via=via)
    claimed = WebEvent.objects.filter(site=site, visitor_id=visitor_id, customer__isnull=True).update(customer=customer)
    sessions = list(
        WebEvent.objects.filter(site=site, visitor_id=visitor_id, customer=customer)
        .values_list("session_id", flat=True)
        .distinct()
    )
    if sessions:
        web_sessions_summarise(session_ids=sessions, include_unfinished=True)
    return claimed


# -- Session summaries ------------------------------------------------------------------------------

# One pass over the sessions' events (web_event_session index): a row per (session, customer) group,
# with the session's last event over every group of it (an anonymous start counts for "finished").
SESSION_AGGREGATE_SQL = """
SELECT * FROM (
    SELECT e.site_id, e.session_id, e.customer_id, min(e.occurred_at), max(e.occurred_at), count(*),
           count(*) FILTER (WHERE e.event_type = 'page_view'),
           (array_agg(e.url ORDER BY e.occurred_at, e.id) FILTER (WHERE e.url <> ''))[1],
           (array_agg(e.url ORDER BY e.occurred_at DESC, e.id DESC) FILTER (WHERE e.url <> ''))[1],
           array_agg(e.product_sku ORDER BY e.occurred_at, e.id)
               FILTER (WHERE e.event_type = 'product_view' AND e.product_sku <> ''),
           array_agg(e.product_sku ORDER BY e.occurred_at, e.id)
               FILTER (WHERE e.event_type = 'cart_add' AND e.product_sku <> ''),
           count(*) FILTER (WHERE e.event_type = 'cart_add'),
           count(*) FILTER (WHERE e.event_type = 'cart_abandon'),
           count(*) FILTER (WHERE e.event_type = 'form_submit'),
           bool_or(e.event_type = 'login'),
           max(max(e.occurred_at)) OVER (PARTITION BY e.session_id),
           array_agg(e.id) FILTER (WHERE e.event_type = 'form_submit')
    FROM channels_webevent e
    WHERE e.session_id = ANY(%(sessions)s)
    GROUP BY e.site_id, e.session_id, e.customer_id
) grouped
WHERE customer_id IS NOT NULL
"""

SESSION_INSERT_SQL = """
INSERT INTO channels_interaction (customer_id, channel, direction, kind, occurred_at, subject, summary, body,
                                  outcome, duration_seconds, cost, currency, external_id, metadata, created_at)
SELECT v.customer_id, 'web', 'inbound', 'web_session', v.occurred_at, %(subject)s, v.summary, '', '',
       v.duration, %(cost)s, %(currency)s, v.external_id, v.metadata, now()
FROM unnest(%(customers)s::bigint[], %(occurred)s::timestamptz[], %(summaries)s::text[], %(durations)s::int[],
            %(external_ids)s::text[], %(metadata)s::jsonb[])
     AS v(customer_id, occurred_at, summary, duration, external_id, metadata)
"""

# Rows whose content did not change are left alone: a second run writes nothing.
SESSION_UPDATE_SQL = """
UPDATE channels_interaction i
SET occurred_at = v.occurred_at, summary = v.summary, duration_seconds = v.duration, metadata = v.metadata
FROM unnest(%(ids)s::bigint[], %(occurred)s::timestamptz[], %(summaries)s::text[], %(durations)s::int[],
            %(metadata)s::jsonb[]) AS v(id, occurred_at, summary, duration, metadata)
WHERE i.id = v.id
  AND (i.occurred_at, i.summary, i.duration_seconds, i.metadata)
      IS DISTINCT FROM (v.occurred_at, v.summary, v.duration, v.metadata)
"""


@dataclass
class SummariseResult:
    created: int = 0
    updated: int = 0
    forms: int = 0
    pending: int = 0


def _path(url: str) -> str:
    parts = urlsplit(url or "")
    return parts.path or url or ""


def _session_summary(*, pages: int, products: list[str], cart_items: int, abandoned: bool, forms: int) -> str:
    parts = [
        ngettext("Visited the site: %(count)d page", "Visited the site: %(count)d pages", pages) % {"count": pages}
    ]
    if products:
        shown = ", ".join(products[:PRODUCT_NAMES_SHOWN])
        if len(products) > PRODUCT_NAMES_SHOWN:
            more = len(products) - PRODUCT_NAMES_SHOWN
            shown = ngettext("%(names)s and %(more)d more", "%(names)s and %(more)d more", more) % {
                "names": shown, "more": more}  # fmt: skip
        parts.append(_("viewed %(products)s") % {"products": shown})
    summary = ", ".join(parts)
    if cart_items:
        if abandoned:
            summary += "; " + ngettext("abandoned cart (%(count)d item)", "abandoned cart (%(count)d items)",
                                       cart_items) % {"count": cart_items}  # fmt: skip
        else:
            summary += "; " + ngettext("added %(count)d item to the cart", "added %(count)d items to the cart",
                                       cart_items) % {"count": cart_items}  # fmt: skip
    if forms:
        summary += "; " + ngettext("submitted %(count)d form", "submitted %(count)d forms", forms) % {"count": forms}
    return summary


def _product_names(skus: set[str]) -> dict[str, str]:
    from customers.models import Product

    return dict(Product.objects.filter(sku__in=skus).values_list("sku", "name")) if skus else {}


@transaction.atomic
def web_sessions_summarise(
    *,
    session_ids: list[str] | None = None,
    since_id: int | None = None,
    include_unfinished: bool = False,
    now: datetime.datetime | None = None,
) -> SummariseResult:
    """Write one ``web_session`` interaction per session of a known customer; return the counts.

    Sessions come from ``session_ids``, or else from the events stored after ``since_id`` (by default
    the watermark the previous run left in the cache; losing it only makes the next run re-read more:
    the writes are idempotent). A session is finished when its last event is 30 minutes old; finished
    sessions get their entry, created or updated (matched on channel web, kind web_session, customer
    and ``external_id`` = session id). Unfinished ones wait for a later run, unless
    ``include_unfinished``. Form submits of the same sessions become ``form`` interactions (once per
    event). The events are aggregated in SQL, one row per session; nothing loops over events.
    """
    now = now or timezone.now()
    result = SummariseResult()
    advance_watermark_to = None
    with connection.cursor() as cursor:
        if session_ids is None:
            if since_id is None:
                since_id = cache.get(WATERMARK_KEY, 0)
            cursor.execute("SELECT coalesce(max(id), 0) FROM channels_webevent")
            upto = cursor.fetchone()[0]
            cursor.execute(
                "SELECT session_id, min(id) FROM channels_webevent WHERE id > %s AND id <= %s "
                "AND customer_id IS NOT NULL GROUP BY session_id",
                [since_id, upto],
            )
            first_new_id = dict(cursor.fetchall())
            session_ids = list(first_new_id)
            advance_watermark_to = upto
        if not session_ids:
            if advance_watermark_to is not None:
                transaction.on_commit(lambda: cache.set(WATERMARK_KEY, advance_watermark_to, None))
            return result

    finished_before = now - SESSION_TIMEOUT
    for offset in range(0, len(session_ids), SUMMARY_CHUNK):
        with connection.cursor() as cursor:
            cursor.execute(SESSION_AGGREGATE_SQL, {"sessions": session_ids[offset : offset + SUMMARY_CHUNK]})
            aggregates = cursor.fetchall()
        sessions = []
        for row in aggregates:
            if not include_unfinished and row[15] > finished_before:
                result.pending += 1
                if advance_watermark_to is not None:
                    advance_watermark_to = min(advance_watermark_to, first_new_id[row[1]] - 1)
            else:
                sessions.append(row)
        created, updated = _sessions_write(sessions)
        result.created += created
        result.updated += updated
        result.forms += _forms_record([form_id for row in sessions for form_id in row[16] or []])
    if advance_watermark_to is not None:
        mark = advance_watermark_to
        transaction.on_commit(lambda: cache.set(WATERMARK_KEY, mark, None))
    return result


def _sessions_write(sessions: list[tuple]) -> tuple[int, int]:
    """Create or update the timeline entries of these aggregated sessions; return (created, updated)."""
    if not sessions:
        return 0, 0
    created = updated = 0
    names = _product_names({sku for row in sessions for sku in (row[9] or []) + (row[10] or [])})
    cost, currency = channel_cost(InteractionChannel.WEB)
    existing = {
        (customer_id, external_id): pk
        for pk, customer_id, external_id in Interaction.objects.filter(
            channel=InteractionChannel.WEB, kind=InteractionKind.WEB_SESSION,
            external_id__in=[row[1] for row in sessions],
        ).exclude(external_id="")  # lets PostgreSQL use the partial index on (channel, external_id)
        .values_list("pk", "customer_id", "external_id")
    }  # fmt: skip
    new: dict[str, list] = {"customers": [], "occurred": [], "summaries": [], "durations": [], "external_ids": [],
                            "metadata": []}  # fmt: skip
    changed: dict[str, list] = {"ids": [], "occurred": [], "summaries": [], "durations": [], "metadata": []}
    for (site_id, session_id, customer_id, started, ended, events, pages, entry_url, exit_url, viewed, carted,
         cart_adds, abandons, forms, logged_in, _last, _form_ids) in sessions:  # fmt: skip
        viewed, carted = list(dict.fromkeys(viewed or [])), list(dict.fromkeys(carted or []))  # in viewing order
        duration = int((ended - started).total_seconds())
        metadata = json.dumps({
            "site_id": site_id, "session_id": session_id, "events": events, "pages": pages,
            "products_viewed": viewed, "cart_skus": carted, "cart_adds": cart_adds, "cart_abandons": abandons,
            "forms": forms, "signed_in": bool(logged_in), "duration_seconds": duration,
            "entry_url": entry_url or "", "exit_url": exit_url or "", "started_at": started.isoformat(),
            "ended_at": ended.isoformat(),
        })  # fmt: skip
        summary = _session_summary(pages=pages, products=[names.get(sku, sku) for sku in viewed],
                                   cart_items=len(carted) or cart_adds, abandoned=bool(abandons),
                                   forms=forms)  # fmt: skip
        pk = existing.get((customer_id, session_id))
        if pk is None:
            target = new
            target["customers"].append(customer_id)
            target["external_ids"].append(session_id)
        else:
            target = changed
            target["ids"].append(pk)
        target["occurred"].append(started)
        target["summaries"].append(summary)
        target["durations"].append(duration)
        target["metadata"].append(metadata)
    with connection.cursor() as cursor:
        if new["customers"]:
            cursor.execute(SESSION_INSERT_SQL, {**new, "subject": _("Web visit"), "cost": cost, "currency": currency})
            created = cursor.rowcount
        if changed["ids"]:
            cursor.execute(SESSION_UPDATE_SQL, changed)
            updated = cursor.rowcount
    return created, updated


def _forms_record(event_ids: list[int]) -> int:
    """A ``form`` interaction for each of these form submit events of known customers (once each)."""
    if not event_ids:
        return 0
    forms = list(
        WebEvent.objects.filter(id__in=event_ids, customer__isnull=False).values(
            "id", "customer_id", "occurred_at", "url", "title", "properties", "session_id"
        )
    )
    keys = [f"web-form:{form['id']}" for form in forms]
    done = set(
        Interaction.objects.filter(channel=InteractionChannel.WEB, external_id__in=keys)
        .exclude(external_id="")
        .values_list("external_id", flat=True)
    )
    created = []
    for form, key in zip(forms, keys, strict=True):
        if key in done:
            continue
        properties = form["properties"] or {}
        name = str(properties.get("form") or properties.get("form_name") or form["title"] or _path(form["url"]))
        fields = {k: v for k, v in properties.items() if not k.startswith("customer_")}
        created.append(Interaction(
            customer_id=form["customer_id"], channel=InteractionChannel.WEB, direction=Direction.INBOUND,
            kind=InteractionKind.FORM, occurred_at=form["occurred_at"],
            subject=(_("Form: %(name)s") % {"name": name})[:255],
            summary=_("Submitted the form “%(name)s” on %(page)s") % {"name": name, "page": _path(form["url"])},
            cost=0, external_id=key,
            metadata={"session_id": form["session_id"], "url": form["url"], "fields": fields},
        ))  # fmt: skip
    Interaction.objects.bulk_create(created)
    return len(created)


# -- Reads ------------------------------------------------------------------------------------------

# How a browser was linked to a customer. A login or form event is sent by the visitor's browser with
# the site's public key: the email it carries is the site's word relayed by anyone who can run a
# script, a claim. The site's server (the API), an agent who checked (a chat's "link"), the portal
# speak for themselves. The 360 page says "claimed, not verified" while every link is a claim.
CLAIMED_VIA = ("login", "form_submit")

WEB_ACTIVITY_SQL = """
SELECT max(occurred_at),
       count(*) FILTER (WHERE event_type = 'page_view' AND occurred_at >= %(since)s),
       count(DISTINCT session_id) FILTER (WHERE occurred_at >= %(since)s),
       array_agg(DISTINCT product_sku) FILTER (WHERE event_type = 'product_view' AND product_sku <> ''
                                                AND occurred_at >= %(since)s),
       array_agg(DISTINCT product_sku) FILTER (WHERE event_type = 'cart_add' AND product_sku <> ''
                                                AND occurred_at > coalesce(o.last_order, '-infinity')
                                                AND occurred_at >= %(since)s),
       (SELECT bool_and(via = ANY(%(claimed)s)) FROM channels_visitorlink WHERE customer_id = %(customer)s)
FROM channels_webevent
LEFT JOIN (SELECT max(placed_at) AS last_order FROM customers_order WHERE customer_id = %(customer)s) o ON true
WHERE customer_id = %(customer)s
GROUP BY o.last_order
"""


def web_activity(*, customer, days: int = 30) -> dict:
    """The customer's web activity for the 360 page: last visit, pages and visits in the last ``days``,
    products viewed, the open cart (items added since their last order), and ``claimed``: whether the
    visits are theirs only by the browser's word (every link came from a login or form event's email,
    see ``CLAIMED_VIA``). One aggregate query."""
    since = timezone.now() - datetime.timedelta(days=days)
    with connection.cursor() as cursor:
        cursor.execute(WEB_ACTIVITY_SQL, {"since": since, "customer": customer.pk, "claimed": list(CLAIMED_VIA)})
        row = cursor.fetchone()
    if row is None or row[0] is None:
        return {"last_visit": None, "pages": 0, "visits": 0, "products": [], "cart": [], "days": days,
                "claimed": False}  # fmt: skip
    viewed, cart = sorted(row[3] or []), sorted(row[4] or [])
    names = _product_names(set(viewed) | set(cart))
    return {
        "last_visit": row[0], "pages": row[1], "visits": row[2], "days": days, "claimed": bool(row[5]),
        "products": sorted(names.get(sku, sku) for sku in viewed), "cart": sorted(names.get(sku, sku) for sku in cart),
    }  # fmt: skip


# -- Sites --------------------------------------------------------------------------------------------


def site_for_key(key: str) -> Site | None:
    """The site of a public site key (active or not), or None."""
    if not key or not isinstance(key, str) or len(key) > 64:
        return None
    return Site.objects.filter(key=key).first()
