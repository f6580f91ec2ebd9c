"""The identity rule: what one person's details say for and against each known customer, and the decision.

Pure functions over plain values (no query), so that every path that brings a person in — a single
inbound contact, an API upsert, a file of a million rows, and the rows of one file among themselves —
decides with exactly the same code. ``lookup`` gathers the candidates; this module weighs them.

Identifiers, strongest first: the source's own external id, the account number, the email, the
phone (E.164), name + birth date, name + street address, name + postcode. A *conflicting* strong
identifier — another external id of the same source, another birth date, another email or another
mobile, present on both sides and different — is evidence AGAINST: it vetoes the name-based tiers,
because namesakes in one town are ordinary in French data. Outcomes: ``match`` (this customer),
``new``, or ``possible_duplicate`` (create a new customer and record a pair for review). A row is
never written into a customer on a name alone.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.db import models
from django.utils.translation import gettext_lazy as _
from rapidfuzz import fuzz

# How much each identifier says on its own, for the confidence shown to people (a noisy OR). The
# decision does not use these numbers: it uses the tiers below.
WEIGHTS = {
    "external_id": 0.99,
    "account_number": 0.99,
    "email": 0.9,
    "phone": 0.85,
    "name": 0.5,
    "similar_name": 0.3,
    "birth_date": 0.6,
    "address": 0.5,
    "postcode": 0.3,
}
NAME_SAME = 0.9  # both the given and the family name at least this close (a typo, a missing accent)
NAME_DIFFERENT = 0.8  # a given or family name below this is another person's (Valentine / Antoine: 0.75)


class Outcome(models.TextChoices):
    MATCH = "match", _("Matched an existing customer")
    NEW = "new", _("New customer")
    POSSIBLE_DUPLICATE = "possible_duplicate", _("New customer, possible duplicate to review")


# What vetoes even a match by email or phone: another id in the same source, another account number,
# another birth date, another name (a relative sharing the mailbox or the line).
CONTACT_VETOES = frozenset({"other_external_id", "other_account_number", "other_birth_date", "different_name"})

# Tiers of a match, strongest first; a weaker tier never overrides a stronger one.
TIER_EXTERNAL_ID, TIER_ACCOUNT, TIER_CONTACT, TIER_NAME_BIRTH_DATE, TIER_NAME_ADDRESS = 1, 2, 3, 4, 5

REASON_LABELS = {
    "external_id": _("same id in the source"),
    "account_number": _("same account number"),
    "email": _("same email"),
    "phone": _("same phone"),
    "name": _("same name"),
    "similar_name": _("similar name"),
    "birth_date": _("same birth date"),
    "address": _("same address"),
    "postcode": _("same postcode"),
    "merged_record": _("merged record"),
    "other_external_id": _("another id in the same source"),
    "other_account_number": _("another account number"),
    "other_email": _("another email"),
    "other_mobile": _("another mobile"),
    "other_birth_date": _("another birth date"),
    "different_name": _("another name"),
    "several_matches": _("several customers match"),
    "same_row": _("the same person earlier in this file"),
}


def reason_label(code: str) -> str:
    """The reason in the reader's language (never the internal code)."""
    return str(REASON_LABELS.get(code, code))


@dataclass(frozen=True)
class Evidence:
    """What a row, a request or an inbound contact says about a person, normalised and folded."""

    email: str = ""
    phone: str = ""
    phone_is_mobile: bool = False
    account_number: str = ""
    external_id: tuple[str, str] | None = None
    given_name: str = ""
    family_name: str = ""
    company_name: str = ""
    birth_date: datetime.date | None = None
    postcode: str = ""
    street: str = ""


@dataclass(frozen=True)
class Known:
    """What the database (or an earlier row of the same file) knows about one person."""

    id: int
    account_number: str = ""
    given_name: str = ""
    family_name: str = ""
    company_name: str = ""
    birth_date: datetime.date | None = None
    emails: frozenset[str] = frozenset()
    mobiles: frozenset[str] = frozenset()
    phones: frozenset[str] = frozenset()
    external_ids: frozenset[tuple[str, str]] = frozenset()
    addresses: frozenset[tuple[str, str]] = frozenset()
    merged_from: bool = False


