"""Customer-record benchmarks: header search, the 360 page, identity resolution, CSV import, merge.

They run on the ``customers`` and ``orders`` parts of ``bench/generate_customers.py`` (100 customers per
``--scale`` unit: ``--scale 10000`` is the 1M-customer run the targets are set for). Where a statement
is slow, the benchmark runs ``EXPLAIN (ANALYZE, BUFFERS)`` on the slowest statement it saw and adds the
plan under its table, so every run carries its own evidence.
"""

from __future__ import annotations

import csv
import os
import random
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import bench.generate_customers  # noqa: F401 - registers the customers and orders parts
from bench import BenchmarkSkipped, Run, benchmark
from bench.generate_customers import _bulk_session, bench_ids_sql, clear_bench_customers

DATASET = ("staff", "customers", "orders")
SEARCH_SAMPLES = 200  # per query kind
RESOLVE_SAMPLES = 300  # per input kind
PAGE_REQUESTS = 200
MERGE_PAIRS = 30
MERGE_ROWS = {"orders": 150, "lines": 300, "contact_points": 20, "addresses": 10, "consents": 20}  # 500 per customer
SEED = 7


def how_to_run(name: str) -> str:
    return (
        f"`RELAIS_BENCH_CUSTOMERS=1000000 python -m bench --only {name}` "
        "(1M customers; without the variable, 100 per `--scale` unit)"
    )


# -- Helpers ------------------------------------------------------------------------------------


def _cursor():
    from django.db import connection

    return connection.cursor()


def ensure_vacuumed() -> None:
    """VACUUM ANALYZE the customer tables once after a load (it cannot run inside the load's transaction).

    Without it the first reads of COPY-loaded pages set hint bits (writes) and index-only scans fall back
    to the heap: the first benchmark would measure the load, not the queries.
    """
    tables = ["customers_customer", "customers_contactpoint", "customers_postaladdress", "customers_consent",
              "customers_order", "customers_orderline", "customers_product"]  # fmt: skip
    with _cursor() as cursor:
        cursor.execute(
            "SELECT bool_or(GREATEST(COALESCE(s.last_vacuum, '-infinity'), COALESCE(s.last_autovacuum, '-infinity'))"
            "               < (SELECT max(loaded_at) FROM bench_dataset WHERE name IN ('customers', 'orders'))) "
            "FROM pg_stat_user_tables s WHERE s.relname = ANY(%s)",
            [tables],
        )
        if not cursor.fetchone()[0]:
            return
        started = time.perf_counter()
        for table in tables:
            cursor.execute(f"VACUUM (ANALYZE) {table}")
        print(f"  VACUUM ANALYZE after the load: {time.perf_counter() - started:.1f} s", flush=True)


