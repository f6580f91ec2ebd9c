"""Inbound email benchmark: parse and store through the service, then through the API (production server).

The messages are generated for the run (bench-only Message-IDs under ``@bench.relais.invalid``) and
every row they create is deleted at the end, so the dataset stays as generated.
"""

from __future__ import annotations

import os
import random
import shutil
import tempfile
import time
from email.message import EmailMessage
from email.utils import format_datetime

from bench import Run, benchmark
from bench.bench_foundation import KeepAliveClient, production_server

MESSAGES = int(os.environ.get("RELAIS_BENCH_EMAILS", "1000"))
API_MESSAGES = int(os.environ.get("RELAIS_BENCH_EMAILS_API", "1000"))
CLIENTS = 4
BATCH_SIZE = int(os.environ.get("RELAIS_BENCH_EMAIL_BATCH", "100"))
BATCH_OPERATION = "parse and store, batches (service, per message)"
DOMAIN = "bench.relais.invalid"
GATEWAY_USERNAME = "bench-mail-gateway"
PDF = b"%PDF-1.4\n" + b"0" * 20_000 + b"\n%%EOF\n"


def _messages(count: int, emails: list[str], *, prefix: str, seed: int) -> list[bytes]:
    """A realistic mix: 60 % plain text from known customers, 20 % HTML + text with a 20 kB PDF, 15 %
    replies threading into an earlier message of the run, 5 % unknown senders."""
    rng = random.Random(seed)
    from django.utils import timezone

    now = format_datetime(timezone.now())
    raws, ids = [], []
    for n in range(count):
        kind = rng.random()
        message = EmailMessage()
        sender = rng.choice(emails) if kind < 0.95 else f"stranger{n}@unknown.example"
        message["From"] = f"Client {n} <{sender}>"
        message["To"] = "support@relais.example"
        message["Date"] = now
        message_id = f"{prefix}-{n}@{DOMAIN}"
        message["Message-ID"] = f"<{message_id}>"
        text = f"Bonjour,\n\nMa commande n°{n} n'est pas arrivée. Pouvez-vous vérifier ?\n\nCordialement,\nClient {n}\n"
        if 0.60 <= kind < 0.75 and ids:
            parent = rng.choice(ids)
            message["Subject"] = "Re: Ma commande"
            message["In-Reply-To"] = f"<{parent}>"
            message["References"] = f"<{parent}>"
            text += "\nLe 1 nov. 2026, Support a écrit :\n> Nous regardons.\n"
        else:
            message["Subject"] = f"Ma commande {n}"
        message.set_content(text)
        if 0.40 <= kind < 0.60:
            message.add_alternative(f"<p>Bonjour,</p><p>Ma commande <b>n°{n}</b> n'est pas arrivée.</p>",
                                    subtype="html")  # fmt: skip
            message.add_attachment(PDF, maintype="application", subtype="pdf", filename=f"facture-{n}.pdf")
        ids.append(message_id)
        raws.append(message.as_bytes())
    return raws


def _post_all(run: Run, base_url: str, key: str, raws: list[bytes], *, clients: int, operation: str) -> float:
    """Post ``raws`` from ``clients`` keep-alive connections at once; return messages per second."""
    import threading

    headers = {"Authorization": f"Token {key}", "Content-Type": "message/rfc822", "Accept": "application/json"}
    shares = [raws[index::clients] for index in range(clients)]
    lock = threading.Lock()

    def post(share: list[bytes]) -> None:
        client = KeepAliveClient(base_url)
        try:
            for raw in share:
                started = time.perf_counter()
                status, _headers, body = client.request("POST", "/api/v1/channels/email/inbound/", body=raw,
                                                        headers=headers)  # fmt: skip
                with lock:
                    run.record(operation, time.perf_counter() - started)
                    if status != 201:
                        run.problem(f"the API answered {status}: {body[:300]!r}")
                        return
        finally:
            client.close()

    threads = [threading.Thread(target=post, args=(share,)) for share in shares]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(raws) / (time.perf_counter() - started)


def _known_emails(limit: int) -> list[str]:
    from customers.models import ContactPoint

    emails = list(ContactPoint.objects.filter(kind="email").order_by("id").values_list("value", flat=True)[:limit])
    if not emails:
        from bench import BenchmarkSkipped

        raise BenchmarkSkipped("no customer email in the dataset: load the customers part first")
    return emails


def _cleanup() -> int:
    """Delete every row the run created (interactions, attachments, conversations, cases)."""
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE bench_mail ON COMMIT DROP AS SELECT id, case_id, conversation_id "
            "FROM channels_interaction WHERE channel = 'email' AND external_id LIKE %s",
            [f"%@{DOMAIN}"],
        )
        cursor.execute("DELETE FROM channels_attachment WHERE interaction_id IN (SELECT id FROM bench_mail)")
        cursor.execute("DELETE FROM channels_interaction WHERE id IN (SELECT id FROM bench_mail)")
        cursor.execute(
            "DELETE FROM channels_conversation WHERE id IN (SELECT conversation_id FROM bench_mail) RETURNING case_id"
        )
        cursor.execute(
            "DELETE FROM channels_case WHERE id IN (SELECT case_id FROM bench_mail WHERE case_id IS NOT NULL)"
        )
        cursor.execute("SELECT count(*) FROM bench_mail")
        return cursor.fetchone()[0]


