"""Resolving the rows of one batch (a file, an API bulk request) against each other, by the same rule.

Every row is first decided against the database as it was before the batch (``identity_resolve_many``);
then rows that share an identifier or a blocking key are weighed pairwise with ``rule.assess``, each
row seen as a ``Known`` person. Rows that the rule says are one person are one write (the first of
them; the others are reported as its duplicates), rows that reach the same existing customer are one
write too, and rows that only look alike are written apart with a duplicate pair for review.

Two rows are one person only if nothing in the group speaks against it: a row with few identifiers
(a name and a street) must not chain a father and his son of the same name into one record, so two
groups are joined only when no row of one has a vetoing conflict (another birth date, id or name)
with a row of the other. And a row the database left in doubt (a possible duplicate: the same name
at the same address as two customers, say) is not settled into an existing customer by another row
of the file; it is written apart with a pair to review. Nothing depends on the order of the rows
but which row number a duplicate is reported against.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from customers.services.identity.lookup import known_from_evidence
from customers.services.identity.rule import CONTACT_VETOES, Decision, Evidence, Outcome, assess

WRITE, DUPLICATE, SAME_CUSTOMER = "write", "duplicate", "same_customer"
# A key shared by more rows than this is a placeholder ("noemail@...", "0000000000"), not one person.
MAX_GROUP = 50


@dataclass
class BatchRow:
    """One row's fate: ``action`` is write, duplicate (of ``of_row``) or same_customer (as ``of_row``)."""

    number: int
    evidence: Evidence
    decision: Decision
    action: str = WRITE
    of_row: int | None = None
    reasons: list[str] = field(default_factory=list)


@dataclass
class BatchResult:
    rows: list[BatchRow]
    review_pairs: list[tuple[int, int, list[str]]]  # (row number, row number, reasons) of written rows


def blocking_keys(evidence: Evidence) -> list[tuple]:
    """The keys two rows must share to be compared at all (the same keys the database look-up uses)."""
    keys: list[tuple] = []
    if evidence.email:
        keys.append(("email", evidence.email))
    if evidence.phone:
        keys.append(("phone", evidence.phone))
    if evidence.account_number:
        keys.append(("account", evidence.account_number))
    if evidence.external_id:
        keys.append(("external_id", *evidence.external_id))
    name = " ".join(part for part in (evidence.given_name, evidence.family_name, evidence.company_name) if part)
    if name and evidence.birth_date:
        keys.append(("birth_date", name, evidence.birth_date))
    if name and evidence.postcode:
        keys.append(("postcode", name, evidence.postcode))
    return keys


def pairs_sharing_a_key(rows: Sequence[tuple[int, Evidence]]) -> set[tuple[int, int]]:
    """``(a, b)`` row numbers with ``a < b`` that share at least one blocking key (in memory)."""
    by_key: dict[tuple, list[int]] = {}
    for number, evidence in rows:
        for key in blocking_keys(evidence):
            by_key.setdefault(key, []).append(number)
    pairs = set()
    for numbers in by_key.values():
        numbers = sorted(set(numbers))
        if len(numbers) > MAX_GROUP:
            continue
        for i, a in enumerate(numbers):
            for b in numbers[i + 1 :]:
                pairs.add((a, b))
    return pairs


def pair_verdict(first: Evidence, second: Evidence) -> tuple[str, list[str]]:
    """``("match" | "flag" | "none", reasons)`` for two rows of one batch, by the identity rule both ways."""
    forward = assess(second, known_from_evidence(0, first))
    backward = assess(first, known_from_evidence(1, second))
    if forward.tier is not None and backward.tier is not None:
        return "match", forward.reasons
    if forward.flagged or backward.flagged or forward.tier is not None or backward.tier is not None:
        return "flag", forward.reasons
    return "none", forward.reasons


def pair_vetoed(first: Evidence, second: Evidence) -> bool:
    """Whether the rule says two rows are two people: not a match, and another birth date, id or name."""
    forward = assess(second, known_from_evidence(0, first))
    if not set(forward.conflicts) & CONTACT_VETOES:
        return False
    return pair_verdict(first, second)[0] != "match"


