"""The header search: one box that finds a customer by whatever the agent typed.

``customer_search`` detects what the text is (email, phone in any format, account number, order
number, French postcode, or a name / company) and answers from an index for each kind, so every
lookup stays an index scan at a million customers (DESIGN.md section 4).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db import connection
from django.urls import reverse

from crm.errors import ApplicationError
from customers.choices import ContactKind, Stage
from customers.models import ContactPoint, Customer, Order, PostalAddress
from customers.normalise import FRENCH_POSTCODE, looks_like_phone, phone_display, phone_normalise

ACCOUNT_NUMBER = re.compile(r"^c-?\s*(\d{1,7})$", re.IGNORECASE)
BARE_DIGITS = re.compile(r"^\d{1,7}$")
ORDER_NUMBER = re.compile(r"^[\w./-]{3,40}$")
# Below this many characters a name search would match a large share of the table.
NAME_MIN_LENGTH = 2


@dataclass(frozen=True)
class SearchHit:
    """One customer found, with what an agent needs to recognise them in a dropdown."""

    pk: int
    account_number: str
    name: str
    email: str
    phone: str
    city: str
    stage: str
    stage_label: str
    matched: str  # email, phone, account, order, postcode or name

    @property
    def url(self) -> str:
        return reverse("customers:detail", kwargs={"pk": self.pk})


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _contact_ids(*, kinds: list[str], value: str, prefix: bool = False, limit: int) -> list[int]:
    lookup = {"value__startswith": value} if prefix else {"value": value}
    rows = ContactPoint.objects.filter(kind__in=kinds, **lookup).order_by("value", "customer_id")
    return list(rows.values_list("customer_id", flat=True)[:limit])


def _email_ids(query: str, limit: int) -> list[int]:
    value = query.strip().lower()
    exact = _contact_ids(kinds=[ContactKind.EMAIL], value=value, limit=limit)
    if len(exact) >= limit:
        return exact
    # A partial address ("jean.dupont@", "jean.dup") goes through the varchar_pattern_ops index.
    return exact + _contact_ids(kinds=[ContactKind.EMAIL], value=value, prefix=True, limit=limit)


def _phone_ids(query: str, limit: int) -> list[int]:
    try:
        e164 = phone_normalise(query).e164
    except ApplicationError:
        return []
    return _contact_ids(kinds=[ContactKind.PHONE, ContactKind.MOBILE], value=e164, limit=limit)


def _account_ids(digits: str, limit: int) -> list[int]:
    number = f"C-{int(digits):07d}"
    return list(Customer.objects.filter(account_number=number).values_list("pk", flat=True)[:limit])


def _order_ids(query: str, limit: int) -> list[int]:
    candidates = sorted({query, query.upper()})
    rows = Order.objects.filter(number__in=candidates).order_by("-placed_at")
    return list(rows.values_list("customer_id", flat=True)[:limit])


def _postcode_ids(postcode: str, limit: int) -> list[int]:
    rows = PostalAddress.objects.filter(postcode=postcode).order_by("-is_primary", "customer_id")
    return list(rows.values_list("customer_id", flat=True)[:limit])


RANKED_CANDIDATES = 2000


def _name_ids(query: str, limit: int) -> list[int]:
    """Names and companies, accent-folded on both sides, best match first.

    Every word must appear somewhere in the name (``LIKE '%word%'`` through the trigram index, in any
    order: "dupont jean" finds Jean Dupont); when that finds nothing, a word-similarity match
    (``<%``) tolerates a typo. Both rank by word similarity then similarity to the whole text.

    Ranking is what costs at 1M customers (a common fragment matches ~10,000 names), so at most
    ``RANKED_CANDIDATES`` matches are ranked: typing one more letter narrows them (docs/benchmarks.md).
    """
    words = [word for word in query.split() if word]
    if not words:
        return []
    live = "c.merged_into_id IS NULL AND c.anonymised_at IS NULL"
    with connection.cursor() as cursor:
        # The whole name as typed first, through the b-tree on search_name: these rank first anyway, and
        # a common full name ("Jean Martin") has enough of them that the ranked trigram scan is not needed.
        cursor.execute(
            f"SELECT c.id FROM customers_customer c WHERE c.search_name = relais_fold(%s) AND {live} "  # noqa: S608
            "ORDER BY c.id LIMIT %s",
            [" ".join(words), limit],
        )
        exact = [row[0] for row in cursor.fetchall()]
    if len(exact) >= limit:
        return exact
    likes = " AND ".join("c.search_name LIKE '%%' || relais_fold(%s) || '%%'" for _ in words)
    rank = "word_similarity(relais_fold(%s), c.search_name) DESC, similarity(relais_fold(%s), c.search_name) DESC, c.id"
    with connection.cursor() as cursor:
        cursor.execute(
            # Only constant fragments are interpolated; what the agent typed is always a bound parameter.
            f"SELECT c.id FROM (SELECT c.id, c.search_name FROM customers_customer c WHERE {likes} AND {live} "  # noqa: S608
            f"LIMIT {RANKED_CANDIDATES}) c ORDER BY {rank} LIMIT %s",
            [*(_like_escape(word) for word in words), query, query, limit],
        )
        ids = [row[0] for row in cursor.fetchall()]
        if not ids and len(query) >= 3:
            cursor.execute(
                f"SELECT c.id FROM (SELECT c.id, c.search_name FROM customers_customer c "  # noqa: S608
                f"WHERE relais_fold(%s) <%% c.search_name AND {live} LIMIT {RANKED_CANDIDATES}) c "
                f"ORDER BY {rank} LIMIT %s",
                [query, query, query, limit],
            )
            ids += [row[0] for row in cursor.fetchall()]
    return exact + [pk for pk in ids if pk not in exact]


def _candidates(query: str, limit: int) -> list[tuple[int, str]]:
    """(customer id, what matched) in the order they should be shown, duplicates included."""
    found: list[tuple[int, str]] = []

    def add(ids: list[int], matched: str) -> None:
        found.extend((pk, matched) for pk in ids)

    compact = query.replace(" ", "")
    if "@" in query:
        add(_email_ids(query, limit), "email")
        return found
    account = ACCOUNT_NUMBER.match(compact)
    if account:
        add(_account_ids(account.group(1), limit), "account")
    if BARE_DIGITS.match(compact):
        add(_account_ids(compact, limit), "account")
    if FRENCH_POSTCODE.match(compact) and len(query.strip()) == 5:
        add(_postcode_ids(compact, limit), "postcode")
    if looks_like_phone(query):
        add(_phone_ids(query, limit), "phone")
    if ORDER_NUMBER.match(query) and any(ch.isdigit() for ch in query):
        add(_order_ids(query, limit), "order")
    # An exact identifier that matched is the answer; a trigram scan for "C-0012345" or "CMD-…" as a
    # name would only add cost (and noise).
    if not found and not re.fullmatch(r"[\d\s+().-]*", query) and len(query) >= NAME_MIN_LENGTH:
        add(_name_ids(query, limit), "name")
    elif not found and "." in query:
        add(_email_ids(query, limit), "email")
    return found


# What a hit shows, in one raw query: the ORM compiled the same annotated query in more time than
# PostgreSQL took to run it (~3 ms of a 6 ms account-number search).
HYDRATE_SQL = """
SELECT c.id, c.account_number, c.kind, c.given_name, c.family_name, c.company_name, c.stage, c.merged_into_id,
       c.anonymised_at,
       (SELECT p.value FROM customers_contactpoint p WHERE p.customer_id = c.id AND p.kind = %(email)s
        ORDER BY p.is_primary DESC, p.id LIMIT 1) AS primary_email,
       (SELECT p.value FROM customers_contactpoint p WHERE p.customer_id = c.id AND p.kind IN (%(mobile)s, %(phone)s)
        ORDER BY p.is_primary DESC, p.kind DESC, p.id LIMIT 1) AS primary_phone,
       (SELECT a.city FROM customers_postaladdress a WHERE a.customer_id = c.id
        ORDER BY a.is_primary DESC, a.valid_from DESC, a.id LIMIT 1) AS primary_city
