"""Bench data for the customer record: customers, contact points, addresses, consents, orders and lines.

Two parts, registered after ``staff``:

- ``customers``: ``customers_for_scale(scale)`` customers (100 per ``--scale`` unit: the default scale
  1000 gives 100,000; ``--scale 10000`` gives 1,000,000; ``RELAIS_BENCH_CUSTOMERS`` overrides), with
  about 2.5 contact points each (emails, French mobiles ``+336…``/``+337[3-9]…`` and fixed lines
  ``+33[1-5]…``, all valid E.164 numbers), 1.5 postal addresses each (AFNOR lines, valid French
  postcodes) and a consent ledger for about a third of them. Names come from Faker's fr_FR (90 %) and
  en_GB (10 %) pools, drawn with a seeded ``random.Random``. Streamed with COPY.
- ``orders``: 2 orders and 5 order lines per customer, generated server-side with one
  ``INSERT ... SELECT`` over ``generate_series`` each (deterministic arithmetic on the row index: no
  random(), so the same scale gives the same rows), plus 2,000 products. The first customer (tag
  ``bench-360``) holds exactly 500 of those orders, for the 360-page benchmark.

Both load with ``SET LOCAL session_replication_role = replica`` (the embedded server's ``postgres``
user is a superuser): the pghistory triggers, the consent ledger's guard and the foreign-key triggers
do not fire for bench rows; secondary indexes are dropped during the load and rebuilt after
(``indexes_dropped``). Account numbers are ``'C-' || lpad(id, 7, '0')``, and
``customers_account_number_seq`` is moved past them; ``search_name`` is computed by PostgreSQL (a
generated column). Every bench customer carries the tag ``bench`` (or ``bench-merge`` / ``bench-import``
for the rows the merge and import benchmarks create), which is how ``clear`` finds them.
"""

from __future__ import annotations

import os
import random
import time
from array import array
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

from psycopg import Cursor, sql

from bench.generate import DatasetPart, ascii_slug, copy_rows, dataset_part, fakers, indexes_dropped, reserve_ids

CUSTOMERS_PER_SCALE = 100
ORDERS_PER_CUSTOMER = 2
LINES_PER_ORDER = 2.5  # 1, 2, 3, 4 lines in turn
BIG_CUSTOMER_ORDERS = 500
PRODUCTS = 2_000
BENCH_TAGS = ("bench", "bench-merge", "bench-import")

# Three-digit prefixes after +33 that libphonenumber accepts for every following digit (checked with
# phonenumbers 8.x): mobiles 6xx (not 639, 690-694, 696, 697) and 73x-79x; fixed lines 1xx-5xx
# (not 262, 40x, 590, 594).
MOBILE_PREFIXES = (
    [f"6{n:02d}" for n in range(0, 90) if n != 39] + ["695", "698", "699"] + [f"7{n:02d}" for n in range(30, 100)]
)
FIXED_PREFIXES = (
    [f"1{n:02d}" for n in range(100)]
    + [f"2{n:02d}" for n in range(100) if n != 62]
    + [f"3{n:02d}" for n in range(100)]
    + [f"4{n:02d}" for n in range(10, 100)]
    + [f"5{n:02d}" for n in range(100) if n not in (90, 94)]
)
EMAIL_DOMAINS = ["gmail.com", "orange.fr", "free.fr", "laposte.net", "sfr.fr", "hotmail.fr", "yahoo.fr",
                 "outlook.fr", "wanadoo.fr", "bbox.fr", "icloud.com", "protonmail.com"]  # fmt: skip
WORK_DOMAINS = ["entreprise.fr", "societe.com", "groupe.fr", "mairie.fr", "univ.fr"]
STAGES = {"prospect": 25, "lead": 10, "customer": 40, "loyal": 12, "lapsed": 8, "churned": 5}
# (department, weight): bigger departments get more customers; the postcode is department + 3 digits.
BIG_DEPARTMENTS = {"75": 8, "13": 5, "69": 5, "59": 5, "92": 4, "93": 4, "94": 3, "33": 4, "31": 3, "06": 3,
                   "44": 3, "67": 3, "34": 3, "78": 3, "77": 3, "91": 3, "95": 3, "76": 2, "62": 3,
                   "38": 2}  # fmt: skip