@contextmanager
def statements() -> Iterator[list[tuple[float, str, object]]]:
    """Record every SQL statement Django runs in the block: (seconds, sql, params)."""
    from django.db import connection

    seen: list[tuple[float, str, object]] = []

    def wrapper(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            seen.append((time.perf_counter() - started, sql, params))

    with connection.execute_wrapper(wrapper):
        yield seen


def explain(sql: str, params, *, rollback: bool = False) -> str:
    """``EXPLAIN (ANALYZE, BUFFERS)`` of one statement, as text; in a rolled-back transaction if it writes."""
    from django.db import transaction

    class _Rollback(Exception):
        pass

    plan: list[str] = []
    try:
        with transaction.atomic():
            with _cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
                plan = [row[0] for row in cursor.fetchall()]
            if rollback:
                raise _Rollback
    except _Rollback:
        pass
    return "\n".join(plan)


def plan_note(title: str, sql: str, plan: str) -> str:
    """A note holding a statement and its plan as an indented code block (Markdown inside a list item)."""
    one_line = " ".join(sql.split())
    if len(one_line) > 600:
        one_line = one_line[:600] + " …"
    body = "\n".join("  " + line for line in ["```", one_line, "", *plan.splitlines(), "```"])
    return f"{title}:\n\n{body}"


def slowest_statement_note(run: Run, samples: list[tuple[float, str, object]], label: str, *, rollback=False):
    if not samples:
        return
    seconds, sql, params = max(samples, key=lambda s: s[0])
    if sql.lstrip().upper().startswith(("SET", "SAVEPOINT", "RELEASE")):
        return
    title = f"{label}: slowest statement ({seconds * 1000:.1f} ms when measured), EXPLAIN (ANALYZE, BUFFERS) run again"
    run.note(plan_note(title, sql, explain(sql, params, rollback=rollback)))


def dataset_size_note(run: Run) -> None:
    with _cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT count(*) FROM customers_customer), (SELECT count(*) FROM customers_contactpoint), "
            "(SELECT count(*) FROM customers_postaladdress), (SELECT count(*) FROM customers_order), "
            "(SELECT count(*) FROM customers_orderline), (SELECT count(*) FROM customers_consent), "
            "pg_size_pretty(pg_database_size(current_database()))"
        )
        c, cp, a, o, ol, cs, size = cursor.fetchone()
        cursor.execute("SELECT name, load_seconds FROM bench_dataset WHERE name IN ('customers', 'orders')")
        loads = ", ".join(f"{name} {seconds:.0f} s" for name, seconds in cursor.fetchall())
    run.note(
        f"tables: {c:,} customers, {cp:,} contact points, {a:,} addresses, {o:,} orders, {ol:,} order lines, "
        f"{cs:,} consent entries; database {size}; load time of the parts: {loads}"
    )


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


# -- 360 page -----------------------------------------------------------------------------------


def big_customer() -> tuple[int, int]:
    with _cursor() as cursor:
        cursor.execute(
            "SELECT c.id, (SELECT count(*) FROM customers_order o WHERE o.customer_id = c.id) "
            "FROM customers_customer c "
            "WHERE c.tags @> '{bench-360}'::varchar(50)[] ORDER BY c.id LIMIT 1"
        )
        row = cursor.fetchone()
    if row is None:
        raise BenchmarkSkipped("no customer tagged bench-360: load the customers and orders parts")
    return row


