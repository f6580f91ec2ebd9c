"""CSV import benchmark: a generated French customer file through the import service, end to end.

See ``bench/customers_common.py`` for the dataset and helpers."""

from __future__ import annotations

import csv
import os
import random
import tempfile
import time
from pathlib import Path

from bench import Run, benchmark
from bench.customers_common import DATASET, SEED, _cursor, dataset_size_note, ensure_vacuumed, how_to_run, statements
from bench.generate_customers import clear_bench_customers

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
        top = sorted(seen, key=lambda s: -s[0])[:8]
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