def customers_for_scale(scale: int) -> int:
    override = os.environ.get("RELAIS_BENCH_CUSTOMERS")
    return int(override) if override else scale * CUSTOMERS_PER_SCALE


def bench_ids_sql(tags: tuple[str, ...] = BENCH_TAGS) -> str:
    """A subquery of the ids of bench customers (the tags GIN index serves it)."""
    literal = "{" + ",".join(tags) + "}"
    return f"SELECT id FROM customers_customer WHERE tags && '{literal}'::varchar(50)[]"


def _bulk_session(cursor: Cursor) -> None:
    """Within the load's transaction: no triggers (history, FK checks, ledger guard), more memory for indexes."""
    cursor.execute("SET LOCAL session_replication_role = replica")
    cursor.execute("SET LOCAL maintenance_work_mem = '1GB'")
    cursor.execute("SET LOCAL synchronous_commit = off")


def _customer_tables(cursor: Cursor) -> list[tuple[str, str]]:
    """(table, column) of every foreign key to customers_customer, plus the history tables keyed by customer."""
    cursor.execute(
        """
        SELECT c.conrelid::regclass::text, a.attname
        FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
        WHERE c.contype = 'f' AND c.confrelid = 'customers_customer'::regclass AND cardinality(c.conkey) = 1
          AND c.conrelid <> 'customers_customer'::regclass
        ORDER BY 1, 2
        """
    )
    found = list(cursor.fetchall())
    for table, column in (
        ("customers_customerevent", "pgh_obj_id"),
        ("customers_contactpointevent", "customer_id"),
        ("customers_postaladdressevent", "customer_id"),
        ("customers_name_postcode", "customer_id"),  # identity lookup kept by triggers (off during loads)
    ):
        cursor.execute("SELECT to_regclass(%s)", [table])
        if cursor.fetchone()[0]:
            found.append((table, column))
    return found


def clear_bench_customers(cursor: Cursor, tags: tuple[str, ...] = BENCH_TAGS) -> int:
    """Delete the customers carrying one of ``tags`` and every row keyed by them; return how many customers."""
    _bulk_session(cursor)
    cursor.execute("DROP TABLE IF EXISTS bench_clear_ids")
    cursor.execute(f"CREATE TEMP TABLE bench_clear_ids ON COMMIT DROP AS {bench_ids_sql(tags)}")  # noqa: S608
    cursor.execute("ALTER TABLE bench_clear_ids ADD PRIMARY KEY (id)")
    cursor.execute("SELECT count(*) FROM bench_clear_ids")
    count = cursor.fetchone()[0]
    if not count:
        return 0
    # Order lines and invoices point at orders/contracts by (customer_id, id): delete them first.
    first = {"customers_orderline", "customers_invoice"}
    for table, column in sorted(_customer_tables(cursor), key=lambda tc: tc[0] not in first):
        cursor.execute(
            sql.SQL("DELETE FROM {} WHERE {} IN (SELECT id FROM bench_clear_ids)").format(
                sql.SQL(table), sql.Identifier(column)
            )
        )
    cursor.execute("UPDATE customers_customer SET merged_into_id = NULL WHERE id IN (SELECT id FROM bench_clear_ids)")
    cursor.execute("DELETE FROM customers_customer WHERE id IN (SELECT id FROM bench_clear_ids)")
    return count


def advance_account_sequence(cursor: Cursor) -> None:
    """Move customers_account_number_seq past the highest numeric account number (COPY-loaded ones included)."""
    cursor.execute(
        "SELECT GREATEST((SELECT last_value FROM customers_account_number_seq), "
        "(SELECT COALESCE(MAX(substr(account_number, 3)::bigint), 0) FROM customers_customer "
        "WHERE account_number ~ '^C-[0-9]+$'))"
    )
    cursor.execute("SELECT setval('customers_account_number_seq', %s)", [cursor.fetchone()[0]])


