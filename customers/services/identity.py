"""Identity resolution: who is this email, phone, account number, external id or name + postcode?

Exact identifiers are looked up first, through unique or b-tree indexes, in one round trip; names
are matched fuzzily (pg_trgm on the accent-folded ``Customer.search_name``, then rapidfuzz for the
final score) only when no identifier answered. An ambiguous answer is returned as candidates with
their confidence and reasons, never silently picked: the caller (an inbound adapter, an import, an
agent) decides what to do with it.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.utils.translation import gettext as _
from rapidfuzz import fuzz

from crm.errors import ApplicationError
from customers.choices import ContactKind
from customers.models import Customer
from customers.normalise import email_normalise, fold, phone_normalise

# How much each piece of evidence says on its own (combined as a noisy OR: 1 - prod(1 - w)).
# Shared family mailboxes and landlines are why email and phone are not certainties.
WEIGHTS = {
    "account_number": 0.99,
    "external_id": 0.99,
    "email": 0.9,
    "phone": 0.85,
    "name": 0.7,  # times name similarity cubed: a typo still counts, a different name barely does
    "postcode": 0.4,
    "birth_date": 0.5,
}
MATCH_CONFIDENCE = 0.8  # below this, candidates only
MATCH_MARGIN = 0.15  # the best must beat the runner-up by this much to be "the" answer
NAME_CANDIDATE_MIN = 0.6  # rapidfuzz ratio under which a name-only neighbour is not a candidate
TRIGRAM_THRESHOLD = 0.45  # pg_trgm threshold for the index-served `%` search without postcode/birth date
RESTRICTED_SIMILARITY = 0.3  # within one postcode or birth date the set is small: be generous
FUZZY_ROWS = 20


@dataclass
class Candidate:
    customer: Customer
    confidence: float
    reasons: list[str] = field(default_factory=list)


@dataclass
class IdentityResult:
    """``match`` is set only when one customer is the clear answer; ``candidates`` are best first."""

    match: Customer | None
    confidence: float
    reasons: list[str]
    candidates: list[Candidate]


@dataclass
class _Query:
    email: str | None
    phone: str | None
    account_number: str | None
    external_id: tuple[str, str] | None
    name: str
    postcode: str
    birth_date: datetime.date | None


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
    birth_date: datetime.date | None = None,
    limit: int = 5,
) -> IdentityResult:
    """Find the live customer these details describe; return an ``IdentityResult``.

    Read-only. Raises ``ApplicationError`` (with ``field``) for an email or phone that cannot be
    one. A customer merged away is followed to its survivor; anonymised customers are never
    returned. With nothing to go on, the result is empty.
    """
    query = _query_clean(
        email=email, phone=phone, account_number=account_number, external_id=external_id,
        given_name=given_name, family_name=family_name, company_name=company_name, postcode=postcode,
        birth_date=birth_date,
    )  # fmt: skip
    evidence: dict[int, set[str]] = {}
    for reason, customer_id in _exact_hits(query):
        evidence.setdefault(customer_id, set()).add(reason)
    similarity: dict[int, float] = {}
    if not evidence and query.name:
        similarity = _fuzzy_hits(query)
    customers = _customers_with_postcodes(set(evidence) | set(similarity))
    customers, evidence = _follow_merges(customers, evidence)
    candidates = [
        _score(customer, query, evidence.get(customer.pk, set())) for customer in customers.values() if customer.is_live
    ]
    candidates = [c for c in candidates if c is not None]
    candidates.sort(key=lambda c: (-c.confidence, c.customer.pk))
    candidates = candidates[: max(limit, 1)]
    if not candidates:
        return IdentityResult(match=None, confidence=0.0, reasons=[], candidates=[])
    best = candidates[0]
    runner_up = candidates[1].confidence if len(candidates) > 1 else 0.0
    if best.confidence >= MATCH_CONFIDENCE and best.confidence - runner_up >= MATCH_MARGIN:
        return IdentityResult(match=best.customer, confidence=best.confidence, reasons=best.reasons,
                              candidates=candidates)  # fmt: skip
    return IdentityResult(match=None, confidence=0.0, reasons=[], candidates=candidates)


def _query_clean(*, email, phone, account_number, external_id, given_name, family_name, company_name, postcode,
                 birth_date) -> _Query:  # fmt: skip
    normalised_email = normalised_phone = None
    if email and email.strip():
        try:
            normalised_email = email_normalise(email)
        except ApplicationError as error:
            error.field = "email"
            raise
    if phone and phone.strip():
        try:
            normalised_phone = phone_normalise(phone).e164
        except ApplicationError as error:
            error.field = "phone"
            raise
    if external_id is not None:
        source, value = (str(part or "").strip() for part in external_id)
        if not (source and value):
            raise ApplicationError("required", _("Give the source system and the external id."), field="external_id")
        external_id = (source, value)
    name = fold(" ".join(part for part in (given_name, family_name, company_name) if part and part.strip()))
    return _Query(
        email=normalised_email,
        phone=normalised_phone,
        account_number=(account_number or "").strip().upper() or None,
        external_id=external_id,
        name=" ".join(name.split()),
        postcode=(postcode or "").replace(" ", "").upper(),
        birth_date=birth_date,
    )


def _exact_hits(query: _Query) -> list[tuple[str, int]]:
    """``(reason, customer_id)`` for every identifier given, in one round trip of index lookups."""
    parts, params = [], []
    if query.email:
        parts.append("SELECT 'email', customer_id FROM customers_contactpoint WHERE kind = %s AND value = %s")
        params += [ContactKind.EMAIL, query.email]
    if query.phone:
        parts.append("SELECT 'phone', customer_id FROM customers_contactpoint WHERE kind IN (%s, %s) AND value = %s")
        params += [ContactKind.PHONE, ContactKind.MOBILE, query.phone]
    if query.account_number:
        parts.append("SELECT 'account_number', id FROM customers_customer WHERE account_number = %s")
        params.append(query.account_number)
    if query.external_id:
        parts.append(
            "SELECT 'external_id', customer_id FROM customers_customerexternalid WHERE source = %s AND value = %s"
        )
        params += list(query.external_id)
    if not parts:
        return []
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        return list(cursor.fetchall())


def _fuzzy_hits(query: _Query) -> dict[int, float]:
    """Live customers whose folded name is close to the query: ``{id: trigram similarity}``.

    With a postcode, ``customers_name_postcode`` (kept by triggers, hash-partitioned by postcode, a GIN
    index of postcode + name trigrams in each partition; migrations 0006 and 0007) finds the addresses
    at that postcode whose name shares enough trigrams, and similarity is computed on those only; with
    a birth date, the b-tree index on it narrows the set (about 35 customers per day at 1M). Without
    either, or when they find nothing, the GIN trigram index of the customers serves
    ``search_name %% query`` at a threshold high enough to keep rechecks few.
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
        if query.postcode:
            # `%%` is similarity >= the threshold just set (RESTRICTED_SIMILARITY), answered by the index.
            cursor.execute(
                select + "AND c.id IN (SELECT n.customer_id FROM customers_name_postcode n "  # noqa: S608 - constants
                "WHERE n.postcode = %s AND n.search_name %% q.v)" + order,
                [query.name, query.postcode, FUZZY_ROWS],
            )
            hits.update(cursor.fetchall())
        if query.birth_date:
            cursor.execute(
                select + "AND c.birth_date = %s AND similarity(c.search_name, q.v) >= %s" + order,
                [query.name, query.birth_date, RESTRICTED_SIMILARITY, FUZZY_ROWS],
            )
            hits.update(cursor.fetchall())
        if not hits:
            cursor.execute("SELECT set_config('pg_trgm.similarity_threshold', %s, true)", [str(TRIGRAM_THRESHOLD)])
            cursor.execute(select + "AND c.search_name %% q.v" + order, [query.name, FUZZY_ROWS])
            hits.update(cursor.fetchall())
        cursor.execute("SELECT set_config('pg_trgm.similarity_threshold', %s, true)", [previous])
    return hits