@dataclass
class Assessment:
    """One candidate weighed: the identifiers that agree, those that conflict, and the verdict."""

    known: Known
    supports: list[str]
    conflicts: list[str]
    tier: int | None  # the match tier, or None when this candidate is not a match
    flagged: bool  # worth a review as a possible duplicate
    confidence: float

    @property
    def reasons(self) -> list[str]:
        return self.supports + self.conflicts


@dataclass
class Decision:
    outcome: str
    customer_id: int | None = None
    reasons: list[str] = field(default_factory=list)
    confidence: float = 0.0
    assessments: list[Assessment] = field(default_factory=list)  # best first

    @property
    def review_ids(self) -> list[int]:
        """The customers a possible duplicate is to be reviewed against."""
        if self.outcome != Outcome.POSSIBLE_DUPLICATE:
            return []
        return [a.known.id for a in self.assessments if a.flagged or a.tier is not None]


def _ratio(a: str, b: str) -> float:
    return fuzz.ratio(a, b) / 100


def _part_close(a: str, b: str) -> float:
    """How close two given (or family) names are: an initial or a compound's first part counts as the same."""
    if not a or not b:
        return 1.0
    if a == b:
        return 1.0
    first_a, first_b = a.replace("-", " ").split()[0], b.replace("-", " ").split()[0]
    if first_a.rstrip(".") in (first_b, first_b[:1]) or first_b.rstrip(".") in (first_a, first_a[:1]):
        return 0.95
    return max(_ratio(a, b), _ratio(first_a, first_b) * 0.95)


def names_compare(evidence: Evidence, known: Known) -> tuple[str, float]:
    """``("same" | "similar" | "different" | "unknown", score)`` for the two sets of names.

    Given and family names are compared apart (and swapped, for files that mix the columns up); a
    company is compared with a company.
    """
    e_person = (evidence.given_name, evidence.family_name)
    k_person = (known.given_name, known.family_name)
    if any(e_person) and any(k_person):
        score = min(
            _part_close(e_person[0], k_person[0]),
            _ratio(e_person[1], k_person[1]) if e_person[1] and k_person[1] else 1.0,
        )
        if all(e_person) and all(k_person) and (e_person[0], e_person[1]) == (k_person[1], k_person[0]):
            score = 1.0  # the columns swapped; a swap with a slip as well is another person (Valentine François)
        if not (e_person[1] and k_person[1]) and not (e_person[0] and k_person[0]):
            return "unknown", 0.0  # a given name on one side, a family name on the other: nothing to compare
    elif evidence.company_name and known.company_name:
        score = fuzz.token_sort_ratio(evidence.company_name, known.company_name) / 100
    else:
        return "unknown", 0.0
    if score >= NAME_SAME:
        return "same", score
    if score < NAME_DIFFERENT:
        return "different", score
    return "similar", score


def assess(evidence: Evidence, known: Known, shared: frozenset[str] = frozenset()) -> Assessment:
    """Weigh one candidate; see the module docstring for the rule.

    ``shared`` names the identifiers of the evidence ("email", "phone") that several live customers
    hold: a household's mailbox or landline, which alone does not tell its members apart.
    """
    supports: list[str] = []
    conflicts: list[str] = []
    source_ids = {
        value for source, value in known.external_ids if evidence.external_id and source == evidence.external_id[0]
    }
    if evidence.external_id and evidence.external_id[1] in source_ids:
        supports.append("external_id")
    elif evidence.external_id and source_ids:
        conflicts.append("other_external_id")
    if evidence.account_number and known.account_number:
        if evidence.account_number == known.account_number:
            supports.append("account_number")
        else:
            conflicts.append("other_account_number")
    if evidence.email and evidence.email in known.emails:
        supports.append("email")
    elif evidence.email and known.emails:
        conflicts.append("other_email")
    if evidence.phone and evidence.phone in known.mobiles | known.phones:
        supports.append("phone")
    elif evidence.phone and evidence.phone_is_mobile and known.mobiles:
        conflicts.append("other_mobile")
    names, name_score = names_compare(evidence, known)
    if names == "same":
        supports.append("name" if name_score >= 0.999 else "similar_name")
    elif names == "similar":
        supports.append("similar_name")
    elif names == "different":
        conflicts.append("different_name")
    if evidence.birth_date and known.birth_date:
        if evidence.birth_date == known.birth_date:
            supports.append("birth_date")
        else:
            conflicts.append("other_birth_date")
    postcodes = {postcode for postcode, _street in known.addresses}
    if evidence.street and evidence.postcode and (evidence.postcode, evidence.street) in known.addresses:
        supports.append("address")
    elif evidence.postcode and evidence.postcode in postcodes:
        supports.append("postcode")
    if known.merged_from:
        supports.append("merged_record")
    tier, flagged = _verdict(set(supports), set(conflicts), names, shared)
    remaining = 1.0
    for reason in supports:
        remaining *= 1 - WEIGHTS.get(reason, 0.0)
    confidence = (1 - remaining) * (0.5 ** len(conflicts))
    return Assessment(known=known, supports=supports, conflicts=conflicts, tier=tier, flagged=flagged,
                      confidence=round(confidence, 3))  # fmt: skip


