"""Identity resolution benchmark: precision and recall of `match` on labelled French people.

``generate()`` (``bench/generate_identity.py``) draws (seeded, pure Python) a population of existing
customers with many namesakes —
Faker fr_FR names drawn by their frequency, so "Martin" and "Bernard" dominate, in few towns; people
given the name of someone in their own town; households sharing an address, a family mailbox or a
landline, a parent and a child with the same name and address but other birth dates — and a file of
incoming rows, each labelled with the truth: the existing person it is (re-typed in other formats,
with a typo, moved, with another email or mobile, or with fields missing) or a new person (a namesake
in the same town or at the same address, a relative sharing the mailbox or the landline, a stranger,
or one new person twice in the file).

``load()`` writes the existing customers with set-based inserts (the model's ``bulk_create``: the
database's own triggers keep the name + postcode look-up); ``evaluate()`` builds each row's evidence
with ``evidence_build``, decides with ``identity_resolve_many`` in chunks of 1,000 (as the import
does) and settles the file with ``identity_within_batch``, then counts the confusion against the
truth. ``tests/customers/test_identity_benchmark.py`` runs it small on every test run.

Each labelled row carries what tells its person apart: a new person sharing someone's mailbox has
another given name or a birth date, a new namesake has his own email, mobile or birth date. A row
that no rule could tell from an existing customer measures nothing about the rule.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from bench import Run, benchmark
from bench.generate_identity import KNOWN_VARIANTS, NEW_VARIANTS, SOURCE, TAG, Dataset, Row, generate

CHUNK_ROWS = 1_000  # as the import decides its rows
PRECISION_TARGET, RECALL_TARGET = 0.999, 0.95


# -- Writing the existing customers ---------------------------------------------------------------


def load(dataset: Dataset) -> dict[int, int]:
    """Write the existing people as customers, set-based; return ``{person key: customer id}``."""
    from customers.models import ContactPoint, Customer, CustomerExternalId, PostalAddress
    from customers.normalise import afnor_locality_line, phone_normalise

    customers = Customer.objects.bulk_create(
        [Customer(title=p.title, given_name=p.given, family_name=p.family, birth_date=p.birth_date, tags=[TAG])
         for p in dataset.existing],
        batch_size=2_000,
    )  # fmt: skip
    ids = {p.key: c.pk for p, c in zip(dataset.existing, customers, strict=True)}
    contacts, addresses, external_ids = [], [], []
    for p in dataset.existing:
        customer_id = ids[p.key]
        for index, email in enumerate(p.emails):
            contacts.append(ContactPoint(customer_id=customer_id, kind="email", value=email, raw_value=email,
                                         is_primary=index == 0))  # fmt: skip
        primary_phone = True
        for number in (p.mobile, p.landline):
            if number:
                kind = "mobile" if phone_normalise(number).is_mobile else "phone"
                contacts.append(ContactPoint(customer_id=customer_id, kind=kind, value=number, raw_value=number,
                                             is_primary=kind == "mobile" or primary_phone))  # fmt: skip
                primary_phone = primary_phone and kind != "phone"
        if p.external_id:
            external_ids.append(CustomerExternalId(customer_id=customer_id, source=SOURCE, value=p.external_id))
        recipient = f"{'M.' if p.title == 'mr' else 'Mme'} {p.given} {p.family.upper()}"[:38]
        addresses.append(PostalAddress(customer_id=customer_id, line1=recipient, line4=p.street,
                                       line6=afnor_locality_line(postcode=p.postcode, city=p.city, country="FR"),
                                       postcode=p.postcode, city=p.city, country="FR", is_primary=True))  # fmt: skip
    ContactPoint.objects.bulk_create(contacts, batch_size=5_000)
    PostalAddress.objects.bulk_create(addresses, batch_size=5_000)
    CustomerExternalId.objects.bulk_create(external_ids, batch_size=5_000)
    return ids


def foreign_identifiers(dataset: Dataset) -> int:
    """How many of the generated emails and phones the database already holds for other customers."""
    from django.db import connection

    values = sorted({e for p in dataset.existing for e in p.emails} | {p.mobile for p in dataset.existing if p.mobile}
                    | {p.landline for p in dataset.existing if p.landline})  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM customers_contactpoint WHERE value = ANY(%s)", [values])
        return cursor.fetchone()[0]


# -- The confusion ---------------------------------------------------------------------------------


@dataclass
class Confusion:
    """Counts of one stage's decisions against the truth, overall and per row variant."""

    match_correct: int = 0
    match_wrong: int = 0  # two people in one record: the worst outcome
    missed_flagged: int = 0  # a known person created anew, with a pair to review against the right one
    missed: int = 0  # a known person created anew without that pair
    new_correct: int = 0
    new_flagged: int = 0  # a new person, created, with a pair to review (work for a person, no harm)
    per_variant: dict[str, Counter] = field(default_factory=dict)

    def add(self, variant: str, outcome: str) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)
        self.per_variant.setdefault(variant, Counter())[outcome] += 1

    @property
    def precision(self) -> float:
        decided = self.match_correct + self.match_wrong
        return self.match_correct / decided if decided else 1.0

    @property
    def recall(self) -> float:
        known = self.match_correct + self.missed_flagged + self.missed
        return self.match_correct / known if known else 1.0

    def counts(self) -> dict[str, int]:
        names = ("match_correct", "match_wrong", "missed_flagged", "missed", "new_correct", "new_flagged")
        return {name: getattr(self, name) for name in names}


