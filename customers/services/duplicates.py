# ruff: noqa: S608 -- the SQL below is assembled from constant fragments; every value is a query parameter.
"""The duplicate finder: blocking in SQL, scoring with rapidfuzz, candidate pairs kept as rows.

Blocking (set-based, one query) proposes pairs of live customers that share a normalised email or
phone, a folded family name and postcode, or a trigram-similar name with the same birth date or
postcode. Scoring (noisy OR of the evidence, rapidfuzz on names) keeps the likely ones as
``DuplicatePair`` rows, inserted with ``ON CONFLICT DO NOTHING``: a pair already known, and so a
pair someone dismissed, is never proposed again.
"""

from __future__ import annotations

import json

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rapidfuzz import fuzz

from crm.errors import ApplicationError
from customers.models import DuplicatePair
from customers.normalise import fold

MIN_SCORE = 0.6  # below this a pair is not worth an agent's time (e.g. spouses sharing a surname and address)
MAX_SHARED = 10  # a contact value held by more customers is a placeholder (noreply@...), not a person
NAME_SIMILARITY = 0.5  # pg_trgm similarity for the name-based blocking keys
BATCH = 5000

WEIGHTS = {"same_email": 0.9, "same_phone": 0.8, "name": 0.7, "same_birth_date": 0.5, "postcode": 0.4}

REASON_LABELS = {
    "same_email": gettext_lazy("Same email address"),
    "same_phone": gettext_lazy("Same phone number"),
    "same_family_name_postcode": gettext_lazy("Same family name and postcode"),
    "similar_name_birth_date": gettext_lazy("Similar name, same birth date"),
    "similar_name_postcode": gettext_lazy("Similar name, same postcode"),
    "same_name": gettext_lazy("Same name"),
    "similar_name": gettext_lazy("Similar name"),
    "same_birth_date": gettext_lazy("Same birth date"),
    "different_birth_date": gettext_lazy("Different birth dates"),
    "different_name": gettext_lazy("Different names"),
}

# Each blocking key yields (low, high, reason) for live customers; "%(scope)s" limits one side to the
# customers asked about (or to everyone). The postcode/name key also requires the same first letter
# of the folded name, which keeps the pairs compared within a postcode to a few per customer.
BLOCKING = """
WITH live AS (
    SELECT id, search_name, relais_fold(family_name) AS family, birth_date
    FROM customers_customer WHERE merged_into_id IS NULL AND anonymised_at IS NULL
),
contact AS (
    SELECT cp.customer_id, cp.value, cp.kind = 'email' AS is_email
    FROM customers_contactpoint cp JOIN live ON live.id = cp.customer_id
    WHERE cp.kind <> 'social'
),
shared AS (
    SELECT value FROM contact GROUP BY value HAVING count(DISTINCT customer_id) BETWEEN 2 AND %(max_shared)s
),
located AS (
    SELECT DISTINCT live.id, live.search_name, live.family, a.postcode
    FROM live JOIN customers_postaladdress a ON a.customer_id = live.id WHERE a.postcode <> ''
),
blocked AS (
    SELECT a.customer_id AS x, b.customer_id AS y,
           CASE WHEN a.is_email THEN 'same_email' ELSE 'same_phone' END AS reason
    FROM contact a JOIN contact b ON b.value = a.value AND b.is_email = a.is_email AND b.customer_id > a.customer_id
    WHERE a.value IN (SELECT value FROM shared)
    UNION ALL
    SELECT a.id, b.id, 'same_family_name_postcode'
    FROM located a JOIN located b ON b.postcode = a.postcode AND b.family = a.family AND b.id > a.id
    WHERE a.family <> ''
    UNION ALL
    SELECT a.id, b.id, 'similar_name_birth_date'
    FROM live a JOIN live b ON b.birth_date = a.birth_date AND b.id > a.id
    WHERE a.birth_date IS NOT NULL AND similarity(a.search_name, b.search_name) >= %(similarity)s
    UNION ALL
    SELECT a.id, b.id, 'similar_name_postcode'
    FROM located a JOIN located b ON b.postcode = a.postcode AND b.id > a.id
         AND left(b.search_name, 1) = left(a.search_name, 1)
    WHERE a.family <> b.family AND similarity(a.search_name, b.search_name) >= %(similarity)s
),
pairs AS (
    SELECT x AS low, y AS high, array_agg(DISTINCT reason ORDER BY reason) AS reasons
    FROM blocked WHERE %(scope)s
    GROUP BY x, y
)
SELECT p.low, p.high, p.reasons,
       l.given_name, l.family_name, l.company_name, l.birth_date,
       h.given_name, h.family_name, h.company_name, h.birth_date
FROM pairs p
JOIN customers_customer l ON l.id = p.low
JOIN customers_customer h ON h.id = p.high
WHERE NOT EXISTS (
    SELECT 1 FROM customers_duplicatepair d WHERE d.customer_low_id = p.low AND d.customer_high_id = p.high
)
"""

INSERT = """
INSERT INTO customers_duplicatepair (customer_low_id, customer_high_id, score, reasons, status, found_at)
SELECT low, high, score, reasons::jsonb, 'pending', %s
FROM unnest(%s::bigint[], %s::bigint[], %s::numeric[], %s::text[]) AS t(low, high, score, reasons)
ON CONFLICT (customer_low_id, customer_high_id) DO NOTHING
"""


