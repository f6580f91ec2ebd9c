"""SMS: inbound webhook processing and agent sends, in-process, on the generated customers.

Everything runs inside one transaction that is rolled back at the end (the consent ledger is
append-only, so STOP entries could not be deleted otherwise): the dataset stays as generated.
"""

from __future__ import annotations

import os
import time

from bench import Run, benchmark

MESSAGES = int(os.environ.get("RELAIS_BENCH_SMS", "1000"))
SENDS = int(os.environ.get("RELAIS_BENCH_SMS_SENDS", "300"))


class _Rollback(Exception):
    pass


# Budgets from what the user needs: providers wait seconds for a webhook's answer, and an agent's send
# (provider time excluded here) must feel immediate. Measured: 14-16 SQL statements per inbound SMS, 6 per send.
@benchmark("channels_sms", targets={"inbound SMS": 200, "send SMS (console provider)": 200},
           dataset=("staff", "customers"))  # fmt: skip
def channels_sms(run: Run) -> None:
    """``sms_inbound_receive`` for RELAIS_BENCH_SMS messages (default 1,000) from the mobiles of
    generated customers (one in ten a STOP, which withdraws consent; the others open or join a case in
    the customer's SMS thread; identity resolution by phone included), then ``sms_send`` to
    RELAIS_BENCH_SMS_SENDS customers (default 300) through the console provider (Redis), in one
    transaction rolled back at the end."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from channels.services.sms import sms_inbound_receive, sms_send
    from customers.models import ContactPoint

    settings.SMS_PROVIDER = "console"
    mobiles = list(
        ContactPoint.objects.filter(kind="mobile", is_undeliverable=False, customer__merged_into__isnull=True,
                                    customer__anonymised_at__isnull=True)
        .select_related("customer").order_by("id")[: MESSAGES + SENDS]
    )  # fmt: skip
    agent = get_user_model().objects.filter(username__startswith="bench-").first()
    if len(mobiles) < MESSAGES + SENDS:
        run.problem(f"only {len(mobiles)} mobiles in the dataset")
        return
    try:
        with transaction.atomic():
            started = time.perf_counter()
            for n, mobile in enumerate(mobiles[:MESSAGES]):
                text = "STOP" if n % 10 == 0 else f"Bonjour, où en est ma commande {n} ?"
                with run.timer("inbound SMS"):
                    sms_inbound_receive(sender=mobile.value, recipient="38000", text=text, message_id=f"bench-in-{n}")
            inbound_rate = MESSAGES / (time.perf_counter() - started)
            started = time.perf_counter()
            for mobile in mobiles[MESSAGES:]:
                with run.timer("send SMS (console provider)"):
                    sms_send(customer=mobile.customer, body="Votre commande est expédiée.", acting_user=agent,
                             contact_point=mobile)  # fmt: skip
            send_rate = SENDS / (time.perf_counter() - started)
            raise _Rollback
    except _Rollback:
        pass
    run.note(f"{MESSAGES:,} inbound SMS at {inbound_rate:,.0f}/s (10 % STOP); {SENDS:,} sends at {send_rate:,.0f}/s; "
             "rolled back afterwards")  # fmt: skip