@benchmark(
    "customers_360",
    targets={"GET /customers/<pk>/ (500 orders)": 100},
    dataset=DATASET,
    how_to_run=how_to_run("customers_360"),
)
def customers_360(run: Run) -> None:
    """The 360 page of the customer holding 500 orders (1,250 order lines), through the production
    server (gunicorn, 2 uvicorn workers, DEBUG off), signed in as an Admin on one keep-alive connection,
    requests one after another. Afterwards the same page is rendered in-process with every SQL statement
    recorded, to count queries and find the slowest."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    from bench.bench_foundation import (
        BENCH_ADMIN_PASSWORD,
        BENCH_ADMIN_USERNAME,
        KeepAliveClient,
        bench_admin_ensure,
        production_server,
    )

    ensure_vacuumed()
    pk, orders = big_customer()
    path = f"/customers/{pk}/"
    operation = "GET /customers/<pk>/ (500 orders)"
    bench_admin_ensure()
    with production_server(workers=2) as base_url:
        client = KeepAliveClient(base_url)
        client.login(BENCH_ADMIN_USERNAME, BENCH_ADMIN_PASSWORD)
        size = 0
        for _ in range(20):
            status, _headers, body = client.request("GET", path)
            if status != 200:
                raise RuntimeError(f"{path} answered {status} during warm-up")
            size = len(body)
        for _ in range(PAGE_REQUESTS):
            started = time.perf_counter()
            status, _headers, _body = client.request("GET", path)
            run.record(operation, time.perf_counter() - started)
            if status != 200:
                raise RuntimeError(f"{path} answered {status}")
        client.close()
    dataset_size_note(run)
    run.note(f"customer {pk} with {orders} orders; {PAGE_REQUESTS} measured requests after 20 warm-up ones; "
             f"response {size:,} B (gzip accepted)")  # fmt: skip
    # In-process diagnosis: how many statements, and which one costs most.
    browser = Client(SERVER_NAME="127.0.0.1")
    browser.force_login(get_user_model().objects.get(username=BENCH_ADMIN_USERNAME))
    browser.get(path)
    with statements() as seen:
        started = time.perf_counter()
        response = browser.get(path)
        total = time.perf_counter() - started
    sql_ms = sum(s for s, _sql, _p in seen) * 1000
    run.note(f"in-process render (Django test client, same settings): {response.status_code}, {total * 1000:.0f} ms, "
             f"{len(seen)} SQL statements taking {sql_ms:.0f} ms in all")  # fmt: skip
    top = sorted(seen, key=lambda s: -s[0])[:3]
    run.note("slowest statements: " + "; ".join(f"{s * 1000:.1f} ms `{' '.join(q.split())[:160]}`" for s, q, _p in top))
    if run.samples[operation] and sorted(run.samples[operation])[int(0.95 * len(run.samples[operation]))] > 0.1:
        slowest_statement_note(run, seen, "360 page")


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


# -- CSV import ---------------------------------------------------------------------------------

IMPORT_HEADER = ["Ref client", "Civilité", "Prénom", "Nom", "Société", "Date de naissance", "E-mail", "Téléphone",
                 "Adresse", "Complément", "Code postal", "Ville", "Pays", "Langue", "Stade", "Tags"]  # fmt: skip
IMPORT_MAPPING = {
    "Ref client": "external_id", "Civilité": "title", "Prénom": "given_name", "Nom": "family_name",
    "Société": "company_name", "Date de naissance": "birth_date", "E-mail": "email", "Téléphone": "phone",
    "Adresse": "line4", "Complément": "line2", "Code postal": "postcode", "Ville": "city", "Pays": "country",
    "Langue": "language", "Stade": "stage", "Tags": "tags",
}  # fmt: skip


def import_rows() -> int:
    return int(os.environ.get("RELAIS_BENCH_IMPORT_ROWS", "100000"))


def write_import_csv(path: Path, rows: int, seed: int) -> None:
    """A customer file as a French back office would export it: ``;``-separated, UTF-8, local formats."""
    from bench.generate_customers import FIXED_PREFIXES, MOBILE_PREFIXES, Pools, _national, _phone

    pools = Pools(seed)
    rng = random.Random(seed)
    titles = {"mr": "M.", "ms": "Mme"}
    stages = ["prospect", "lead", "customer", "loyal"]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(IMPORT_HEADER)
        for index in range(rows):
            locale = "en" if rng.random() < 0.1 else "fr"
            given, title = pools.given[locale][rng.randrange(len(pools.given[locale]))]
            family = pools.family[locale][rng.randrange(len(pools.family[locale]))]
            postcode, city = pools.localities[rng.randrange(len(pools.localities))]
            # Numbers far from the generated customers' (another offset of the same bijection).
            phone = _phone(MOBILE_PREFIXES if rng.random() < 0.7 else FIXED_PREFIXES, index, 7, 50_000_000)
            birth = f"{rng.randrange(1, 29):02d}/{rng.randrange(1, 13):02d}/{rng.randrange(1940, 2005)}"
            writer.writerow([
                f"IMP-{index:08d}", titles[title], given, family, "", birth if rng.random() < 0.8 else "",
                f"{pools.slug[given]}.{pools.slug[family]}.imp{index}@exemple-import.fr",
                _national(phone, rng),
                f"{rng.randrange(1, 200)} {pools.streets[rng.randrange(len(pools.streets))]}"[:38],
                f"Bâtiment {rng.randrange(1, 9)}" if rng.random() < 0.1 else "", postcode, city, "FR",
                "fr" if locale == "fr" else "en", stages[rng.randrange(4)], "bench-import",
            ])  # fmt: skip


@benchmark(
    "customers_import",
    # 25,000 rows/s: a million-customer file in 40 s, while the agents keep working.
    targets={"import (end to end)": ("max", import_rows() / 25_000 * 1000)},  # the time 25,000 rows/s allows
    dataset=DATASET,
    how_to_run=how_to_run("customers_import"),
)
def customers_import(run: Run) -> None:
    """A customer CSV file (`;`-separated, French headers and formats: `06 12 …` phones, `dd/mm/yyyy`
    dates, `Mme`/`M.` titles) imported end to end with the import service, as `manage.py import_customers`
    does: `import_job_create` (stores the file, reads its header) → `import_job_queue` (mapping checked
    and saved, rows counted; the Celery task not sent) → `import_run` in this process, which takes the
    bulk path (validation and normalisation in Python, COPY into a staging table, duplicate and
    identity matching and the writes set-based, pghistory triggers on). Rows per second = file rows /
    wall time. The imported customers (tag `bench-import`) are deleted afterwards."""
    from django.contrib.auth import get_user_model
    from django.core.files import File

    from bench.bench_foundation import BENCH_ADMIN_USERNAME, bench_admin_ensure
    from customers.models import ImportJob
    from customers.services.imports import import_job_create, import_run
    from customers.services.imports.jobs import import_job_queue

    ensure_vacuumed()
    rows = import_rows()
    _remove_imported()
    bench_admin_ensure()
    admin = get_user_model().objects.get(username=BENCH_ADMIN_USERNAME)
    folder = Path(tempfile.mkdtemp(prefix="relais-bench-import-"))
    path = folder / f"clients-{rows}.csv"
    started = time.perf_counter()
    write_import_csv(path, rows, SEED)
    written = time.perf_counter() - started
    run.note(f"file: {rows:,} rows, {path.stat().st_size / 1e6:.1f} MB, written in {written:.1f} s "
             "(not measured)")  # fmt: skip
    job = None
    try:
        with statements() as seen:
            started = time.perf_counter()
            with path.open("rb") as handle:
                job = import_job_create(kind="customers", source="bench-import", upload=File(handle, path.name),
                                        acting_user=admin)  # fmt: skip
            job = import_job_queue(job=job, mapping=IMPORT_MAPPING, dry_run=False, enqueue=False)
            job = import_run(job_id=job.pk)
            elapsed = time.perf_counter() - started
        run.record("import (end to end)", elapsed)
        if job.status != ImportJob.Status.DONE:
            run.problem(f"the import ended {job.status}: {job.failure}")
        run.note(f"{rows / elapsed:,.0f} rows/s (target 25,000 rows/s); job: {job.created_rows:,} created, "
                 f"{job.updated_rows:,} updated, {job.error_rows:,} rejected")  # fmt: skip
        top = sorted(seen, key=lambda s: -s[0])[:5]
        sql_seconds = sum(s for s, _q, _p in seen)
        run.note(f"{len(seen):,} SQL statements, {sql_seconds:.1f} s of the {elapsed:.1f} s in SQL (the rest: "
                 "reading, validating and normalising rows in Python, COPY streaming); slowest: "
                 + "; ".join(f"{s:.2f} s `{' '.join(q.split())[:120]}`" for s, q, _p in top))  # fmt: skip
    finally:
        if job is not None:
            job.file.delete(save=False)
            ImportJob.objects.filter(pk=job.pk).delete()
        path.unlink(missing_ok=True)
        folder.rmdir()
        started = time.perf_counter()
        removed = _remove_imported()
        print(f"  removed {removed:,} imported customers in {time.perf_counter() - started:.1f} s", flush=True)
    dataset_size_note(run)


def _remove_imported() -> int:
    from django.db import transaction

    with transaction.atomic(), _cursor() as cursor:
        removed = clear_bench_customers(cursor.cursor, ("bench-import",))
        cursor.execute("DELETE FROM customers_customerexternalid WHERE source = 'bench-import'")
    return removed


# -- Merge --------------------------------------------------------------------------------------


def create_merge_pairs(pairs: int) -> list[tuple[int, int]]:
    """``pairs`` fresh pairs of customers (tag ``bench-merge``), each customer with 500 related rows.

    Per customer: 150 orders with 300 lines, 20 contact points (5 of them shared with the other of the
    pair, to be de-duplicated), 10 addresses and 20 consent entries. Inserted set-based with triggers
    off (not measured).
    """
    from django.db import transaction

    rows = MERGE_ROWS
    count = pairs * 2
    with transaction.atomic(), _cursor() as django_cursor:
        cursor = django_cursor.cursor
        _bulk_session(cursor)
        cursor.execute(
            f"""
            INSERT INTO customers_customer (kind, title, given_name, family_name, company_name, birth_date, language,
                stage, stage_entered_at, preferred_channel, tags, attributes, notes, created_via, created_at,
                updated_at)
            SELECT 'person', 'ms', 'Camille', 'Fusion' || (n / 2), '', date '1980-01-01' + (n / 2), 'fr',
                   CASE WHEN n % 2 = 0 THEN 'customer' ELSE 'lead' END, now(), '', '{{bench-merge}}', '{{}}', '',
                   'import', now() - interval '1 day' * n, now()
            FROM generate_series(0, {count} - 1) n
            RETURNING id
            """  # noqa: S608 - integers only
        )
        ids = sorted(row[0] for row in cursor.fetchall())
        cursor.execute("CREATE TEMP TABLE bench_pair ON COMMIT DROP AS SELECT unnest(%s::bigint[]) AS id", [ids])
        cursor.execute(
            f"""
            INSERT INTO customers_contactpoint (customer_id, kind, value, raw_value, label, social_network,
                is_primary, is_verified, is_undeliverable, undeliverable_reason, created_at, updated_at)
            SELECT b.id, 'email',
                   CASE WHEN n <= 5 THEN 'shared' || n || '.pair' || ((b.id - {ids[0]}) / 2) || '@fusion.example'
                        ELSE 'own' || n || '.' || b.id || '@fusion.example' END,
                   '', '', '', n = 1, false, false, '', now(), now()
            FROM bench_pair b, generate_series(1, {rows["contact_points"]}) n
            """  # noqa: S608 - integers only
        )
        cursor.execute(
            f"""
            INSERT INTO customers_postaladdress (customer_id, line1, line2, line3, line4, line5, line6, postcode, city,
                country, is_primary, is_undeliverable, created_at, updated_at)
            SELECT b.id, 'MME CAMILLE FUSION', '', '', n || ' RUE DE LA PAIX', '', '75002 PARIS', '75002', 'Paris',
                   'FR', n = 1, false, now(), now()
            FROM bench_pair b, generate_series(1, {rows["addresses"]}) n
            """  # noqa: S608 - integers only
        )
        cursor.execute(
            f"""
            INSERT INTO customers_consent (customer_id, channel, purpose, status, source, occurred_at, proof_text,
                user_agent, recorded_at)
            SELECT b.id, (ARRAY['email', 'sms', 'phone', 'postal_mail'])[1 + n % 4], 'marketing',
                   CASE WHEN n % 3 = 0 THEN 'withdrawn' ELSE 'granted' END, 'import',
                   now() - interval '1 hour' * n, '', '', now()
            FROM bench_pair b, generate_series(1, {rows["consents"]}) n
            """  # noqa: S608 - integers only
        )
        cursor.execute(
            f"""
            INSERT INTO customers_order (number, source, external_id, status, sales_channel, store, total_amount,
                currency, placed_at, updated_at, customer_id)
            SELECT 'CMD-M' || b.id || '-' || n, 'bench-merge', 'M' || b.id || '-' || n, 'delivered', 'web', '', 10,
                   'EUR', now() - interval '1 day' * n, now(), b.id
            FROM bench_pair b, generate_series(1, {rows["orders"]}) n
            """  # noqa: S608 - integers only
        )
        per_order = rows["lines"] // rows["orders"]
        cursor.execute(
            f"""
            INSERT INTO customers_orderline (sku, label, quantity, unit_price, amount, customer_id, order_id)
            SELECT 'SKU', 'Article', 1, 5, 5, o.customer_id, o.id
            FROM customers_order o, generate_series(1, {per_order}) n
            WHERE o.customer_id IN (SELECT id FROM bench_pair)
            """  # noqa: S608 - integers only
        )
        cursor.execute("ANALYZE bench_pair")
    return [(ids[i], ids[i + 1]) for i in range(0, len(ids), 2)]


@benchmark(
    "customers_merge",
    targets={"merge (500 + 500 related rows)": 200},
    dataset=DATASET,
    how_to_run=how_to_run("customers_merge"),
)
def customers_merge(run: Run) -> None:
    """`customers.services.merge.customer_merge(survivor=..., duplicate=..., acting_user=...)` in-process on
    fresh pairs of customers created for the run (not measured), each customer with 500 related rows:
    150 orders with 300 lines, 20 contact points (5 shared between the two, de-duplicated by the merge),
    10 addresses and 20 consent entries. One merge per pair: survivorship preview, re-pointing of every
    customer-keyed table found by introspection, history (pghistory triggers on), deferred composite
    keys checked, commit."""
    from django.contrib.auth import get_user_model

    from bench.bench_foundation import BENCH_ADMIN_USERNAME, bench_admin_ensure
    from customers.models import Customer
    from customers.services.merge import customer_merge

    ensure_vacuumed()
    bench_admin_ensure()
    admin = get_user_model().objects.get(username=BENCH_ADMIN_USERNAME)
    _remove_merge_pairs()
    started = time.perf_counter()
    pairs = create_merge_pairs(MERGE_PAIRS)
    run.note(f"{len(pairs)} pairs created in {time.perf_counter() - started:.1f} s (not measured)")
    per_statement: dict[str, list[float]] = defaultdict(list)
    slowest: tuple[float, list] = (0.0, [])
    try:
        for survivor_id, duplicate_id in pairs:
            survivor, duplicate = Customer.objects.get(pk=survivor_id), Customer.objects.get(pk=duplicate_id)
            with statements() as seen:
                started = time.perf_counter()
                customer_merge(survivor=survivor, duplicate=duplicate, acting_user=admin)
                elapsed = time.perf_counter() - started
            run.record("merge (500 + 500 related rows)", elapsed)
            for seconds, sql, _params in seen:
                per_statement[" ".join(sql.split())[:140]].append(seconds)
            if elapsed > slowest[0]:
                slowest = (elapsed, seen)
        with _cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM customers_order WHERE source = 'bench-merge' AND customer_id = ANY(%s)",
                [[s for s, _d in pairs]],
            )
            moved = cursor.fetchone()[0]
        expected = len(pairs) * MERGE_ROWS["orders"] * 2
        if moved != expected:
            run.problem(f"after the merges the survivors hold {moved} orders, {expected} expected")
        statements_per_merge = sum(len(v) for v in per_statement.values()) / max(len(pairs), 1)
        top = sorted(per_statement.items(), key=lambda kv: -sum(kv[1]))[:5]
        run.note(f"{statements_per_merge:.0f} SQL statements per merge; most time in: "
                 + "; ".join(f"{sum(v) / len(pairs) * 1000:.1f} ms/merge `{q}`" for q, v in top))  # fmt: skip
        values = sorted(run.samples["merge (500 + 500 related rows)"])
        if values[int(0.95 * (len(values) - 1))] > 0.2:
            slowest_statement_note(run, slowest[1], "merge", rollback=True)
        dataset_size_note(run)
    finally:
        _remove_merge_pairs()


def _remove_merge_pairs() -> int:
    from django.db import transaction

    with transaction.atomic(), _cursor() as cursor:
        pairs = bench_ids_sql(("bench-merge",))
        where = f"customer_low_id IN ({pairs}) OR customer_high_id IN ({pairs})"
        cursor.execute(f"DELETE FROM customers_duplicatepair WHERE {where}")  # noqa: S608
        return clear_bench_customers(cursor.cursor, ("bench-merge",))