def _gateway_token() -> str:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from crm.models import ApiToken
    from crm.roles import INTEGRATION
    from crm.services import api_token_create

    user, _created = get_user_model().objects.update_or_create(
        username=GATEWAY_USERNAME, defaults={"is_active": True, "email": "gateway@bench.relais.example"}
    )
    user.groups.set([Group.objects.get(name=INTEGRATION)])
    ApiToken.objects.filter(user=user).delete()
    _token, key = api_token_create(user=user, name="Bench mail gateway", acting_user=user)
    return key


@benchmark(
    "channels_email_inbound",
    # The target: at least 200 messages/s parsed and stored, i.e. 5 ms a message on average.
    # Judged on the batched path the IMAP poll uses (per message: the batch's time / its size); the
    # one-message path (API posts) is reported without a verdict.
    targets={BATCH_OPERATION: ("p50", 5)},
    dataset=("staff", "customers"),
)
def channels_email_inbound(run: Run) -> None:
    """Inbound email parse and store, one message after another: `email_inbound_record(raw=...)`
    in-process (parse, sender matched by email, threading, case opened with SLA and round-robin,
    interaction, attachments written to a temporary MEDIA_ROOT); then the batched path the IMAP poll
    uses, `email_inbound_record_many(raws)` in batches of 100 (one transaction each; a message's time
    is its batch's time divided by the batch size); then the same kind of messages posted
    as `message/rfc822` to the API of the production server (gunicorn, 2 uvicorn workers) with an
    Integration token, first by one keep-alive client, then by 4 clients at once (throughput; a
    commit waits for the WAL flush, so concurrent posts share it). Mix: 60 % plain text from known customers, 20 % HTML
    with a 20 kB PDF, 15 % replies into an earlier thread, 5 % unknown senders."""
    from django.test import override_settings

    from channels.services.email_in import email_inbound_record, email_inbound_record_many

    media = tempfile.mkdtemp(prefix="relais-bench-media-")
    _cleanup()
    emails: list[str] = []
    try:
        emails = _known_emails(2000)
        raws = _messages(MESSAGES, emails, prefix="svc", seed=11)
        started = time.perf_counter()
        with override_settings(MEDIA_ROOT=media):
            for raw in raws:
                with run.timer("parse and store (service)"):
                    email_inbound_record(raw=raw, source="bench")
        elapsed = time.perf_counter() - started
        run.note(f"service, one by one: {len(raws)} messages in {elapsed:.1f} s = {len(raws) / elapsed:.0f} messages/s")

        batch_raws = _messages(MESSAGES, emails, prefix="batch", seed=13)
        started = time.perf_counter()
        with override_settings(MEDIA_ROOT=media):
            for start in range(0, len(batch_raws), BATCH_SIZE):
                chunk = batch_raws[start : start + BATCH_SIZE]
                batch_started = time.perf_counter()
                results = email_inbound_record_many(chunk, source="bench")
                per_message = (time.perf_counter() - batch_started) / len(chunk)
                for _result in results:
                    run.record(BATCH_OPERATION, per_message)
                refused = [r for r in results if isinstance(r, Exception)]
                if refused:
                    run.problem(f"the batch refused {len(refused)} messages: {refused[0]}")
        elapsed = time.perf_counter() - started
        rate = len(batch_raws) / elapsed
        run.note(f"service, batches of {BATCH_SIZE} (email_inbound_record_many, as the IMAP poll): "
                 f"{len(batch_raws)} messages in {elapsed:.1f} s = {rate:.0f} messages/s")  # fmt: skip

        key = _gateway_token()
        api_raws = _messages(API_MESSAGES, emails, prefix="api", seed=12)
        os.environ["MEDIA_ROOT"] = media
        with production_server() as base_url:
            sequential = _post_all(run, base_url, key, api_raws[: len(api_raws) // 2], clients=1,
                                   operation="POST /api/v1/channels/email/inbound/")  # fmt: skip
            run.note(f"API, one client: {sequential:.0f} messages/s")
            concurrent = _post_all(run, base_url, key, api_raws[len(api_raws) // 2 :], clients=CLIENTS,
                                   operation=f"POST inbound, {CLIENTS} clients at once")  # fmt: skip
            run.note(f"API, {CLIENTS} clients at once: {concurrent:.0f} messages/s")
    finally:
        os.environ.pop("MEDIA_ROOT", None)
        deleted = _cleanup()
        run.note(f"{deleted} bench interactions deleted afterwards; senders drawn from {len(emails)} customer emails")
        shutil.rmtree(media, ignore_errors=True)