def identity_within_batch(
    rows: Sequence[tuple[int, Evidence, Decision]], *, pairs: Iterable[tuple[int, int]] | None = None
) -> BatchResult:
    """Settle a batch: which rows are written, which are duplicates of another, which pairs to review.

    ``rows`` are ``(row number, evidence, decision against the database)``; ``pairs`` the row pairs
    sharing a blocking key (computed in memory when not given; the bulk import finds them in SQL).
    """
    by_number = {number: BatchRow(number=number, evidence=evidence, decision=decision)
                 for number, evidence, decision in rows}  # fmt: skip
    if pairs is None:
        pairs = pairs_sharing_a_key([(number, row.evidence) for number, row in by_number.items()])
    verdicts = [(a, b, *pair_verdict(by_number[a].evidence, by_number[b].evidence)) for a, b in sorted(pairs)]
    why: dict[int, list[str]] = {}
    for a, b, verdict, reasons in verdicts:
        if verdict == "match":
            why.setdefault(b, reasons)
            why.setdefault(a, reasons)
    groups, flags = _groups(by_number, verdicts, set())
    # A row the database left in doubt (a possible duplicate) is not settled into an existing customer
    # because another row of the file matched one: it keeps its own decision, with a pair to review.
    # Nor is a row the database found new although it carries a birth date: the customer's own birth
    # date was there to compare (a parent and a child of one name at one address are two people).
    doubtful = {m.number for members in groups if len(_targets(members)) == 1 for m in members
                if m.decision.outcome == Outcome.POSSIBLE_DUPLICATE
                or (m.decision.outcome == Outcome.NEW and m.evidence.birth_date)}  # fmt: skip
    if doubtful:
        groups, flags = _groups(by_number, verdicts, doubtful)
    for members in groups:
        if len(members) < 2 or len(_targets(members)) > 1:
            continue  # the rows reach different existing customers: each keeps its own decision
        members.sort(key=lambda m: (m.decision.outcome != Outcome.MATCH, m.number))
        first = members[0]
        for other in members[1:]:
            other.action, other.of_row = DUPLICATE, first.number
            other.reasons = why.get(other.number, [])
    # Rows of different groups that reach the same existing customer: the first one writes.
    by_target: dict[int, list[BatchRow]] = {}
    for row in by_number.values():
        if row.action == WRITE and row.decision.outcome == Outcome.MATCH:
            by_target.setdefault(row.decision.customer_id, []).append(row)
    for members in by_target.values():
        members.sort(key=lambda m: m.number)
        writer = members[0]
        for other in members[1:]:
            if _ids_disagree(writer.evidence, other.evidence):
                # Once the first row is written the customer holds its id, which vetoes this row (as
                # the next import of the same file would find): it is another person, written apart.
                other.decision = Decision(outcome=Outcome.NEW, reasons=["other_external_id"])
                continue
            other.action, other.of_row = SAME_CUSTOMER, writer.number
    written = {number for number, row in by_number.items() if row.action == WRITE}
    review: dict[tuple[int, int], list[str]] = {}
    for a, b, reasons in flags:
        a, b = _writer(by_number, a), _writer(by_number, b)
        if a != b and a in written and b in written:
            review.setdefault((min(a, b), max(a, b)), reasons)
    return BatchResult(
        rows=sorted(by_number.values(), key=lambda r: r.number),
        review_pairs=[(a, b, reasons) for (a, b), reasons in sorted(review.items())],
    )


def _ids_disagree(first: Evidence, second: Evidence) -> bool:
    """Both rows carry an id of the same source, and the ids differ: the source says two people."""
    return bool(
        first.external_id and second.external_id and first.external_id[0] == second.external_id[0]
        and first.external_id != second.external_id
    )  # fmt: skip


def _targets(members: list[BatchRow]) -> set[int]:
    return {m.decision.customer_id for m in members if m.decision.outcome == Outcome.MATCH}


def _groups(
    by_number: dict[int, BatchRow], verdicts: list[tuple[int, int, str, list[str]]], left_out: set[int]
) -> tuple[list[list[BatchRow]], list[tuple[int, int, list[str]]]]:
    """The rows that are one person (union of matching pairs), and the pairs to review.

    Two groups are joined only when no row of one has a vetoing conflict with a row of the other (a
    row with few identifiers must not chain two people); such a pair, and a match of a row in
    ``left_out``, is a pair to review instead.
    """
    parent = {number: number for number in by_number}
    members_of = {number: [number] for number in by_number}

    def root(number: int) -> int:
        while parent[number] != number:
            parent[number] = parent[parent[number]]
            number = parent[number]
        return number

    flags: list[tuple[int, int, list[str]]] = []
    for a, b, verdict, reasons in verdicts:
        if verdict == "flag" or (verdict == "match" and (a in left_out or b in left_out)):
            flags.append((a, b, reasons))
        if verdict != "match" or a in left_out or b in left_out:
            continue
        ra, rb = root(a), root(b)
        if ra == rb:
            continue
        if any(pair_vetoed(by_number[x].evidence, by_number[y].evidence)
               for x in members_of[ra] for y in members_of[rb]):  # fmt: skip
            flags.append((a, b, reasons))
            continue
        low, high = min(ra, rb), max(ra, rb)
        parent[high] = low
        members_of[low] += members_of.pop(high)
    return [[by_number[n] for n in numbers] for numbers in members_of.values()], flags


def _writer(by_number: dict[int, BatchRow], number: int) -> int:
    row = by_number[number]
    return row.of_row if row.of_row is not None else number