class Pools:
    """Names, streets and localities drawn once from Faker, then picked with a seeded Random."""

    def __init__(self, seed: int) -> None:
        from faker.providers.address.fr_FR import Provider as FrAddress
        from faker.providers.person.en_GB import Provider as GbPerson
        from faker.providers.person.fr_FR import Provider as FrPerson

        fake = fakers(seed)
        fr = fake["fr_FR"]
        # (given, title) pools per locale, family pools per locale; unique, sorted for determinism.
        self.given = {
            "fr": [(n, "mr") for n in sorted(set(FrPerson.first_names_male))]
            + [(n, "ms") for n in sorted(set(FrPerson.first_names_female))],
            "en": [(n, "mr") for n in sorted(set(GbPerson.first_names_male))]
            + [(n, "ms") for n in sorted(set(GbPerson.first_names_female))],
        }
        self.family = {"fr": sorted(set(FrPerson.last_names)), "en": sorted(set(GbPerson.last_names))}
        names = [
            *self.family["fr"],
            *self.family["en"],
            *(n for locale in ("fr", "en") for n, _t in self.given[locale]),
        ]
        self.slug = {name: ascii_slug(name) for name in names}
        self.companies = sorted({fr.company() for _ in range(3000)})
        streets = sorted({f"{p} {fr.street_name().split(' ', 1)[-1]}" for p in FrAddress.street_prefixes
                          for _ in range(40)})  # fmt: skip
        self.streets = [s.upper() for s in streets]
        rng = random.Random(seed)
        departments = [d for d, _n in FrAddress.departments if d.isdigit() and len(d) == 2 and d != "20"]
        weights = [BIG_DEPARTMENTS.get(d, 1) for d in departments]
        localities = []
        cities = sorted({fr.city() for _ in range(6000)})
        for city in cities:
            department = rng.choices(departments, weights)[0]
            if department == "75":
                localities.append((f"750{rng.randrange(1, 21):02d}", "Paris"))
            else:
                localities.append((f"{department}{rng.randrange(0, 100):02d}0", city))
        self.localities = localities


def _phone(prefixes: list[str], index: int, multiplier: int, offset: int) -> str:
    """A valid French number (E.164) from ``index``, distinct for distinct indexes (a bijection mod space)."""
    space = len(prefixes) * 1_000_000
    x = (index * multiplier + offset) % space
    return f"+33{prefixes[x // 1_000_000]}{x % 1_000_000:06d}"


def _national(e164: str, rng: random.Random) -> str:
    """How the number was typed: ``06 12 34 56 78``, ``0612345678`` or ``+33 6 12 34 56 78``."""
    national = "0" + e164[3:]
    style = rng.random()
    if style < 0.6:
        return " ".join(national[i : i + 2] for i in range(0, 10, 2))
    if style < 0.85:
        return national
    return "+33 " + e164[3] + " " + " ".join(e164[i : i + 2] for i in range(4, 12, 2))


