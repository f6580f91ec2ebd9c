"""Gathering the candidates the identity rule weighs: by exact identifiers and blocking keys, in bulk.

A candidate is found by any identifier the details carry — the source's external id, the account
number, the email, the phone — or by the folded name together with the birth date or the postcode
(``customers_name_postcode``, migrations 0006-0007). The same queries serve one inbound contact
(``identity_resolve``) and thousands of rows at once (``identity_resolve_many``, through ``unnest``
arrays), and ``rule.decide`` then weighs them: one rule for every path. Fuzzy name neighbours
(pg_trgm) are looked up for one contact only, to show an agent look-alikes; they never decide.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.utils.translation import gettext as _

from crm.errors import ApplicationError
from customers.models import Customer
from customers.normalise import email_normalise, fold, phone_normalise
from customers.services.identity.rule import Assessment, Decision, Evidence, Known, Outcome, decide

TRIGRAM_THRESHOLD = 0.45  # pg_trgm threshold for look-alikes shown without postcode/birth date
RESTRICTED_SIMILARITY = 0.3  # within one postcode or birth date the set is small: be generous
FUZZY_ROWS = 20
SEPARATOR = "\x1f"


@dataclass
class Candidate:
    customer: Customer
    confidence: float
    reasons: list[str] = field(default_factory=list)


@dataclass
class IdentityResult:
    """``match`` is set only when the rule found one customer; ``candidates`` are best first.

    ``outcome`` is ``match``, ``new`` or ``possible_duplicate`` (the caller creates a customer and
    records a duplicate pair with ``review`` for the people to look at).
    """

    match: Customer | None
    confidence: float
    reasons: list[str]
    candidates: list[Candidate]
    outcome: str = Outcome.NEW
    review: list[Customer] = field(default_factory=list)


def evidence_build(
    *,
    email: str | None = None,
    phone: str | None = None,
    account_number: str | None = None,
    external_id: tuple[str, str] | None = None,
    given_name: str | None = None,
    family_name: str | None = None,
    company_name: str | None = None,
    postcode: str | None = None,
    street: str | None = None,
    birth_date: datetime.date | None = None,
) -> Evidence:
    """Normalise what a caller typed into ``Evidence``; raises ``ApplicationError`` naming a bad email or phone."""
    normalised_email = normalised_phone = ""
    is_mobile = False
    if email and email.strip():
        try:
            normalised_email = email_normalise(email)
        except ApplicationError as error:
            error.field = "email"
            raise
    if phone and phone.strip():
        try:
            parsed = phone_normalise(phone, postcode=postcode)
        except ApplicationError as error:
            error.field = "phone"
            raise
        normalised_phone, is_mobile = parsed.e164, parsed.is_mobile
    if external_id is not None:
        source, value = (str(part or "").strip() for part in external_id)
        if not (source and value):
            raise ApplicationError("required", _("Give the source system and the external id."), field="external_id")
        external_id = (source, value)
    return Evidence(
        email=normalised_email,
        phone=normalised_phone,
        phone_is_mobile=is_mobile,
        account_number=(account_number or "").strip().upper(),
        external_id=external_id,
        given_name=_folded(given_name),
        family_name=_folded(family_name),
        company_name=_folded(company_name),
        birth_date=birth_date,
        postcode=(postcode or "").replace(" ", "").upper(),
        street=_folded(street),
    )


def _folded(text: str | None) -> str:
    return " ".join(fold(text or "").split())


def identity_resolve(
    *,
    email: str | None = None,
    phone: str | None = None,
    account_number: str | None = None,
    external_id: tuple[str, str] | None = None,
    given_name: str | None = None,
    family_name: str | None = None,
    company_name: str | None = None,
    postcode: str | None = None,
    street: str | None = None,
    birth_date: datetime.date | None = None,
    limit: int = 5,
) -> IdentityResult:
    """Find the live customer these details describe, by the identity rule; return an ``IdentityResult``.

    Read-only. Raises ``ApplicationError`` (with ``field``) for an email or phone that cannot be
    one. A customer merged away is followed to its survivor; anonymised customers are never
    returned. Look-alike names (pg_trgm) are added to ``candidates`` for people to see; they never
    change the outcome, which is exactly what ``identity_resolve_many`` decides for the same details.
    """
    evidence = evidence_build(
        email=email, phone=phone, account_number=account_number, external_id=external_id, given_name=given_name,
        family_name=family_name, company_name=company_name, postcode=postcode, street=street, birth_date=birth_date,
    )  # fmt: skip
    decision = identity_resolve_many([evidence])[0]
    shown = [a for a in decision.assessments if a.supports]
    seen = {a.known.id for a in decision.assessments}
    name = " ".join(part for part in (evidence.given_name, evidence.family_name, evidence.company_name) if part)
    if name and len(shown) < limit:
        from customers.services.identity.rule import assess

        lookalikes = [i for i in _fuzzy_hits(name, evidence.postcode, evidence.birth_date) if i not in seen]
        shown += [a for a in (assess(evidence, k) for k in _known(lookalikes).values()) if a.supports]
    shown.sort(key=lambda a: (a.tier or 99, not a.flagged, -a.confidence, a.known.id))
    shown = shown[: max(limit, 1)]
    customers = Customer.objects.in_bulk(
        [a.known.id for a in shown] + ([decision.customer_id] if decision.customer_id else [])
    )
    candidates = [Candidate(customer=customers[a.known.id], confidence=a.confidence, reasons=a.reasons) for a in shown]
    match = customers.get(decision.customer_id) if decision.outcome == Outcome.MATCH else None
    review = [customers[i] for i in decision.review_ids if i in customers]
    return IdentityResult(match=match, confidence=decision.confidence if match else 0.0,
                          reasons=decision.reasons if match else [], candidates=candidates,
                          outcome=decision.outcome, review=review)  # fmt: skip


def identity_resolve_many(evidence: Sequence[Evidence]) -> list[Decision]:
    """The rule's decision for each of many people at once, against the database as it is now.

    Two queries whatever the count (candidates by every identifier and blocking key through
    ``unnest`` arrays, then what is known of them), then ``rule.decide`` per row in Python. Rows are
    not compared with each other here (see ``identity_within_batch``).
    """
    if not evidence:
        return []
    hits = _blocked_hits(evidence)
    hit_ids = {customer_id for ids in hits.values() for customer_id, _ in ids}
    survivors = _survivors(hit_ids)
    known = _known(set(survivors.values()))
    # A tombstone's own identifiers (those the merge left on it) speak for its survivor.
    tombstones = _known({i for i, s in survivors.items() if i != s}, live_only=False)
    decisions = []
    for index, row in enumerate(evidence):
        candidates: dict[int, Known] = {}
        for customer_id, _reason in hits.get(index, ()):
            survivor = survivors.get(customer_id)
            if survivor is None or survivor not in known:
                continue
            record = candidates.get(survivor, known[survivor])
            if survivor != customer_id and customer_id in tombstones:
                old = tombstones[customer_id]
                record = Known(**{**record.__dict__, "merged_from": True, "emails": record.emails | old.emails,
                                  "mobiles": record.mobiles | old.mobiles, "phones": record.phones | old.phones,
                                  "external_ids": record.external_ids | old.external_ids})  # fmt: skip
                candidates[survivor] = record
            candidates.setdefault(survivor, record)
        decisions.append(decide(row, list(candidates.values())))
    return decisions


def _blocked_hits(evidence: Sequence[Evidence]) -> dict[int, set[tuple[int, str]]]:
    """``{row index: {(customer id, key)}}`` for every identifier and blocking key, in one statement."""
    columns = {
        "email": [e.email for e in evidence],
        "phone": [e.phone for e in evidence],
        "account": [e.account_number for e in evidence],
        "ext_source": [e.external_id[0] if e.external_id else "" for e in evidence],
        "ext_value": [e.external_id[1] if e.external_id else "" for e in evidence],
        "given": [e.given_name for e in evidence],
        "family": [e.family_name for e in evidence],
        "company": [e.company_name for e in evidence],
        "postcode": [e.postcode for e in evidence],
    }
    births = [e.birth_date for e in evidence]
    sql = """
        WITH q AS (
            SELECT q.*, relais_search_name(q.given, q.family, q.company) AS name
            FROM unnest(%(email)s::text[], %(phone)s::text[], %(account)s::text[], %(ext_source)s::text[],
                        %(ext_value)s::text[], %(given)s::text[], %(family)s::text[], %(company)s::text[],
                        %(postcode)s::text[], %(birth)s::date[])
                 WITH ORDINALITY AS q(email, phone, account, ext_source, ext_value, given, family, company,
                                      postcode, birth, i)
        )
        SELECT q.i, p.customer_id, 'email' FROM q JOIN customers_contactpoint p
            ON p.kind = 'email' AND p.value = q.email WHERE q.email <> ''
        UNION ALL
        SELECT q.i, p.customer_id, 'phone' FROM q JOIN customers_contactpoint p
            ON p.kind IN ('phone', 'mobile') AND p.value = q.phone WHERE q.phone <> ''
        UNION ALL
        SELECT q.i, c.id, 'account_number' FROM q JOIN customers_customer c
            ON c.account_number = q.account WHERE q.account <> ''
        UNION ALL
        SELECT q.i, x.customer_id, 'external_id' FROM q JOIN customers_customerexternalid x
            ON x.source = q.ext_source AND x.value = q.ext_value WHERE q.ext_value <> ''
        UNION ALL
        SELECT q.i, c.id, 'birth_date' FROM q JOIN customers_customer c
            ON c.birth_date = q.birth AND c.search_name = q.name WHERE q.birth IS NOT NULL AND q.name <> ''
        UNION ALL
        SELECT q.i, n.customer_id, 'postcode' FROM q JOIN customers_name_postcode n
            ON n.postcode = q.postcode AND n.search_name = q.name WHERE q.postcode <> '' AND q.name <> ''
    """
    hits: dict[int, set[tuple[int, str]]] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, {**columns, "birth": births})
        for ordinal, customer_id, reason in cursor.fetchall():
            hits.setdefault(ordinal - 1, set()).add((customer_id, reason))
    return hits


def _survivors(ids: set[int]) -> dict[int, int]:
    """``{customer id: live survivor id}``: tombstones followed to their survivor, anonymised customers left out."""
    if not ids:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH RECURSIVE chain AS (
                SELECT id AS start, id, merged_into_id, anonymised_at, 0 AS depth
                FROM customers_customer WHERE id = ANY(%s)
                UNION ALL
                SELECT chain.start, c.id, c.merged_into_id, c.anonymised_at, chain.depth + 1
                FROM chain JOIN customers_customer c ON c.id = chain.merged_into_id
                WHERE chain.depth < 20
            )
            SELECT start, id FROM chain WHERE merged_into_id IS NULL AND anonymised_at IS NULL
            """,
            [sorted(ids)],
        )
        return dict(cursor.fetchall())


