"""Identity resolution benchmark: `identity_resolve` by email, by phone, by name + postcode.

See ``bench/customers_common.py`` for the dataset and helpers."""

from __future__ import annotations

import random
import time
from collections import defaultdict

from bench import Run, benchmark
from bench.customers_common import (
    DATASET,
    RESOLVE_SAMPLES,
    SEED,
    _cursor,
    dataset_size_note,
    ensure_vacuumed,
    how_to_run,
    slowest_statement_note,
    statements,
)
from bench.generate_customers import bench_ids_sql

# -- Identity resolution ------------------------------------------------------------------------

RESOLVE_KINDS = ["resolve by email", "resolve by phone (national format)", "resolve by name + postcode"]


@benchmark(
    "customers_resolve",
    targets=dict.fromkeys(RESOLVE_KINDS, 15),
    dataset=DATASET,
    how_to_run=how_to_run("customers_resolve"),
)
def customers_resolve(run: Run) -> None:
    """`customers.services.identity.identity_resolve(...)` in-process, with three kinds of input drawn
    from the generated customers, interleaved: an email address, a phone number typed in national format
    (`06 12 34 56 78`), and given + family name with the postcode of the primary address (the fuzzy path:
    trigram similarity within the postcode, then rapidfuzz)."""
    from customers.services.identity import identity_resolve

    ensure_vacuumed()
    rng = random.Random(SEED + 1)
    with _cursor() as cursor:
        cursor.execute(
            f"""
            SELECT c.id, c.given_name, c.family_name,
                   (SELECT value FROM customers_contactpoint p WHERE p.customer_id = c.id AND p.kind = 'email'
                    ORDER BY p.id LIMIT 1),
                   (SELECT value FROM customers_contactpoint p WHERE p.customer_id = c.id
                    AND p.kind IN ('mobile', 'phone') ORDER BY p.id LIMIT 1),
                   (SELECT postcode FROM customers_postaladdress a WHERE a.customer_id = c.id AND a.is_primary)
            FROM customers_customer c
            WHERE c.id IN ({bench_ids_sql(("bench",))}) AND c.kind = 'person' AND c.merged_into_id IS NULL
            ORDER BY md5(c.id::text || %s) LIMIT %s
            """,  # noqa: S608 - constants only
            [str(rng.random()), RESOLVE_SAMPLES * 2],
        )
        people = cursor.fetchall()
    inputs: dict[str, list[tuple[dict, int]]] = {kind: [] for kind in RESOLVE_KINDS}
    for pk, given, family, email, phone, postcode in people:
        if email and len(inputs[RESOLVE_KINDS[0]]) < RESOLVE_SAMPLES:
            inputs[RESOLVE_KINDS[0]].append(({"email": email}, pk))
        if phone and len(inputs[RESOLVE_KINDS[1]]) < RESOLVE_SAMPLES:
            national = "0" + phone[3:]
            inputs[RESOLVE_KINDS[1]].append(({"phone": " ".join(national[i : i + 2] for i in range(0, 10, 2))}, pk))
        if postcode and len(inputs[RESOLVE_KINDS[2]]) < RESOLVE_SAMPLES:
            inputs[RESOLVE_KINDS[2]].append(({"given_name": given, "family_name": family, "postcode": postcode}, pk))
    for kind in RESOLVE_KINDS:
        for kwargs, _pk in inputs[kind][:10]:
            identity_resolve(**kwargs)
    found = defaultdict(int)
    matched = defaultdict(int)
    slowest: dict[str, tuple[float, list]] = {}
    for index in range(RESOLVE_SAMPLES):
        for kind in RESOLVE_KINDS:
            if index >= len(inputs[kind]):
                continue
            kwargs, pk = inputs[kind][index]
            with statements() as seen:
                started = time.perf_counter()
                result = identity_resolve(**kwargs)
                elapsed = time.perf_counter() - started
            run.record(kind, elapsed)
            if result.match is not None and result.match.pk == pk:
                matched[kind] += 1
            if pk in {c.customer.pk for c in result.candidates}:
                found[kind] += 1
            if elapsed > slowest.get(kind, (0, []))[0]:
                slowest[kind] = (elapsed, seen)
    dataset_size_note(run)
    run.note("outcomes per kind (the drawn customer as the match / among the candidates): " + "; ".join(
        f"{kind}: {matched[kind]} / {found[kind]} of {len(inputs[kind])}" for kind in RESOLVE_KINDS))  # fmt: skip
    for kind in RESOLVE_KINDS:
        values = sorted(run.samples.get(kind, []))
        if values and values[min(len(values) - 1, int(0.95 * len(values)))] > 0.015:
            slowest_statement_note(run, slowest[kind][1], f"{kind} (call of {slowest[kind][0] * 1000:.0f} ms)")
