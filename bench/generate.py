"""Deterministic benchmark data, bulk-loaded with PostgreSQL's COPY.

The dataset is made of *parts* (staff now; customers, orders, interactions in later issues). Each part
is a :class:`DatasetPart` subclass registered with ``@dataset_part``: it says how many rows a
``--scale`` gives, how to count and clear its rows, and how to load them, usually by streaming a
Python generator into :func:`copy_rows`. A part is loaded once per (size, seed, version): the
``bench_dataset`` table remembers what is loaded, so a second run with the same scale reuses it, and a
part whose inputs changed is cleared and reloaded together with every part that depends on it.

Rows come from Faker (fr_FR and en_GB) seeded per part, so the same scale and seed give the same rows
on every machine. Run ``python -m bench.generate --scale 1000`` to load without benchmarking.
"""

from __future__ import annotations

import argparse
import itertools
import random
import time
import unicodedata
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from psycopg import Cursor, sql

DEFAULT_SEED = 20240601
DEFAULT_SCALE = 1000
COPY_BATCH_ROWS = 50_000
LOCALES = ("fr_FR", "en_GB")

MARKER_DDL = """
CREATE TABLE IF NOT EXISTS bench_dataset (
    name text PRIMARY KEY,
    rows bigint NOT NULL,
    seed bigint NOT NULL,
    version integer NOT NULL,
    load_seconds double precision NOT NULL,
    loaded_at timestamptz NOT NULL DEFAULT now()
)
"""


# -- Building blocks for parts ------------------------------------------------------------------


def copy_rows(
    cursor: Cursor, table: str, columns: list[str], rows: Iterable[tuple], *, batch_rows: int = COPY_BATCH_ROWS
) -> int:
    """Stream ``rows`` into ``table`` with one ``COPY ... FROM STDIN`` per batch; return the row count.

    Batches bound the memory held by a generator that builds rows lazily and give a progress line on
    long loads; they share the caller's transaction.
    """
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(sql.Identifier(column) for column in columns)
    )
    iterator = iter(rows)
    total = 0
    started = time.perf_counter()
    while True:
        batch = list(itertools.islice(iterator, batch_rows))
        if not batch:
            break
        with cursor.copy(statement) as copy:
            for row in batch:
                copy.write_row(row)
        total += len(batch)
        if len(batch) == batch_rows:
            rate = total / max(time.perf_counter() - started, 1e-9)
            print(f"    {table}: {total:,} rows ({rate:,.0f} rows/s)", flush=True)
    return total


@contextmanager
def indexes_dropped(cursor: Cursor, *tables: str) -> Iterator[list[str]]:
    """Drop the plain indexes of ``tables`` for a bulk load and rebuild them afterwards.

    Indexes that a constraint uses (primary keys, unique constraints, those foreign keys point to)
    stay, so integrity is still checked during the load. Yields the names of the dropped indexes. Run
    it inside a transaction: if the load fails, the rollback brings the indexes back.
    """
    definitions: list[tuple[str, str]] = []
    for table in tables:
        cursor.execute(
            """
            SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
            FROM pg_index i
            WHERE i.indrelid = %s::regclass
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
            ORDER BY 1
            """,
            [table],
        )
        definitions.extend(cursor.fetchall())
    for name, _definition in definitions:
        cursor.execute(sql.SQL("DROP INDEX {}").format(sql.SQL(name)))
    yield [name for name, _definition in definitions]
    started = time.perf_counter()
    # Django's foreign keys are DEFERRABLE INITIALLY DEFERRED: their checks of the loaded rows are still
    # queued, and PostgreSQL refuses to index a table with queued checks. Run them now.
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    for _name, definition in definitions:
        # A partitioned table's index reads "ON ONLY parent" (the parent alone); rebuild it on every partition.
        cursor.execute(definition.replace(" ON ONLY ", " ON ", 1))
    for table in tables:
        cursor.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(table)))
    if definitions:
        print(f"    rebuilt {len(definitions)} indexes in {time.perf_counter() - started:.2f} s", flush=True)


def reserve_ids(cursor: Cursor, table: str, count: int) -> int:
    """Reserve ``count`` consecutive ids of ``table``'s id sequence; return the first one.

    Rows copied with explicit ids can then be referenced by other rows of the same load (group
    memberships, orders of a customer) without reading the ids back.
    """
    cursor.execute(sql.SQL("LOCK TABLE {} IN EXCLUSIVE MODE").format(sql.Identifier(table)))
    cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
    sequence = cursor.fetchone()[0]
    cursor.execute(
        sql.SQL("SELECT GREATEST((SELECT COALESCE(MAX(id), 0) FROM {}), (SELECT last_value FROM {}))").format(
            sql.Identifier(table), sql.SQL(sequence)
        )
    )
    first = cursor.fetchone()[0] + 1
    cursor.execute("SELECT setval(%s, %s)", [sequence, first + count - 1])
    return first