def _known(ids, *, live_only: bool = True) -> dict[int, Known]:
    """What is known of each (live) customer, in one query (identifiers as arrays)."""
    ids = sorted(ids)
    if not ids:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT c.id, c.account_number, c.given_name, c.family_name, c.company_name, c.birth_date,
                   ARRAY(SELECT p.kind || '{SEPARATOR}' || p.value FROM customers_contactpoint p
                         WHERE p.customer_id = c.id AND p.kind IN ('email', 'phone', 'mobile')) AS contacts,
                   ARRAY(SELECT x.source || '{SEPARATOR}' || x.value FROM customers_customerexternalid x
                         WHERE x.customer_id = c.id) AS external_ids,
                   ARRAY(SELECT a.postcode || '{SEPARATOR}' || a.line4 FROM customers_postaladdress a
                         WHERE a.customer_id = c.id) AS addresses
            FROM customers_customer c
            WHERE c.id = ANY(%s) AND (NOT %s OR (c.merged_into_id IS NULL AND c.anonymised_at IS NULL))
            """,  # noqa: S608 - SEPARATOR is a constant
            [ids, live_only],
        )
        columns = [column.name for column in cursor.description]
        rows = [dict(zip(columns, values, strict=True)) for values in cursor.fetchall()]
    known = {}
    for row in rows:
        contacts: dict[str, set[str]] = {"email": set(), "phone": set(), "mobile": set()}
        for item in row["contacts"]:
            kind, value = item.split(SEPARATOR, 1)
            contacts[kind].add(value)
        known[row["id"]] = Known(
            id=row["id"],
            account_number=row["account_number"],
            given_name=_folded(row["given_name"]),
            family_name=_folded(row["family_name"]),
            company_name=_folded(row["company_name"]),
            birth_date=row["birth_date"],
            emails=frozenset(contacts["email"]),
            mobiles=frozenset(contacts["mobile"]),
            phones=frozenset(contacts["phone"]),
            external_ids=frozenset(tuple(item.split(SEPARATOR, 1)) for item in row["external_ids"]),
            addresses=frozenset(_address_key(item) for item in row["addresses"]),
        )
    return known


def _address_key(item: str) -> tuple[str, str]:
    postcode, street = item.split(SEPARATOR, 1)
    return postcode, _folded(street)


def _fuzzy_hits(name: str, postcode: str, birth_date: datetime.date | None) -> list[int]:
    """Live customers whose folded name looks like ``name`` (pg_trgm), to show as look-alikes only.

    With a postcode the partitioned ``customers_name_postcode`` GIN index answers; with a birth date
    the b-tree on it narrows the set; otherwise the customers' trigram index at a higher threshold.
    """
    select = (
        "SELECT c.id, similarity(c.search_name, q.v) AS sim "
        "FROM (SELECT relais_fold(%s) AS v) q, customers_customer c "
        "WHERE c.merged_into_id IS NULL AND c.anonymised_at IS NULL "
    )
    order = " ORDER BY sim DESC, c.id LIMIT %s"
    hits: dict[int, float] = {}
    # SET LOCAL lasts to the end of the transaction: restore the previous value at once, so an outer
    # transaction's own trigram searches keep their threshold.
    with connection.cursor() as cursor, transaction.atomic(savepoint=False):
        cursor.execute(
            "SELECT current_setting('pg_trgm.similarity_threshold', true), "
            "set_config('pg_trgm.similarity_threshold', %s, true)",
            [str(RESTRICTED_SIMILARITY)],
        )
        previous = cursor.fetchone()[0] or "0.3"
        if postcode:
            cursor.execute(
                select + "AND c.id IN (SELECT n.customer_id FROM customers_name_postcode n "  # noqa: S608 - constants
                "WHERE n.postcode = %s AND n.search_name %% q.v)" + order,
                [name, postcode, FUZZY_ROWS],
            )
            hits.update(cursor.fetchall())
        if birth_date:
            cursor.execute(
                select + "AND c.birth_date = %s AND similarity(c.search_name, q.v) >= %s" + order,
                [name, birth_date, RESTRICTED_SIMILARITY, FUZZY_ROWS],
            )
            hits.update(cursor.fetchall())
        if not hits:
            cursor.execute("SELECT set_config('pg_trgm.similarity_threshold', %s, true)", [str(TRIGRAM_THRESHOLD)])
            cursor.execute(select + "AND c.search_name %% q.v" + order, [name, FUZZY_ROWS])
            hits.update(cursor.fetchall())
        cursor.execute("SELECT set_config('pg_trgm.similarity_threshold', %s, true)", [previous])
    return sorted(hits, key=lambda i: -hits[i])


def known_from_evidence(index: int, evidence: Evidence) -> Known:
    """A row of the same batch seen as a known person, to resolve rows against each other by the same rule."""
    return Known(
        id=index,
        account_number=evidence.account_number,
        given_name=evidence.given_name,
        family_name=evidence.family_name,
        company_name=evidence.company_name,
        birth_date=evidence.birth_date,
        emails=frozenset([evidence.email] if evidence.email else []),
        mobiles=frozenset([evidence.phone] if evidence.phone and evidence.phone_is_mobile else []),
        phones=frozenset([evidence.phone] if evidence.phone and not evidence.phone_is_mobile else []),
        external_ids=frozenset([evidence.external_id] if evidence.external_id else []),
        addresses=frozenset([(evidence.postcode, evidence.street)] if evidence.postcode else []),
    )


__all__ = ["Assessment", "Candidate", "IdentityResult", "evidence_build", "identity_resolve", "identity_resolve_many"]