def _customers_with_postcodes(ids: set[int]) -> dict[int, Customer]:
    """The customers with their ``postcodes`` (an array): one raw query, since the ORM's compilation of
    the same annotated query cost more than the query itself on this hot path."""
    if not ids:
        return {}
    customers = Customer.objects.raw(
        "SELECT c.*, ARRAY(SELECT a.postcode FROM customers_postaladdress a WHERE a.customer_id = c.id) AS postcodes "
        "FROM customers_customer c WHERE c.id = ANY(%s)",
        [sorted(ids)],
    )
    return {c.pk: c for c in customers}


def _follow_merges(customers: dict[int, Customer], evidence: dict[int, set[str]]):
    """Replace tombstones by their survivors, carrying the exact evidence found on the tombstone."""
    tombstones = [c for c in customers.values() if c.merged_into_id is not None]
    if not tombstones:
        return customers, evidence
    from customers.access import customer_survivor

    survivors = {}
    for tombstone in tombstones:
        survivor = customer_survivor(tombstone)
        survivors[tombstone.pk] = survivor.pk
        del customers[tombstone.pk]
    missing = set(survivors.values()) - set(customers)
    customers.update(_customers_with_postcodes(missing))
    merged_evidence: dict[int, set[str]] = {}
    for customer_id, reasons in evidence.items():
        target = survivors.get(customer_id, customer_id)
        merged_evidence.setdefault(target, set()).update(reasons)
        if target != customer_id:
            merged_evidence[target].add("merged_record")
    return customers, merged_evidence


def name_similarity(query_name: str, customer: Customer) -> float:
    """0-1 closeness of a folded name to the customer's names (word order ignored)."""
    options = [customer.search_name or ""]
    person = fold(f"{customer.given_name} {customer.family_name}")
    if person.strip():
        options.append(person)
    if customer.company_name:
        options.append(fold(customer.company_name))
    return max(fuzz.token_sort_ratio(query_name, option) for option in options) / 100


def _score(customer: Customer, query: _Query, exact: set[str]) -> Candidate | None:
    reasons = [reason for reason in ("account_number", "external_id", "email", "phone") if reason in exact]
    weights = [WEIGHTS[reason] for reason in reasons]
    name_score = name_similarity(query.name, customer) if query.name else None
    if name_score is not None and name_score >= NAME_CANDIDATE_MIN:
        weights.append(WEIGHTS["name"] * name_score**3)
        reasons.append("name" if name_score >= 0.999 else "similar_name")
    if not weights:
        return None
    if query.postcode and query.postcode in (customer.postcodes or []):
        weights.append(WEIGHTS["postcode"])
        reasons.append("postcode")
    if query.birth_date and customer.birth_date == query.birth_date:
        weights.append(WEIGHTS["birth_date"])
        reasons.append("birth_date")
    doubt = 1.0
    if query.birth_date and customer.birth_date and customer.birth_date != query.birth_date:
        doubt *= 0.5
        reasons.append("different_birth_date")
    if name_score is not None and name_score < 0.85 and exact:
        doubt *= 0.8
        reasons.append("different_name")
    remaining = 1.0
    for weight in weights:
        remaining *= 1 - weight
    if "merged_record" in exact:
        reasons.append("merged_record")
    return Candidate(customer=customer, confidence=round((1 - remaining) * doubt, 3), reasons=reasons)