@dataset_part
class CustomersPart(DatasetPart):
    """Customers with contact points, addresses and consents (tag ``bench``)."""

    name = "customers"
    version = 1
    depends_on = ("staff",)
    CUSTOMER_COLUMNS = [
        "id", "account_number", "kind", "title", "given_name", "family_name", "company_name", "birth_date",
        "language", "stage", "stage_entered_at", "preferred_channel", "tags", "attributes", "notes", "created_via",
        "last_contact_at", "created_at", "updated_at", "owner_id",
    ]  # fmt: skip
    CONTACT_COLUMNS = [
        "customer_id", "kind", "value", "raw_value", "label", "social_network", "is_primary", "is_verified",
        "is_undeliverable", "undeliverable_reason", "created_at", "updated_at",
    ]  # fmt: skip
    ADDRESS_COLUMNS = [
        "customer_id", "line1", "line2", "line3", "line4", "line5", "line6", "postcode", "city", "country",
        "is_primary", "valid_from", "valid_to", "is_undeliverable", "created_at", "updated_at",
    ]  # fmt: skip
    CONSENT_COLUMNS = [
        "customer_id", "channel", "purpose", "status", "source", "occurred_at", "proof_text", "user_agent",
        "recorded_at",
    ]  # fmt: skip

    def rows_for_scale(self, scale: int) -> int:
        return customers_for_scale(scale)

    def count(self, cursor: Cursor) -> int:
        cursor.execute(f"SELECT count(*) FROM ({bench_ids_sql(('bench',))}) b")  # noqa: S608
        return cursor.fetchone()[0]

    def clear(self, cursor: Cursor) -> None:
        clear_bench_customers(cursor)

    def load(self, cursor: Cursor, *, rows: int, seed: int) -> None:
        _bulk_session(cursor)
        cursor.execute("SELECT last_value FROM customers_account_number_seq")
        last_account = cursor.fetchone()[0]
        first_id = reserve_ids(cursor, "customers_customer", rows)
        if first_id <= last_account or first_id + rows > 10_000_000:
            raise RuntimeError(
                f"Account numbers C-{first_id:07d}… would collide with the sequence (at {last_account}) "
                "or need more than 7 digits: load the bench into an empty database."
            )
        cursor.execute(
            "SELECT id FROM crm_user u WHERE username LIKE 'bench-%%' AND EXISTS (SELECT 1 FROM crm_user_groups g "
            "JOIN auth_group r ON r.id = g.group_id WHERE g.user_id = u.id AND r.name IN ('Agent', 'Supervisor')) "
            "ORDER BY id"
        )
        owners = [row[0] for row in cursor.fetchall()] or [None]
        started = time.perf_counter()
        pools = Pools(seed)
        print(f"    name and address pools in {time.perf_counter() - started:.1f} s", flush=True)
        # Per customer, what the other tables need: locale (0 fr, 1 en), given and family indexes, kind.
        people = {"locale": array("b"), "given": array("i"), "family": array("i"), "company": array("i")}
        tables = ["customers_customer", "customers_contactpoint", "customers_postaladdress", "customers_consent",
                  "customers_name_postcode"]  # fmt: skip
        with indexes_dropped(cursor, *tables):
            copy_rows(cursor, "customers_customer", self.CUSTOMER_COLUMNS,
                      self._customers(rows, seed, first_id, pools, owners, people))  # fmt: skip
            copy_rows(cursor, "customers_contactpoint", self.CONTACT_COLUMNS,
                      self._contact_points(rows, seed, first_id, pools, people))  # fmt: skip
            copy_rows(cursor, "customers_postaladdress", self.ADDRESS_COLUMNS,
                      self._addresses(rows, seed, first_id, pools, people))  # fmt: skip
            copy_rows(cursor, "customers_consent", self.CONSENT_COLUMNS, self._consents(rows, seed, first_id))
            # The triggers that keep the name + postcode lookup are off during the load: fill it here.
            cursor.execute(
                "INSERT INTO customers_name_postcode (address_id, customer_id, postcode, search_name) "
                "SELECT a.id, a.customer_id, a.postcode, c.search_name FROM customers_postaladdress a "
                "JOIN customers_customer c ON c.id = a.customer_id WHERE a.customer_id >= %s",
                [first_id],
            )
        advance_account_sequence(cursor)

    def _customers(self, rows, seed, first_id, pools: Pools, owners, people) -> Iterator[tuple]:
        rng = random.Random(seed)
        start = datetime(2015, 1, 1, tzinfo=UTC)
        span = int((datetime(2025, 6, 1, tzinfo=UTC) - start).total_seconds())
        stages, weights = list(STAGES), list(STAGES.values())
        birth_start = date(1940, 1, 1)
        for index in range(rows):
            customer_id = first_id + index
            locale = "en" if rng.random() < 0.1 else "fr"
            given_index = rng.randrange(len(pools.given[locale]))
            family_index = rng.randrange(len(pools.family[locale]))
            given, title = pools.given[locale][given_index]
            family = pools.family[locale][family_index]
            is_company = rng.random() < 0.05
            company_index = rng.randrange(len(pools.companies)) if is_company else -1
            people["locale"].append(1 if locale == "en" else 0)
            people["given"].append(given_index)
            people["family"].append(family_index)
            people["company"].append(company_index)
            created = start + timedelta(seconds=rng.randrange(span))
            stage = rng.choices(stages, weights)[0]
            tags = "{bench,bench-360}" if index == 0 else "{bench}"
            yield (
                customer_id,
                f"C-{customer_id:07d}",
                "company" if is_company else "person",
                "" if is_company else (title if rng.random() < 0.9 else ""),
                given,
                family,
                pools.companies[company_index] if is_company else "",
                None if is_company or rng.random() < 0.2 else birth_start + timedelta(days=rng.randrange(65 * 365)),
                "en" if locale == "en" else "fr",
                stage,
                created + timedelta(days=rng.randrange(400)),
                "",
                tags,
                "{}",
                "",
                "import",
                created + timedelta(days=rng.randrange(700)) if rng.random() < 0.6 else None,
                created,
                created,
                owners[rng.randrange(len(owners))] if rng.random() < 0.5 else None,
            )

    def _contact_points(self, rows, seed, first_id, pools: Pools, people) -> Iterator[tuple]:
        rng = random.Random(seed + 1)
        created = datetime(2024, 1, 1, tzinfo=UTC)
        for index in range(rows):
            customer_id = first_id + index
            locale = "en" if people["locale"][index] else "fr"
            given = pools.slug[pools.given[locale][people["given"][index]][0]]
            family = pools.slug[pools.family[locale][people["family"][index]]]
            company_index = people["company"][index]
            if company_index >= 0:
                company = ascii_slug(pools.companies[company_index])[:30]
                email = f"contact{index}@{company}.fr"
            else:
                email = f"{given}.{family}{index}@{EMAIL_DOMAINS[rng.randrange(len(EMAIL_DOMAINS))]}"
            if rng.random() < 0.9:
                raw = email if rng.random() < 0.8 else email.capitalize()
                yield (customer_id, "email", email, raw, "", "", True, rng.random() < 0.3, False, "", created, created)
            if rng.random() < 0.2:
                work = f"{family}.{given}{index}@{WORK_DOMAINS[rng.randrange(len(WORK_DOMAINS))]}"
                yield (customer_id, "email", work, work, "work", "", False, False, False, "", created, created)
            if rng.random() < 0.85:
                mobile = _phone(MOBILE_PREFIXES, index, 48271, 17)
                yield (customer_id, "mobile", mobile, _national(mobile, rng), "", "", True, False, False, "",
                       created, created)  # fmt: skip
            if rng.random() < 0.55:
                fixed = _phone(FIXED_PREFIXES, index, 69621, 3)
                yield (customer_id, "phone", fixed, _national(fixed, rng), "home", "", True, False, False, "",
                       created, created)  # fmt: skip

    def _addresses(self, rows, seed, first_id, pools: Pools, people) -> Iterator[tuple]:
        from customers.normalise import afnor_locality_line

        rng = random.Random(seed + 2)
        created = datetime(2024, 1, 1, tzinfo=UTC)
        line6_cache: dict[int, str] = {}
        titles = {"mr": "M.", "ms": "MME"}
        for index in range(rows):
            customer_id = first_id + index
            locale = "en" if people["locale"][index] else "fr"
            given, title = pools.given[locale][people["given"][index]]
            family = pools.family[locale][people["family"][index]]
            company_index = people["company"][index]
            if company_index >= 0:
                recipient = pools.companies[company_index].upper()[:38]
            else:
                recipient = f"{titles[title]} {given} {family.upper()}"[:38]
            for primary in (True, False):
                if not primary and rng.random() >= 0.5:
                    break
                locality = rng.randrange(len(pools.localities))
                postcode, city = pools.localities[locality]
                if locality not in line6_cache:
                    line6_cache[locality] = afnor_locality_line(postcode=postcode, city=city, country="FR")
                street = f"{rng.randrange(1, 200)} {pools.streets[rng.randrange(len(pools.streets))]}"[:38]
                line2 = f"APPARTEMENT {rng.randrange(1, 60)}" if rng.random() < 0.2 else ""
                valid_from = date(2010, 1, 1) + timedelta(days=rng.randrange(3000))
                valid_to = None if primary else valid_from + timedelta(days=rng.randrange(30, 2000))
                yield (customer_id, recipient, line2, "", street, "", line6_cache[locality], postcode, city, "FR",
                       primary, valid_from, valid_to, False, created, created)  # fmt: skip

    def _consents(self, rows, seed, first_id) -> Iterator[tuple]:
        rng = random.Random(seed + 3)
        start = datetime(2020, 1, 1, tzinfo=UTC)
        for index in range(rows):
            if rng.random() >= 0.33:
                continue
            customer_id = first_id + index
            at = start + timedelta(seconds=rng.randrange(4 * 365 * 86400))
            yield (customer_id, "email", "marketing", "granted", "import", at, "Bench consent", "", at)
            if rng.random() < 0.3:
                yield (customer_id, "sms", "marketing", "granted", "web_form", at, "Bench consent", "", at)
            if rng.random() < 0.1:
                later = at + timedelta(days=rng.randrange(1, 300))
                yield (customer_id, "email", "marketing", "withdrawn", "unsubscribe_link", later, "", "", later)