def fakers(seed: int) -> dict[str, object]:
    """One seeded Faker per locale; pick the locale with your own seeded ``random.Random``.

    Faker's multi-locale proxy picks locales with the module-level ``random``, which a seed on the
    instance does not cover, so each locale gets its own instance instead.
    """
    from faker import Faker

    instances = {}
    for offset, locale in enumerate(LOCALES):
        fake = Faker(locale)
        fake.seed_instance(seed + offset)
        instances[locale] = fake
    return instances


def ascii_slug(text: str) -> str:
    """``Hélène-Marie d'Orléans`` -> ``helenemariedorleans``: for usernames and email local parts."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(char for char in folded.lower() if char.isalnum())


# -- Parts ----------------------------------------------------------------------------------------


class DatasetPart:
    """One kind of bench rows. Subclasses set ``name``, ``version`` and ``depends_on`` and define
    ``count(cursor) -> int`` (rows the database holds now), ``clear(cursor)`` (delete this part's rows
    and only them) and ``load(cursor, *, rows, seed)`` (insert ``rows`` rows, deterministic for ``seed``).
    """

    name: str = ""
    version: int = 1
    depends_on: tuple[str, ...] = ()

    def rows_for_scale(self, scale: int) -> int:
        """How many rows this part holds for ``--scale``."""
        return scale


PARTS: dict[str, DatasetPart] = {}


def dataset_part(cls: type[DatasetPart]) -> type[DatasetPart]:
    """Register a part; parts load in registration order, after the parts they depend on."""
    if cls.name in PARTS:
        raise ValueError(f"Two dataset parts are named {cls.name!r}.")
    missing = [name for name in cls.depends_on if name not in PARTS]
    if missing:
        raise ValueError(f"Dataset part {cls.name!r} depends on unregistered parts {missing}.")
    PARTS[cls.name] = cls()
    return cls


@dataset_part
class StaffPart(DatasetPart):
    """Staff accounts ``bench-*`` in the four roles, sharing one password hash."""

    name = "staff"
    version = 1
    USERNAME_PREFIX = "bench-"
    PASSWORD = "bench-password-not-secret"
    # Mostly agents, as in a contact centre.
    ROLE_WEIGHTS = {"Agent": 70, "Supervisor": 10, "Marketer": 15, "Admin": 5}
    COLUMNS = [
        "id", "password", "last_login", "is_superuser", "username", "first_name", "last_name", "email",
        "is_staff", "is_active", "date_joined", "language", "phone_extension",
    ]  # fmt: skip

    def count(self, cursor: Cursor) -> int:
        cursor.execute("SELECT count(*) FROM crm_user WHERE username LIKE %s", [self.USERNAME_PREFIX + "%"])
        return cursor.fetchone()[0]

    def clear(self, cursor: Cursor) -> None:
        bench_users = "SELECT id FROM crm_user WHERE username LIKE %s"
        pattern = [self.USERNAME_PREFIX + "%"]
        cursor.execute(f"DELETE FROM crm_user_groups WHERE user_id IN ({bench_users})", pattern)
        cursor.execute(f"DELETE FROM crm_user_user_permissions WHERE user_id IN ({bench_users})", pattern)
        cursor.execute("DELETE FROM crm_user WHERE username LIKE %s", pattern)

    def load(self, cursor: Cursor, *, rows: int, seed: int) -> None:
        from django.contrib.auth.hashers import make_password

        cursor.execute("SELECT name, id FROM auth_group WHERE name = ANY(%s)", [list(self.ROLE_WEIGHTS)])
        group_ids = dict(cursor.fetchall())
        if len(group_ids) != len(self.ROLE_WEIGHTS):
            missing = sorted(set(self.ROLE_WEIGHTS) - set(group_ids))
            raise RuntimeError(f"Role groups {missing} are missing: migrate first.")
        # Hashing is deliberately slow (PBKDF2): one hash serves every bench account, and its salt comes
        # from the seed so that the rows are the same on every load.
        password = make_password(self.PASSWORD, salt=f"bench{seed}")
        first_id = reserve_ids(cursor, "crm_user", rows)
        roles: list[tuple[int, int]] = []
        with indexes_dropped(cursor, "crm_user", "crm_user_groups"):
            copy_rows(cursor, "crm_user", self.COLUMNS, self._users(rows, seed, first_id, password, roles))
            copy_rows(cursor, "crm_user_groups", ["user_id", "group_id"],
                      ((user_id, group_ids[role]) for user_id, role in roles))  # fmt: skip

    def _users(self, rows: int, seed: int, first_id: int, password: str, roles: list) -> Iterator[tuple]:
        rng = random.Random(seed)
        fake_by_locale = fakers(seed)
        role_names, weights = list(self.ROLE_WEIGHTS), list(self.ROLE_WEIGHTS.values())
        start = datetime(2019, 1, 1, tzinfo=UTC)
        for index in range(rows):
            user_id = first_id + index
            locale = "fr_FR" if rng.random() < 0.7 else "en_GB"
            fake = fake_by_locale[locale]
            first, last = fake.first_name(), fake.last_name()
            role = rng.choices(role_names, weights)[0]
            roles.append((user_id, role))
            handle = f"{ascii_slug(first)}.{ascii_slug(last)}"
            joined = start + timedelta(seconds=rng.randrange(5 * 365 * 86400))
            last_login = joined + timedelta(seconds=rng.randrange(86400 * 30)) if rng.random() < 0.8 else None
            yield (
                user_id,
                password,
                last_login,
                False,
                f"{self.USERNAME_PREFIX}{handle}-{index:07d}"[:150],
                first,
                last,
                f"{handle}.{index}@bench.relais.example",
                role == "Admin",
                rng.random() < 0.97,
                joined,
                locale[:2],
                f"{rng.randrange(1000, 9999)}" if role in {"Agent", "Supervisor"} else "",
            )


# -- Loading --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Loaded:
    """What a part holds after :func:`ensure_dataset`."""

    name: str
    rows: int
    reused: bool
    seconds: float


def _with_dependencies(names: Iterable[str]) -> list[str]:
    wanted: set[str] = set()

    def visit(name: str) -> None:
        if name not in PARTS:
            raise KeyError(f"No dataset part is named {name!r} (known: {', '.join(PARTS)}).")
        if name not in wanted:
            wanted.add(name)
            for dependency in PARTS[name].depends_on:
                visit(dependency)

    for name in names:
        visit(name)
    return [name for name in PARTS if name in wanted]  # registration order is a topological order


def _dependents(names: set[str]) -> set[str]:
    result = set(names)
    for name, part in PARTS.items():  # registration order: dependencies come first
        if result.intersection(part.depends_on):
            result.add(name)
    return result


def ensure_dataset(names: Iterable[str], *, scale: int, seed: int = DEFAULT_SEED, force: bool = False) -> list[Loaded]:
    """Make the database hold parts ``names`` (and their dependencies) for ``scale`` and ``seed``.

    A part already loaded with the same rows, seed and version, whose rows are all still there, is
    reused. Any other is cleared and reloaded, and so is every loaded part that depends on it, in one
    transaction: a failed load leaves the previous dataset as it was.
    """
    from django.db import connection, transaction

    order = _with_dependencies(names)
    if not order:
        return []
    results: list[Loaded] = []
    with transaction.atomic():
        connection.ensure_connection()
        with connection.connection.cursor() as cursor:
            cursor.execute(MARKER_DDL)
            cursor.execute("SELECT name, rows, seed, version, load_seconds FROM bench_dataset")
            markers = {row[0]: row[1:] for row in cursor.fetchall()}
            expected = {name: PARTS[name].rows_for_scale(scale) for name in order}
            stale = {
                name
                for name in order
                if force
                or markers.get(name, (None,) * 4)[:3] != (expected[name], seed, PARTS[name].version)
                or PARTS[name].count(cursor) != expected[name]
            }
            # Clearing a part breaks the rows that point to it, loaded or not: clear its dependents too.
            to_clear = [name for name in PARTS if name in _dependents(stale)]
            for name in reversed(to_clear):
                PARTS[name].clear(cursor)
                cursor.execute("DELETE FROM bench_dataset WHERE name = %s", [name])
            for name in order:
                if name not in stale and name not in to_clear:
                    results.append(Loaded(name, expected[name], reused=True, seconds=markers[name][3]))
                    continue
                print(f"  loading dataset part {name!r}: {expected[name]:,} rows (seed {seed})", flush=True)
                started = time.perf_counter()
                PARTS[name].load(cursor, rows=expected[name], seed=seed)
                seconds = time.perf_counter() - started
                cursor.execute(
                    "INSERT INTO bench_dataset (name, rows, seed, version, load_seconds) VALUES (%s, %s, %s, %s, %s)",
                    [name, expected[name], seed, PARTS[name].version, seconds],
                )
                print(f"  loaded {name!r} in {seconds:.2f} s", flush=True)
                results.append(Loaded(name, expected[name], reused=False, seconds=seconds))
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.generate", description=__doc__.split("\n\n")[0])
    parser.add_argument("parts", nargs="*", help="parts to load (default: all registered)")
    parser.add_argument("--scale", type=int, default=DEFAULT_SCALE, help="dataset scale (staff accounts)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--force", action="store_true", help="reload even if the same dataset is there")
    args = parser.parse_args(argv)
    from bench.run import discover, setup_django, stop_embedded_if_started_here

    discover()  # the bench_* modules import the parts they need (bench.generate_customers, ...)

    setup_django()
    try:
        for loaded in ensure_dataset(args.parts or list(PARTS), scale=args.scale, seed=args.seed, force=args.force):
            state = "reused" if loaded.reused else "loaded"
            print(f"{loaded.name}: {loaded.rows:,} rows {state} ({loaded.seconds:.2f} s to load)")
    finally:
        stop_embedded_if_started_here()
    return 0


if __name__ == "__main__":
    # Run the importable module's main, so parts registered by other modules land in the same registry.
    from bench.generate import main as _main

    raise SystemExit(_main())