def _verdict(
    supports: set[str], conflicts: set[str], names: str, shared: frozenset[str] = frozenset()
) -> tuple[int | None, bool]:
    """``(match tier or None, flagged for review)`` for one candidate."""
    if "external_id" in supports:
        return TIER_EXTERNAL_ID, False
    if "account_number" in supports:
        if names == "different" or "other_external_id" in conflicts:
            return None, True
        return TIER_ACCOUNT, False
    if supports & {"email", "phone"}:
        vetoes = conflicts & CONTACT_VETOES
        if not vetoes:
            # A mailbox or line several customers share (a household) decides only with the very same
            # name or birth date: Lucie and Luce behind one family address are two people, not a typo.
            if supports & {"email", "phone"} - shared or supports & {"name", "birth_date", "merged_record"}:
                return TIER_CONTACT, False
            return None, True
        # Another name behind the same mailbox or line is a relative, not a duplicate; the same name with
        # another birth date or id is worth a look.
        return None, "different_name" not in vetoes
    same_name = "name" in supports or ("similar_name" in supports and names == "same")
    if same_name and "birth_date" in supports:
        if conflicts & {"other_external_id", "other_account_number", "other_email", "other_mobile"}:
            return None, not conflicts & {"other_external_id", "other_account_number"}
        return TIER_NAME_BIRTH_DATE, False
    if same_name and "address" in supports:
        if conflicts:
            return None, not conflicts & {"other_external_id", "other_account_number", "other_birth_date"}
        return TIER_NAME_ADDRESS, False
    if (same_name or "similar_name" in supports) and supports & {"address", "postcode", "birth_date"}:
        return None, not conflicts
    return None, False


def decide(evidence: Evidence, candidates: list[Known]) -> Decision:
    """The decision over every candidate: one clear match, a new customer, or a possible duplicate."""
    shared = frozenset(
        key for key, held in (("email", lambda k: evidence.email in k.emails),
                              ("phone", lambda k: evidence.phone in k.mobiles | k.phones))
        if getattr(evidence, key) and sum(1 for known in candidates if held(known)) > 1
    )  # fmt: skip
    assessments = [assess(evidence, known, shared) for known in candidates]
    assessments.sort(key=lambda a: (a.tier or 99, not a.flagged, -a.confidence, a.known.id))
    matches = [a for a in assessments if a.tier is not None]
    if matches:
        best = matches[0].tier
        top = [a for a in matches if a.tier == best]
        if len({a.known.id for a in top}) == 1:
            chosen = top[0]
            return Decision(outcome=Outcome.MATCH, customer_id=chosen.known.id, reasons=chosen.reasons,
                            confidence=max(chosen.confidence, 0.8), assessments=assessments)  # fmt: skip
        return Decision(outcome=Outcome.POSSIBLE_DUPLICATE, reasons=["several_matches"], assessments=assessments)
    if any(a.flagged for a in assessments):
        return Decision(outcome=Outcome.POSSIBLE_DUPLICATE, reasons=assessments[0].reasons, assessments=assessments)
    return Decision(outcome=Outcome.NEW, assessments=assessments)