def _order_sql_parts(*, customers: int, first_customer: int, first_order: int) -> dict[str, str]:
    """SQL expressions of the order index ``k``: its customer, its number of lines, its id.

    Orders 0-499 belong to the first customer (the 360 one); the others spread over the rest: 60 %
    uniformly, 40 % over every tenth customer (the loyal ones), from a multiplicative hash of k.
    """
    rest = customers - 1
    hashed = "((k::bigint * 2654435761) % 4294967291)"
    customer = (
        f"CASE WHEN k < {BIG_CUSTOMER_ORDERS} THEN {first_customer} "
        f"WHEN {hashed} % 10 < 6 THEN {first_customer} + 1 + ({hashed} / 10) % {rest} "
        f"ELSE {first_customer} + 1 + (({hashed} / 10) % GREATEST({rest} / 10, 1)) * 10 END"
    )
    return {"customer": customer, "lines": "(1 + k % 4)", "id": f"({first_order} + k)"}


@dataset_part
class OrdersPart(DatasetPart):
    """Orders (2 per customer, 500 for the ``bench-360`` customer) and their lines (2.5 per order)."""

    name = "orders"
    version = 1
    depends_on = ("customers",)

    def rows_for_scale(self, scale: int) -> int:
        return customers_for_scale(scale) * ORDERS_PER_CUSTOMER

    def count(self, cursor: Cursor) -> int:
        cursor.execute("SELECT count(*) FROM customers_order WHERE source = 'bench'")
        return cursor.fetchone()[0]

    def clear(self, cursor: Cursor) -> None:
        _bulk_session(cursor)
        cursor.execute(
            "DELETE FROM customers_orderline l USING customers_order o "
            "WHERE o.source = 'bench' AND l.order_id = o.id AND l.customer_id = o.customer_id"
        )
        cursor.execute("DELETE FROM customers_order WHERE source = 'bench'")
        cursor.execute("DELETE FROM customers_product WHERE source = 'bench'")

    def load(self, cursor: Cursor, *, rows: int, seed: int) -> None:
        _bulk_session(cursor)
        cursor.execute(f"SELECT min(id), count(*) FROM ({bench_ids_sql(('bench',))}) b")  # noqa: S608
        first_customer, customers = cursor.fetchone()
        if customers * ORDERS_PER_CUSTOMER != rows or rows < BIG_CUSTOMER_ORDERS * 2:
            raise RuntimeError(f"orders expect {rows // ORDERS_PER_CUSTOMER} bench customers, found {customers}")
        lines = (rows // 4) * 10 + [0, 1, 3, 6][rows % 4]
        first_product = reserve_ids(cursor, "customers_product", PRODUCTS)
        first_order = reserve_ids(cursor, "customers_order", rows)
        first_line = reserve_ids(cursor, "customers_orderline", lines)
        expr = _order_sql_parts(customers=customers, first_customer=first_customer, first_order=first_order)

        def price(p: str) -> str:
            return f"((499 + (({p} * 7919) % 20000))::numeric / 100)"

        with indexes_dropped(cursor, "customers_product", "customers_order", "customers_orderline"):
            started = time.perf_counter()
            cursor.execute(
                f"""
                INSERT INTO customers_product (id, sku, name, category, price, currency, is_active, source,
                                               external_id, created_at, updated_at)
                SELECT {first_product} + p, 'BENCH-P' || lpad(p::text, 5, '0'),
                       (ARRAY['Chaussures', 'Veste', 'Pantalon', 'Chemise', 'Montre', 'Sac', 'Lampe', 'Casque',
                              'Abonnement', 'Assurance'])[1 + p % 10] || ' modèle ' || p,
                       (ARRAY['mode', 'maison', 'high-tech', 'services'])[1 + p % 4], {price("p")}, 'EUR', true,
                       'bench', 'BENCH-P' || lpad(p::text, 5, '0'), now(), now()
                FROM generate_series(0, {PRODUCTS - 1}) p
                """  # noqa: S608 - integers only
            )
            # Line j of order k: product p(k, j), quantity 1-3; the order's total is the sum of its lines.
            product = f"(((k::bigint * 31 + j * 977) % {PRODUCTS}))"
            quantity = "(1 + (k + j) % 3)"
            line_offset = "((k / 4) * 10 + (ARRAY[0, 1, 3, 6])[1 + k % 4])"
            cursor.execute(
                f"""
                INSERT INTO customers_order (id, number, source, external_id, status, sales_channel, store,
                    total_amount, currency, placed_at, paid_at, shipped_at, delivered_at, updated_at, customer_id)
                SELECT {expr["id"]}, 'CMD-' || lpad({expr["id"]}::text, 10, '0'), 'bench',
                       'BENCH-O' || {expr["id"]}, s.status, (ARRAY['web', 'store', 'agency', 'phone', 'mobile_app',
                       'marketplace'])[1 + (k / 7) % 6], CASE WHEN (k / 7) % 6 IN (1, 2) THEN 'Magasin '
                       || (1 + k % 40) ELSE '' END,
                       (SELECT sum(q * pr) FROM (SELECT {quantity} AS q, p.price AS pr FROM generate_series(1,
                           {expr["lines"]}) j, LATERAL (SELECT {price(product)} AS price) p) x),
                       'EUR', t.placed, t.placed + interval '1 hour',
                       CASE WHEN s.status IN ('shipped', 'delivered', 'returned') THEN t.placed + interval '1 day' END,
                       CASE WHEN s.status IN ('delivered', 'returned') THEN t.placed + interval '3 days' END,
                       t.placed + interval '3 days', {expr["customer"]}
                FROM generate_series(0, {rows - 1}) k,
                     LATERAL (SELECT timestamptz '2019-01-01 00:00+00'
                                     + make_interval(secs => (k::bigint * 7919) % (6 * 365 * 86400)) AS placed) t,
                     LATERAL (SELECT (ARRAY['delivered', 'delivered', 'delivered', 'delivered', 'shipped', 'paid',
                                            'placed', 'returned', 'cancelled', 'delivered'])[1 + (k * 13) % 10]
                                     AS status) s
                """  # noqa: S608 - integers only
            )
            print(f"    customers_order: {rows:,} rows in {time.perf_counter() - started:.1f} s", flush=True)
            started = time.perf_counter()
            cursor.execute(
                f"""
                INSERT INTO customers_orderline (id, sku, label, quantity, unit_price, amount, customer_id, order_id,
                                                 product_id)
                SELECT {first_line} + {line_offset} + j - 1, 'BENCH-P' || lpad({product}::text, 5, '0'),
                       'Article ' || {product}, {quantity}, pr.price, {quantity} * pr.price, {expr["customer"]},
                       {expr["id"]}, {first_product} + {product}
                FROM generate_series(0, {rows - 1}) k, generate_series(1, {expr["lines"]}) j,
                     LATERAL (SELECT {price(product)} AS price) pr
                """  # noqa: S608 - integers only
            )
            print(f"    customers_orderline: {lines:,} rows in {time.perf_counter() - started:.1f} s", flush=True)