@dataclass
class Evaluation:
    database: Confusion  # each row against the database as it was before the file
    final: Confusion  # after the file's rows are settled against each other too
    rows: int
    evidence_seconds: float
    resolve_seconds: list[tuple[int, float]]  # (rows, seconds) per chunk
    batch_seconds: float
    review_pairs: int
    wrong: list[tuple[Row, str]]  # the wrong merges, for the report

    def table(self) -> str:
        """The confusion as a Markdown table (both stages), then per variant."""
        lines = ["| stage | match correct | match WRONG | missed, flagged | missed | new correct | new, flagged "
                 "| precision | recall |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]  # fmt: skip
        for label, c in (("against the database", self.database), ("after the in-file resolution", self.final)):
            n = c.counts()
            lines.append(f"| {label} | {' | '.join(f'{v:,}' for v in n.values())} | {c.precision:.2%} "
                         f"| {c.recall:.2%} |")  # fmt: skip
        lines += ["", "| row variant (after the in-file resolution) | rows | match correct | match WRONG "
                  "| missed, flagged | missed | new correct | new, flagged |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|"]  # fmt: skip
        for variant in (*KNOWN_VARIANTS, *NEW_VARIANTS):
            counts = self.final.per_variant.get(variant, Counter())
            n = [counts[k] for k in self.final.counts()]
            lines.append(f"| {variant} | {sum(n):,} | {' | '.join(f'{v:,}' for v in n)} |")
        return "\n".join(lines)


def _evidence(row: Row):
    from customers.services.identity import evidence_build

    return evidence_build(email=row.email, phone=row.phone,
                          external_id=(SOURCE, row.external_id) if row.external_id else None,
                          given_name=row.given_name, family_name=row.family_name, postcode=row.postcode,
                          street=row.street, birth_date=row.birth_date)  # fmt: skip


def _classify(truth: tuple[str, int], *, merged_into: object, reviewed: set, expected: object, same: bool) -> str:
    """The confusion cell of one row: ``merged_into`` is what it was written into (None: a new record).

    ``same``: ``merged_into`` is a record of the row's own person, though not the expected one (another
    row of the same known person that was itself created anew): a miss, not two people in one record.
    """
    if merged_into is not None and merged_into != expected and same:
        return "missed"
    if merged_into is not None:
        return "match_correct" if merged_into == expected else "match_wrong"
    if truth[0] == "known" or expected is not None:
        return "missed_flagged" if expected in reviewed else "missed"
    return "new_flagged" if reviewed else "new_correct"


def evaluate(dataset: Dataset, ids: dict[int, int]) -> Evaluation:
    """Decide every row as an import does and count the outcomes against the truth."""
    from customers.services.identity import Outcome, identity_resolve_many, identity_within_batch
    from customers.services.identity.batch import DUPLICATE, SAME_CUSTOMER

    started = time.perf_counter()
    evidence = [_evidence(row) for row in dataset.rows]
    evidence_seconds = time.perf_counter() - started
    decisions, chunks = [], []
    for start in range(0, len(evidence), CHUNK_ROWS):
        chunk = evidence[start : start + CHUNK_ROWS]
        started = time.perf_counter()
        decisions += identity_resolve_many(chunk)
        chunks.append((len(chunk), time.perf_counter() - started))
    started = time.perf_counter()
    settled = identity_within_batch([(row.number, e, d) for row, e, d in zip(dataset.rows, evidence, decisions,
                                                                            strict=True)])  # fmt: skip
    batch_seconds = time.perf_counter() - started

    customer_of = {customer_id: ("known", key) for key, customer_id in ids.items()}
    by_number = {row.number: row for row in dataset.rows}
    database, final = Confusion(), Confusion()
    wrong: list[tuple[Row, str]] = []
    # Against the database: a known person's row must match its customer, a new person's must not match.
    for row, decision in zip(dataset.rows, decisions, strict=True):
        expected = ids[row.truth[1]] if row.truth[0] == "known" else None
        merged = decision.customer_id if decision.outcome == Outcome.MATCH else None
        cell = _classify(
            row.truth, merged_into=merged, reviewed=set(decision.review_ids), expected=expected, same=False
        )
        database.add(row.variant, cell)
        if cell == "match_wrong":
            wrong.append((row, f"matched {customer_of.get(merged, ('outside the benchmark', merged))}"))
    # After the file: a row goes into a customer (its match, or the one its duplicate's row matched), into
    # the record of an earlier row of the same file, or into a new record of its own.
    first_row: dict[tuple[str, int], int] = {}
    for row in sorted(dataset.rows, key=lambda r: r.number):
        first_row.setdefault(row.truth, row.number)
    outcome = {b.number: b for b in settled.rows}
    reviewed_rows: dict[int, set[int]] = {}
    for a, b, _reasons in settled.review_pairs:
        reviewed_rows.setdefault(a, set()).add(b)
        reviewed_rows.setdefault(b, set()).add(a)

    def written_into(number: int) -> tuple[str, object] | None:
        """("customer", truth of the customer) or ("row", truth of the other row) or None (its own new record)."""
        settled_row = outcome[number]
        writer = outcome[settled_row.of_row] if settled_row.action in (DUPLICATE, SAME_CUSTOMER) else settled_row
        if writer.decision.outcome == Outcome.MATCH:
            return ("customer", customer_of.get(writer.decision.customer_id, ("outside", writer.decision.customer_id)))
        return ("row", by_number[writer.number].truth) if writer.number != number else None

    for row in dataset.rows:
        if row.truth[0] == "known":
            expected = ("customer", row.truth)
        else:
            expected = ("row", row.truth) if first_row[row.truth] != row.number else None
        reviewed = {("row", by_number[n].truth) for n in reviewed_rows.get(row.number, ())}
        reviewed |= {("customer", customer_of.get(i, ("outside", i))) for i in outcome[row.number].decision.review_ids}
        target = written_into(row.number)
        cell = _classify(
            row.truth,
            merged_into=target,
            reviewed=reviewed,
            expected=expected,
            same=target is not None and target[1] == row.truth,
        )
        final.add(row.variant, cell)
        if cell == "match_wrong" and decisions[row.number - 1].outcome != Outcome.MATCH:
            wrong.append((row, f"settled in the file into {target}"))
    return Evaluation(database=database, final=final, rows=len(dataset.rows), evidence_seconds=evidence_seconds,
                      resolve_seconds=chunks, batch_seconds=batch_seconds, review_pairs=len(settled.review_pairs),
                      wrong=wrong)  # fmt: skip


def wrong_text(evaluation: Evaluation, dataset: Dataset, ids: dict[int, int], limit: int = 10) -> str:
    """The first wrong merges, with what the row said and what the customer held (to read a failure)."""
    people = {p.key: p for p in dataset.existing}
    lines = []
    for row, what in evaluation.wrong[:limit]:
        truth = people.get(row.truth[1]) if row.truth[0] == "known" else None
        lines.append(f"row {row.number} [{row.variant}] truth {row.truth} {what}: {row.given_name} {row.family_name} "
                     f"{row.email} {row.phone} {row.postcode} {row.street} {row.birth_date} {row.external_id}"
                     + (f" (truth holds {truth.emails} {truth.mobile})" if truth else ""))  # fmt: skip
    return "\n".join(lines)


# -- The benchmark ----------------------------------------------------------------------------------


def sizes() -> tuple[int, int]:
    return (int(os.environ.get("RELAIS_BENCH_IDENTITY_EXISTING", "20000")),
            int(os.environ.get("RELAIS_BENCH_IDENTITY_ROWS", "10000")))  # fmt: skip


class _Rollback(Exception):
    pass


@benchmark(
    "identity_resolution",
    dataset=(),
    how_to_run="`python -m bench --only identity_resolution` (sizes: `RELAIS_BENCH_IDENTITY_EXISTING`, default "
    "20,000, and `RELAIS_BENCH_IDENTITY_ROWS`, default 10,000)",
)
def identity_resolution(run: Run) -> None:
    """Precision and recall of the identity rule's `match` on a labelled French population
    (`bench/bench_identity.py`): existing customers with many namesakes (Faker fr_FR names by frequency
    in few towns, people named like someone of their town, six "Loïc Leroy" of one town, households
    sharing an address, a family mailbox or a landline, a parent and a child of the same name at the
    same address) and a file of labelled rows: known people re-typed in other formats, with a typo,
    moved, with another email or mobile, with fields missing; new namesakes in the same town or at
    the same address, relatives sharing a mailbox or a landline, strangers, a new person twice in the
    file. Each row's evidence is built by `evidence_build`, decided by `identity_resolve_many` in
    chunks of 1,000 against the customers written set-based (one transaction, rolled back at the
    end), and the file is settled by `identity_within_batch`. A `match` is correct when it is the
    row's own person; precision = correct / all matches (target >= 99.9 %: a wrong merge is far worse
    than a missed one), recall = correct / rows of known people (target >= 95 %). Times are per row."""
    from django.db import transaction

    existing, incoming = sizes()
    started = time.perf_counter()
    dataset = generate(existing, incoming)
    run.note(f"generated in {time.perf_counter() - started:.1f} s: {dataset.describe()}")
    try:
        with transaction.atomic():
            taken = foreign_identifiers(dataset)
            if taken:
                run.note(f"{taken} generated emails or phones already belong to customers outside the benchmark")
            started = time.perf_counter()
            ids = load(dataset)
            run.note(f"written set-based in {time.perf_counter() - started:.1f} s")
            evaluation = evaluate(dataset, ids)
            raise _Rollback
    except _Rollback:
        pass
    for rows, seconds in evaluation.resolve_seconds:
        run.record("identity_resolve_many, per row (chunks of 1,000)", seconds / rows)
    run.record("evidence_build, per row", evaluation.evidence_seconds / evaluation.rows)
    run.record("identity_within_batch, per row (whole file)", evaluation.batch_seconds / evaluation.rows)
    run.note("confusion (a row is one decision; *missed, flagged*: created anew with a duplicate pair to review "
             "against its own customer; *new, flagged*: a new person created with a pair to review):\n\n"
             + "\n".join("  " + line for line in evaluation.table().splitlines()))  # fmt: skip
    run.note(f"pairs of rows of the file flagged for review: {evaluation.review_pairs:,}")
    for label, confusion in (("against the database", evaluation.database), ("after the file", evaluation.final)):
        if confusion.precision < PRECISION_TARGET:
            run.problem(f"precision {label} {confusion.precision:.3%} < 99.9 %: "
                        + wrong_text(evaluation, dataset, ids, 5).replace("\n", "; "))  # fmt: skip
        if confusion.recall < RECALL_TARGET:
            run.problem(f"recall {label} {confusion.recall:.2%} < 95 %")


def main(argv: Sequence[str] | None = None) -> None:  # pragma: no cover - a quick look without the runner
    print(generate(*sizes()).describe())