FROM customers_customer c WHERE c.id = ANY(%(ids)s)
"""


def _hydrate(ids: list[int]) -> dict[int, Customer]:
    if not ids:
        return {}
    rows = Customer.objects.raw(
        HYDRATE_SQL,
        {"ids": list(ids), "email": ContactKind.EMAIL, "mobile": ContactKind.MOBILE, "phone": ContactKind.PHONE},
    )
    return {customer.pk: customer for customer in rows}


def _survivors(customers: dict[int, Customer]) -> dict[int, int]:
    """Map each merged-away customer id to its survivor's id (merges are rare: one query per chain)."""
    mapping = {}
    for customer in customers.values():
        pk, seen = customer.pk, set()
        merged_into = customer.merged_into_id
        while merged_into is not None and pk not in seen:
            seen.add(pk)
            pk = merged_into
            merged_into = Customer.objects.filter(pk=pk).values_list("merged_into_id", flat=True).first()
        mapping[customer.pk] = pk
    return mapping


def customer_search(*, query: str, limit: int = 10) -> list[SearchHit]:
    """Customers matching ``query``, best match first, at most ``limit``; only live customers.

    Exact identifiers (email, phone, account number, order number, postcode) come before name
    matches; a merged-away customer found through an old identifier is replaced by its survivor.
    """
    query = " ".join((query or "").split())[:200]
    if not query:
        return []
    candidates = _candidates(query, limit)
    ordered: list[tuple[int, str]] = []
    seen: set[int] = set()
    for pk, matched in candidates:
        if pk not in seen:
            seen.add(pk)
            ordered.append((pk, matched))
    customers = _hydrate([pk for pk, _ in ordered])
    survivors = _survivors({pk: c for pk, c in customers.items() if c.merged_into_id is not None})
    missing = {pk for pk in survivors.values() if pk not in customers}
    if missing:
        customers.update(_hydrate(list(missing)))
    hits: list[SearchHit] = []
    shown: set[int] = set()
    stages = dict(Stage.choices)
    for pk, matched in ordered:
        customer = customers.get(survivors.get(pk, pk))
        if customer is None or not customer.is_live or customer.pk in shown:
            continue
        shown.add(customer.pk)
        hits.append(
            SearchHit(
                pk=customer.pk,
                account_number=customer.account_number,
                name=customer.display_name,
                email=customer.primary_email or "",
                phone=phone_display(customer.primary_phone) if customer.primary_phone else "",
                city=customer.primary_city or "",
                stage=customer.stage,
                stage_label=str(stages.get(customer.stage, customer.stage)),
                matched=matched,
            )
        )
        if len(hits) >= limit:
            break
    return hits