def _pair_score(reasons: list[str], low: tuple, high: tuple) -> tuple[float, list[str]]:
    """Score one blocked pair from its blocking reasons and both customers' names and birth dates."""
    l_given, l_family, l_company, l_birth = low
    h_given, h_family, h_company, h_birth = high
    l_name = fold(" ".join(p for p in (l_given, l_family, l_company) if p))
    h_name = fold(" ".join(p for p in (h_given, h_family, h_company) if p))
    name_score = fuzz.token_sort_ratio(l_name, h_name) / 100 if l_name and h_name else 0.0
    found = list(reasons)
    weights = [WEIGHTS[r] for r in reasons if r in ("same_email", "same_phone")]
    if name_score >= 0.6:
        weights.append(WEIGHTS["name"] * name_score**3)
        found.append("same_name" if name_score >= 0.999 else "similar_name")
    if any(r.endswith("postcode") for r in reasons):
        weights.append(WEIGHTS["postcode"])
    doubt = 1.0
    if l_birth and h_birth:
        if l_birth == h_birth:
            weights.append(WEIGHTS["same_birth_date"])
            found.append("same_birth_date")
        else:
            doubt *= 0.3
            found.append("different_birth_date")
    if name_score < 0.85:
        doubt *= 0.7
        found.append("different_name")
    remaining = 1.0
    for weight in weights:
        remaining *= 1 - weight
    return round((1 - remaining) * doubt, 3), list(dict.fromkeys(found))


@transaction.atomic
def duplicates_find(*, customer_ids: list[int] | None = None) -> int:
    """Look for duplicates (among everyone, or of ``customer_ids`` only); return how many new pairs.

    Adds pending ``DuplicatePair`` rows scoring at least ``MIN_SCORE``; pairs already stored in any
    status (pending, merged, dismissed) are left as they are. Idempotent: a second run adds nothing.
    """
    scope = "TRUE" if customer_ids is None else "(x = ANY(%(ids)s) OR y = ANY(%(ids)s))"
    params = {"max_shared": MAX_SHARED, "similarity": NAME_SIMILARITY, "ids": list(customer_ids or [])}
    if customer_ids is not None and not customer_ids:
        return 0
    created = 0
    found_at = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(BLOCKING.replace("%(scope)s", scope), params)
        rows = cursor.fetchall()
        for start in range(0, len(rows), BATCH):
            lows, highs, scores, reasons = [], [], [], []
            for low, high, blocked, *names in rows[start : start + BATCH]:
                score, why = _pair_score(blocked, tuple(names[:4]), tuple(names[4:]))
                if score >= MIN_SCORE:
                    lows.append(low)
                    highs.append(high)
                    scores.append(score)
                    reasons.append(json.dumps(why))
            if lows:
                cursor.execute(INSERT, [found_at, lows, highs, scores, reasons])
                created += cursor.rowcount
    return created


REVIEW_SCORE = 0.5  # what the identity rule's "possible duplicate" is worth in the review queue


def duplicate_pairs_add(pairs: list[tuple[int, int, list[str]]]) -> None:
    """Record ``(customer, customer, reasons)`` pairs the identity rule flagged for review.

    The import writes the same rows set-based (``REVIEW_PAIRS``); a pair already known in any status
    is left as it is, so a dismissed pair stays dismissed.
    """
    rows = {(min(a, b), max(a, b)): reasons for a, b, reasons in pairs if a != b}
    DuplicatePair.objects.bulk_create(
        [
            DuplicatePair(customer_low_id=low, customer_high_id=high, score=REVIEW_SCORE, reasons=list(reasons))
            for (low, high), reasons in sorted(rows.items())
        ],
        ignore_conflicts=True,
    )


@transaction.atomic
def duplicate_dismiss(*, pair: DuplicatePair, acting_user) -> DuplicatePair:
    """Mark a pending pair "not a duplicate"; the finder never proposes it again.

    Raises ``ApplicationError`` when the pair was already merged or dismissed (by someone else).
    """
    changed = DuplicatePair.objects.filter(pk=pair.pk, status=DuplicatePair.Status.PENDING).update(
        status=DuplicatePair.Status.DISMISSED, reviewed_by=acting_user, reviewed_at=timezone.now()
    )
    pair.refresh_from_db()
    if not changed:
        raise ApplicationError(
            "not_pending",
            _("This pair was already reviewed (%(status)s).") % {"status": pair.get_status_display()},
            status_code=409,
        )
    return pair


def reason_labels(reasons: list[str]) -> list[str]:
    """The reasons of a pair as words for people."""
    return [str(REASON_LABELS.get(reason, reason)) for reason in reasons]


# The state of the last "Find duplicates now" run, for the progress indicator of the duplicates page.
# Kept in the cache (Redis), not a table: it is a hint for the screen, losing it loses nothing.
SCAN_STATE_KEY = "customers:duplicates_scan"
SCAN_STATE_SECONDS = 6 * 3600


def duplicate_scan_state() -> dict | None:
    """``{"state": "queued" | "running" | "done", "found": int | None, "at": iso}`` or None (no run known)."""
    from django.core.cache import cache

    return cache.get(SCAN_STATE_KEY)


def duplicate_scan_state_set(state: str, *, found: int | None = None) -> None:
    """Record where the last scan is (the view sets "queued", the task "running" then "done")."""
    from django.core.cache import cache

    cache.set(SCAN_STATE_KEY, {"state": state, "found": found, "at": timezone.now().isoformat()}, SCAN_STATE_SECONDS)
