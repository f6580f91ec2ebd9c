"""Postal mail: one letter, a letter batch, the batch's PDF and mail-house CSV, on the generated customers.

Runs inside one transaction rolled back at the end: the dataset stays as generated.
"""

from __future__ import annotations

import os
import time

from bench import Run, benchmark

BATCH = int(os.environ.get("RELAIS_BENCH_LETTERS", "1000"))
SINGLE = 100


class _Rollback(Exception):
    pass


@benchmark("channels_postal", targets={"letter (create + PDF)": 100}, dataset=("staff", "customers"))
def channels_postal(run: Run) -> None:
    """``letter_create`` + ``letter_pdf`` for 100 customers one by one (what an agent waits for), then
    ``letter_batch_create`` for RELAIS_BENCH_LETTERS customers with an address (default 1,000), the
    batch PDF (one page per letter) and the mail-house CSV, in one transaction rolled back at the end."""
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from channels.documents.letters import letter_pdf, letters_pdf
    from channels.models import ResponseTemplate
    from channels.services.postal import (
        BatchSelection,
        batch_letters,
        letter_batch_create,
        letter_batch_csv_rows,
        letter_create,
    )
    from customers.models import Customer

    agent = get_user_model().objects.filter(username__startswith="bench-").first()
    customers = list(
        Customer.objects.live().filter(addresses__isnull=False, addresses__is_undeliverable=False).distinct()
        .order_by("pk")[: BATCH + SINGLE]
    )  # fmt: skip
    if len(customers) < BATCH + SINGLE:
        run.problem(f"only {len(customers)} customers with an address in the dataset")
        return
    body = "Madame, Monsieur,\n\n" + "Nous vous informons de l'évolution de nos conditions générales. " * 12
    try:
        with transaction.atomic():
            text = "Bonjour {{ customer.display_name }},\n\n" + body
            template = ResponseTemplate.objects.create(
                channel="letter", name="bench-letter", subject="Conditions", body=text
            )
            for customer in customers[:SINGLE]:
                with run.timer("letter (create + PDF)"):
                    letter = letter_create(customer=customer, subject="Conditions", body=body, acting_user=agent)
                    letter_pdf(letter)
            started = time.perf_counter()
            batch = letter_batch_create(name="bench", template=template, selection=BatchSelection(customers[SINGLE:]),
                                        acting_user=agent)  # fmt: skip
            run.record("batch create", time.perf_counter() - started)
            started = time.perf_counter()
            pdf, pages = letters_pdf(batch_letters(batch))
            pdf_seconds = time.perf_counter() - started
            run.record("batch PDF", pdf_seconds)
            started = time.perf_counter()
            rows = sum(1 for _row in letter_batch_csv_rows(batch)) - 1
            run.record("batch CSV", time.perf_counter() - started)
            raise _Rollback
    except _Rollback:
        pass
    rate = sum(pages) / pdf_seconds
    run.note(f"batch of {batch.letter_count:,} letters ({len(batch.skipped)} left out), PDF {sum(pages):,} pages "
             f"{len(pdf) / 1e6:.1f} MB at {rate:,.0f} pages/s, CSV {rows:,} rows; rolled back")  # fmt: skip
