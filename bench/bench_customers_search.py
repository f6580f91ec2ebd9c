"""Header search benchmark: `customer_search` over six query kinds.

See ``bench/customers_common.py`` for the dataset and helpers."""

from __future__ import annotations

import random
import time
from collections import defaultdict

from bench import BenchmarkSkipped, Run, benchmark
from bench.customers_common import (
    DATASET,
    SEARCH_SAMPLES,
    SEED,
    _cursor,
    dataset_size_note,
    ensure_vacuumed,
    how_to_run,
    slowest_statement_note,
    statements,
)
from bench.generate_customers import bench_ids_sql

# -- Header search ------------------------------------------------------------------------------

SEARCH_KINDS = ["name", "partial name", "email", "phone (other format)", "account number", "order number"]


def _search_terms(rng: random.Random, n: int) -> dict[str, list[tuple[str, int]]]:
    """(text typed, customer id expected among the hits) per query kind, drawn from the dataset."""
    with _cursor() as cursor:
        cursor.execute(
            f"""
            SELECT c.id, c.given_name, c.family_name, c.account_number,
                   (SELECT value FROM customers_contactpoint p WHERE p.customer_id = c.id AND p.kind = 'email'
                    ORDER BY p.id LIMIT 1),
                   (SELECT value FROM customers_contactpoint p WHERE p.customer_id = c.id
                    AND p.kind IN ('mobile', 'phone') ORDER BY p.id LIMIT 1),
                   (SELECT number FROM customers_order o WHERE o.customer_id = c.id ORDER BY o.id LIMIT 1)
            FROM customers_customer c
            WHERE c.id IN ({bench_ids_sql(("bench",))}) AND c.kind = 'person' AND c.merged_into_id IS NULL
            ORDER BY md5(c.id::text || %s) LIMIT %s
            """,  # noqa: S608 - constants only
            [str(rng.random()), n * 3],
        )
        people = cursor.fetchall()
    terms: dict[str, list[tuple[str, int]]] = {kind: [] for kind in SEARCH_KINDS}
    for pk, given, family, account, email, phone, order in people:
        if len(terms["name"]) < n:
            terms["name"].append((f"{given} {family}", pk))
        if len(terms["partial name"]) < n and len(family) >= 5:
            # What an agent types before the dropdown shows the person: a stem of the name, lower case.
            cut = 4 + rng.randrange(2)
            terms["partial name"].append((f"{given[:3].lower()} {family[:cut].lower()}", pk))
        if email and len(terms["email"]) < n:
            terms["email"].append((email.upper() if rng.random() < 0.3 else email, pk))
        if phone and len(terms["phone (other format)"]) < n:
            national = "0" + phone[3:]
            style = rng.randrange(3)
            typed = (
                " ".join(national[i : i + 2] for i in range(0, 10, 2))
                if style == 0
                else f"0033 {phone[3]} {phone[4:6]} {phone[6:8]} {phone[8:10]} {phone[10:12]}"
                if style == 1
                else f"+33 (0){phone[3]}.{phone[4:6]}.{phone[6:8]}.{phone[8:10]}.{phone[10:12]}"
            )
            terms["phone (other format)"].append((typed, pk))
        if len(terms["account number"]) < n:
            digits = account[2:]
            terms["account number"].append((account if rng.random() < 0.5 else digits.lstrip("0"), pk))
        if order and len(terms["order number"]) < n:
            terms["order number"].append((order.lower() if rng.random() < 0.3 else order, pk))
    return terms


@benchmark(
    "customers_search",
    # An agent types while the customer talks: results must follow the keystrokes (DESIGN.md section 4).
    targets=dict.fromkeys(SEARCH_KINDS, 25),
    dataset=DATASET,
    how_to_run=how_to_run("customers_search"),
)
def customers_search(run: Run) -> None:
    """Header search through `customers.search.customer_search(query=..., limit=10)` in-process (server
    side, no HTTP), 6 query kinds drawn from the generated customers: full name, partial name (a stem
    of the given and family names, lower case), email (30 % upper-cased), a phone typed in another
    format than the stored E.164 (`06 12 34 56 78`, `0033 6 …`, `+33 (0)6.…`), account number (`C-0012345`
    or bare digits) and order number (`CMD-…`, 30 % lower-cased). Kinds are interleaved; each sample is
    one call, hydration of the 10 hits included."""
    from customers.search import customer_search

    ensure_vacuumed()
    rng = random.Random(SEED)
    terms = _search_terms(rng, SEARCH_SAMPLES)
    for kind in SEARCH_KINDS:
        if len(terms[kind]) < SEARCH_SAMPLES // 2:
            raise BenchmarkSkipped(f"not enough generated customers for {kind!r} terms: load the customers part")
    for kind in SEARCH_KINDS:  # warm-up: plans cached, pages in shared buffers
        for text, _pk in terms[kind][:10]:
            customer_search(query=text, limit=10)
    missed: dict[str, int] = defaultdict(int)
    slowest: dict[str, tuple[float, list]] = {}
    for index in range(SEARCH_SAMPLES):
        for kind in SEARCH_KINDS:
            if index >= len(terms[kind]):
                continue
            text, pk = terms[kind][index]
            with statements() as seen:
                started = time.perf_counter()
                hits = customer_search(query=text, limit=10)
                elapsed = time.perf_counter() - started
            run.record(kind, elapsed)
            if pk not in {hit.pk for hit in hits}:
                missed[kind] += 1
            if elapsed > slowest.get(kind, (0, []))[0]:
                slowest[kind] = (elapsed, seen)
    dataset_size_note(run)
    run.note(f"{SEARCH_SAMPLES} terms per kind, limit 10; expected customer missing from the hits: "
             + ", ".join(f"{kind} {missed.get(kind, 0)}" for kind in SEARCH_KINDS)
             + " (names are shared: many customers are called Jean Martin, so a name's hits may not include "
               "the one drawn)")  # fmt: skip
    summaries = {kind: sorted(run.samples[kind]) for kind in SEARCH_KINDS if kind in run.samples}
    for kind, values in summaries.items():
        p95 = values[min(len(values) - 1, int(0.95 * len(values)))]
        if p95 > 0.025:
            elapsed, seen = slowest[kind]
            slowest_statement_note(run, seen, f"{kind} (call of {elapsed * 1000:.0f} ms, "
                                              f"text {terms[kind][0][0]!r} is an example term)")  # fmt: skip
