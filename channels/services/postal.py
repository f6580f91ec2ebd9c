"""Postal mail: a letter to one customer, letter batches for the mail house, and returned mail.

Each letter is a ``Letter`` row (the address block and text as printed, a snapshot) and an outbound
``Interaction`` on the postal channel with the channel's cost. Mail that comes back marks the address
undeliverable, so no later letter goes to it.
"""

from __future__ import annotations

import contextlib
import datetime
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape, format_html, linebreaks
from django.utils.translation import gettext as _

from channels.choices import Direction, InteractionChannel, InteractionKind, LetterStatus
from channels.documents.letters import letter_page_count, letter_reference
from channels.models import Letter, LetterBatch, ResponseTemplate
from channels.services.interactions import (
    channel_cost,
    interaction_build,
    interaction_record,
    interactions_record_many,
    text_summary,
)
from channels.services.templates import template_context, template_text_render
from crm.errors import ApplicationError
from crm.spreadsheet import csv_row
from customers.choices import Channel, ConsentStatus, Purpose, RecordSource
from customers.models import Customer, PostalAddress
from customers.selectors import consent_state_subquery
from customers.services.records import history_context

BATCH_MAX_LETTERS = 5_000
CSV_COLUMNS = ["reference", "account_number", "line1", "line2", "line3", "line4", "line5", "line6", "postcode",
               "city", "country", "pages"]  # fmt: skip


# -- addresses ---------------------------------------------------------------------------------


def _usable(queryset: QuerySet, today: datetime.date) -> QuerySet:
    return queryset.filter(is_undeliverable=False).filter(
        Q(valid_from__isnull=True) | Q(valid_from__lte=today), Q(valid_to__isnull=True) | Q(valid_to__gte=today)
    )


ADDRESS_ORDER = ["-is_primary", "-valid_from", "id"]


def letter_address(*, customer: Customer) -> PostalAddress:
    """The address a letter goes to: the primary one if usable, else another valid one.

    Usable: not marked undeliverable (returned mail) and valid today. Raises ``ApplicationError``
    (field ``address``) saying why when there is none.
    """
    today = timezone.localdate()
    address = _usable(customer.addresses.all(), today).order_by(*ADDRESS_ORDER).first()
    if address is not None:
        return address
    raise ApplicationError("no_address", no_address_reason(customer=customer, today=today), field="address")


def no_address_reason(*, customer: Customer, today: datetime.date | None = None) -> str:
    addresses = list(customer.addresses.all())
    returned = [a.undeliverable_at for a in addresses if a.is_undeliverable]
    return _no_address_text(customer.display_name, has_address=bool(addresses),
                            has_deliverable=len(returned) < len(addresses),
                            returned_at=max((r for r in returned if r), default=None))  # fmt: skip


def _no_address_text(name: str, *, has_address: bool, has_deliverable: bool, returned_at) -> str:
    if not has_address:
        return _("%(name)s has no postal address. Add one to the record first.") % {"name": name}
    if not has_deliverable:
        return _(
            "%(name)s's address is marked undeliverable (mail returned on %(date)s). Update the address first."
        ) % {"name": name, "date": timezone.localtime(returned_at).date().isoformat() if returned_at else "—"}
    return _("%(name)s has no address valid today (check the validity dates).") % {"name": name}


# -- one letter --------------------------------------------------------------------------------


def letter_text_render(*, template: ResponseTemplate, customer: Customer, agent=None) -> tuple[str, str]:
    """``(subject, body)`` of a letter template for this customer."""
    if template.channel != "letter" or not template.is_active:
        raise ApplicationError("invalid_template", _("Choose an active letter template."), field="template")
    context = template_context(customer=customer, agent=agent)
    return (
        template_text_render(template.subject, context=context, field="subject")[:200],
        template_text_render(template.body, context=context),
    )


def _letter_check(*, customer: Customer, subject: str, body: str) -> None:
    if not customer.is_live:
        raise ApplicationError("customer_not_live", _("This customer was merged or anonymised."), field="customer")
    if not body.strip():
        raise ApplicationError("required", _("Write the letter's text."), field="body")
    if len(subject) > 200:
        raise ApplicationError("too_long", _("Keep the subject under 200 characters."), field="subject")


def afnor_lines(address: PostalAddress) -> list[str]:
    """The six AFNOR lines in their positions (empty strings kept: line 4 is always the street)."""
    return [address.line1, address.line2, address.line3, address.line4, address.line5, address.line6]


def _letter_interaction_build(letter: Letter, *, cost: tuple | None = None):
    """The letter's outbound interaction on the timeline (not saved): ``interaction_build`` arguments."""
    address = letter.address
    reference = letter_reference(letter)
    interaction = interaction_build(
        channel=InteractionChannel.POSTAL_MAIL, direction=Direction.OUTBOUND, kind=InteractionKind.LETTER,
        customer=letter.customer, agent=letter.created_by, occurred_at=letter.created_at,
        subject=letter.subject or _("Letter %(reference)s") % {"reference": reference},
        # The link takes the agent from the timeline to the letter's page and PDF.
        body_html=linebreaks(escape(letter.body)) + format_html(
            '<p><a href="{}">{}</a></p>', reverse("channels:letter_detail", kwargs={"pk": letter.pk}),
            _("Letter %(reference)s (PDF)") % {"reference": reference},
        ),
        summary=text_summary(letter.body), external_id=reference, cost=cost[0] if cost else None,
        metadata={"letter_id": letter.pk, "batch_id": letter.batch_id, "address_id": address.pk,
                  "address": address.lines, "template_id": letter.template_id},
    )  # fmt: skip
    if cost:
        interaction.currency = cost[1]
    return interaction


def _letter_write(*, customer, address, template, subject, body, acting_user) -> Letter:
    letter = Letter.objects.create(
        customer=customer, address=address, address_lines=afnor_lines(address), template=template,
        subject=subject, body=body, created_by=acting_user if getattr(acting_user, "is_authenticated", False) else None,
        status=LetterStatus.RENDERED,
    )  # fmt: skip
    letter.interaction = interactions_record_many([_letter_interaction_build(letter)])[0]
    letter.save(update_fields=["interaction"])
    return letter


@transaction.atomic
def letter_create(
    *, customer: Customer, subject: str, body: str, acting_user, template: ResponseTemplate | None = None
) -> Letter:
    """Write one letter to the customer's usable address and put it on the timeline.

    Refuses a merged or anonymised customer, an empty text, a customer without a usable address
    (``no_address``). Creates the ``Letter`` (address lines as printed) and its outbound interaction
    (postal channel, kind letter, the channel's cost) in one transaction. The PDF is rendered on demand.
    """
    subject, body = (subject or "").strip(), (body or "").strip()
    _letter_check(customer=customer, subject=subject, body=body)
    address = letter_address(customer=customer)
    return _letter_write(customer=customer, address=address, template=template, subject=subject, body=body,
                         acting_user=acting_user)  # fmt: skip


# -- batches -----------------------------------------------------------------------------------
#
# A batch is written by a Celery task (``letter_batch_run``): the view checks the request and queues
# a ``LetterBatch`` row (``letter_batch_queue``); the task claims it, selects the recipients in one
# query (address, liveness and consent as SQL annotations), and writes the letters in chunks — each
# chunk is one transaction of a few set-based statements (INSERT letters, INSERT interactions, UPDATE
# letters, UPDATE batch progress). A run that died is resumed: customers already written are skipped.

BATCH_CHUNK = 250
BATCH_LEASE = datetime.timedelta(minutes=5)


@dataclass
class BatchSelection:
    """Who a batch is for: customers found, and what could not be used (with the reason)."""

    customers: list[Customer] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)


def _account_tokens(text: str) -> list[str]:
    tokens = list(dict.fromkeys(token.upper() for token in re.split(r"[\s,;]+", text or "") if token))
    if not tokens:
        raise ApplicationError("required", _("Paste at least one account number."), field="account_numbers")
    if len(tokens) > BATCH_MAX_LETTERS:
        raise ApplicationError(
            "too_many", _("A batch has at most %(max)s letters.") % {"max": BATCH_MAX_LETTERS}, field="account_numbers"
        )
    return tokens


def _filter_queryset(query: str) -> QuerySet:
    from customers.selectors_list import CustomerFilter, customer_list_queryset

    filterset = CustomerFilter(QueryDict(query or ""), queryset=customer_list_queryset())
    if not filterset.is_valid():
        raise ApplicationError("invalid_filter", _("The customer filter is not valid."), field="query")
    if not filterset.is_filtered:
        raise ApplicationError(
            "filter_required", _("Filter the customer list first: a batch for every customer is refused."),
            field="query",
        )  # fmt: skip
    return filterset.qs


def _too_many_for_filter() -> ApplicationError:
    return ApplicationError(
        "too_many",
        _("This filter matches more than %(max)s customers; narrow it down.") % {"max": BATCH_MAX_LETTERS},
        field="query",
    )


def batch_select_by_account_numbers(text: str) -> BatchSelection:
    """Customers from pasted account numbers (any separator); unknown and repeated numbers are reported."""
    tokens = _account_tokens(text)
    found = {c.account_number.upper(): c for c in Customer.objects.filter(account_number__in=tokens)}
    selection = BatchSelection()
    for token in tokens:
        if token in found:
            selection.customers.append(found[token])
        else:
            selection.skipped.append(_unknown_account(token))
    return selection


def batch_select_by_filter(query: str) -> BatchSelection:
    """Customers matching a customer-list filter (its query string, as in a saved filter)."""
    customers = list(_filter_queryset(query).order_by("pk")[: BATCH_MAX_LETTERS + 1])
    if len(customers) > BATCH_MAX_LETTERS:
        raise _too_many_for_filter()
    return BatchSelection(customers=customers)


def _unknown_account(token: str) -> dict:
    return {"account_number": token, "customer_id": None, "reason": _("No customer with this account number.")}


def _batch_check(*, template: ResponseTemplate, name: str) -> str:
    if template.channel != "letter" or not template.is_active:
        raise ApplicationError("invalid_template", _("Choose an active letter template."), field="template")
    return (name or "").strip()[:200] or _("Letters of %(date)s") % {"date": timezone.localdate().isoformat()}


@transaction.atomic
def letter_batch_queue(
    *,
    name: str,
    template: ResponseTemplate,
    acting_user,
    purpose: str = Purpose.SERVICE,
    query: str | None = None,
    account_numbers: str | None = None,
    enqueue: bool = True,
) -> LetterBatch:
    """Check a batch request and queue it (status ``queued``); the task is sent after commit.

    Who: the customers of a customer-list filter (``query``, as saved in a saved filter) or pasted
    ``account_numbers``. Refused here, before anything is queued: an inactive template, an invalid or
    missing filter, a filter matching more than ``BATCH_MAX_LETTERS`` customers, no or too many numbers.
    """
    name = _batch_check(template=template, name=name)
    if account_numbers is not None:
        selection = {"source": "accounts", "account_numbers": _account_tokens(account_numbers)}
        total = len(selection["account_numbers"])
    else:
        total = _filter_queryset(query).count()
        if total > BATCH_MAX_LETTERS:
            raise _too_many_for_filter()
        selection = {"source": "filter", "query": query}
    batch = LetterBatch.objects.create(
        name=name, template=template, created_by=acting_user if getattr(acting_user, "is_authenticated", False)
        else None, purpose=purpose, selection=selection, status=LetterBatch.Status.QUEUED, total=total,
    )  # fmt: skip
    if enqueue:
        from channels.tasks.postal import letter_batch_run_task

        transaction.on_commit(lambda: letter_batch_run_task.delay(batch.pk))
    return batch


@transaction.atomic
def letter_batch_create(
    *,
    name: str,
    template: ResponseTemplate,
    selection: BatchSelection,
    acting_user,
    purpose: str = Purpose.SERVICE,
) -> LetterBatch:
    """Write one letter per selected customer from ``template`` now, in the caller's transaction (for
    callers that already hold the customers, such as a campaign's offline step); list who was left out.

    Left out: a merged or anonymised customer, no usable address (returned mail, none valid today),
    and for a marketing batch a customer who objected to marketing by post (withdrawn consent on the
    postal channel). Raises ``empty_batch`` (and writes nothing) when every customer was left out.
    """
    name = _batch_check(template=template, name=name)
    batch = LetterBatch.objects.create(
        name=name, template=template, created_by=acting_user, purpose=purpose, status=LetterBatch.Status.RUNNING,
        selection={"source": "customers", "customer_ids": [customer.pk for customer in selection.customers]},
        skipped=list(selection.skipped),
    )  # fmt: skip
    _batch_write(batch, chunk_transactions=False)
    if batch.letter_count == 0:
        raise _empty_batch(batch.skipped)
    return batch


def _empty_batch(skipped: list[dict]) -> ApplicationError:
    return ApplicationError(
        "empty_batch",
        _("No letter could be written: every customer was left out (%(reasons)s).")
        % {"reasons": "; ".join(sorted({s["reason"] for s in skipped}))[:500]},
    )


def letter_batch_run(*, batch_id: int) -> LetterBatch | None:
    """Claim a queued batch (or one whose worker died: running on an expired lease) and write it.

    Exactly one worker wins the claim (a conditional UPDATE). Ends ``done``, or ``failed`` with the
    reason (the filter became invalid or too large, every customer was left out, an error). Must run
    outside a transaction: each chunk of letters commits with the batch's progress.
    """
    now = timezone.now()
    claimed = (
        LetterBatch.objects.filter(pk=batch_id)
        .filter(Q(status=LetterBatch.Status.QUEUED) | Q(status=LetterBatch.Status.RUNNING, lease_expires_at__lt=now))
        .update(status=LetterBatch.Status.RUNNING, started_at=now, lease_expires_at=now + BATCH_LEASE, failure="")
    )
    if not claimed:
        return None
    batch = LetterBatch.objects.select_related("template", "created_by").get(pk=batch_id)
    try:
        _batch_write(batch, chunk_transactions=True)
    except ApplicationError as error:
        return _batch_finish(batch, failure=error.message)
    except Exception as error:
        _batch_finish(batch, failure=_("The batch stopped on an error (%(error)s).") % {"error": type(error).__name__})
        raise
    if batch.letter_count == 0:
        return _batch_finish(batch, failure=_empty_batch(batch.skipped).message)
    return _batch_finish(batch)


def _batch_finish(batch: LetterBatch, *, failure: str = "") -> LetterBatch:
    batch.status = LetterBatch.Status.FAILED if failure else LetterBatch.Status.DONE
    batch.failure = failure
    batch.finished_at = timezone.now()
    batch.lease_expires_at = None
    batch.save(update_fields=["status", "failure", "finished_at", "lease_expires_at"])
    return batch


def _batch_recipients(batch: LetterBatch) -> tuple[QuerySet, list[dict]]:
    """The customers of the batch's selection as one queryset, and the pasted numbers nobody has."""
    selection = batch.selection or {}
    source = selection.get("source")
    if source == "accounts":
        tokens = list(selection.get("account_numbers") or [])
        customers = Customer.objects.filter(account_number__in=tokens)
        found = set(customers.values_list("account_number", flat=True))
        return customers, [_unknown_account(token) for token in tokens if token not in found]
    if source == "filter":
        customers = _filter_queryset(selection.get("query") or "")
        if customers.count() > BATCH_MAX_LETTERS:
            raise _too_many_for_filter()
        return customers, []
    return Customer.objects.filter(pk__in=list(selection.get("customer_ids") or [])), []


def _annotated(customers: QuerySet, *, purpose: str, today: datetime.date) -> QuerySet:
    """Each customer with the address a letter goes to and why there is none, in the same query."""
    addresses = PostalAddress.objects.filter(customer_id=OuterRef("pk"))
    customers = customers.annotate(
        _address_id=Subquery(_usable(addresses, today).order_by(*ADDRESS_ORDER).values("pk")[:1]),
        _has_address=Exists(addresses),
        _has_deliverable=Exists(addresses.filter(is_undeliverable=False)),
        _returned_at=Subquery(
            addresses.filter(is_undeliverable=True).order_by("-undeliverable_at").values("undeliverable_at")[:1]
        ),
    )
    if purpose == Purpose.MARKETING:
        customers = customers.annotate(
            _postal=consent_state_subquery(channel=Channel.POSTAL_MAIL, purpose=Purpose.MARKETING)
        )
    return customers


def _skip_reason(customer: Customer, *, purpose: str) -> str | None:
    if not customer.is_live:
        return _("Merged or anonymised customer.")
    if purpose == Purpose.MARKETING and getattr(customer, "_postal", None) == ConsentStatus.WITHDRAWN:
        return _("Objected to marketing by post.")
    if customer._address_id is None:
        return _no_address_text(customer.display_name, has_address=customer._has_address,
                                has_deliverable=customer._has_deliverable,
                                returned_at=customer._returned_at)  # fmt: skip
    return None


def _batch_write(batch: LetterBatch, *, chunk_transactions: bool) -> None:
    """Write the batch's letters, chunk by chunk; ``batch`` ends with its counts and skipped list."""
    from django.db.models import F

    customers, unknown = _batch_recipients(batch)
    # A resumed run starts again from who is not written yet (their reasons are found again).
    skipped = list(batch.skipped) if batch.selection.get("source") == "customers" else unknown
    written = Exists(Letter.objects.filter(batch_id=batch.pk, customer_id=OuterRef("pk")))
    todo = list(
        _annotated(customers.exclude(written), purpose=batch.purpose, today=timezone.localdate()).order_by("pk")
    )
    done_before = batch.letters.count()
    batch.total = done_before + len(todo)
    batch.processed = batch.letter_count = done_before
    batch.skipped = skipped
    batch.save(update_fields=["total", "processed", "letter_count", "skipped"])
    cost = channel_cost(InteractionChannel.POSTAL_MAIL)
    for start in range(0, len(todo), BATCH_CHUNK):
        chunk = todo[start : start + BATCH_CHUNK]
        with transaction.atomic() if chunk_transactions else contextlib.nullcontext():
            new_skipped, count = _batch_write_chunk(batch, chunk, cost=cost)
            batch.skipped += new_skipped
            batch.letter_count += count
            batch.processed += len(chunk)
            LetterBatch.objects.filter(pk=batch.pk).update(
                processed=F("processed") + len(chunk), letter_count=F("letter_count") + count,
                skipped=batch.skipped, lease_expires_at=timezone.now() + BATCH_LEASE,
            )  # fmt: skip
    if not chunk_transactions:
        batch.status = LetterBatch.Status.DONE
        batch.finished_at = timezone.now()
        batch.save(update_fields=["status", "finished_at"])


def _batch_write_chunk(batch: LetterBatch, customers: list[Customer], *, cost) -> tuple[list[dict], int]:
    """One chunk: render each letter's text, then INSERT the letters, INSERT their interactions and
    UPDATE the letters' link to them (three statements and one to read the addresses)."""
    template, agent = batch.template, batch.created_by
    addresses = PostalAddress.objects.in_bulk([c._address_id for c in customers if c._address_id is not None])
    skipped, letters = [], []
    for customer in customers:
        reason = _skip_reason(customer, purpose=batch.purpose)
        if reason is None:
            subject, body = letter_text_render(template=template, customer=customer, agent=agent)
            if not body:
                reason = _("The template gives an empty text.")
        if reason:
            skipped.append({"account_number": customer.account_number, "customer_id": customer.pk, "reason": reason})
            continue
        address = addresses[customer._address_id]
        letters.append(Letter(customer=customer, address=address, address_lines=afnor_lines(address), template=template,
                              batch=batch, subject=subject, body=body, created_by=agent,
                              status=LetterStatus.RENDERED))  # fmt: skip
    if not letters:
        return skipped, 0
    now = timezone.now()
    for letter in letters:
        letter.created_at = now
    Letter.objects.bulk_create(letters)
    interactions = [_letter_interaction_build(letter, cost=cost) for letter in letters]
    interactions_record_many(interactions)
    for letter, interaction in zip(letters, interactions, strict=True):
        letter.interaction = interaction
    Letter.objects.bulk_update(letters, ["interaction"])
    return skipped, len(letters)


def batch_letters(batch: LetterBatch) -> QuerySet:
    return batch.letters.select_related("customer", "template", "created_by", "address").order_by("id")


def letter_batch_csv_rows(batch: LetterBatch) -> Iterator[list]:
    """The mail house's file: a header row, then one row per letter (spreadsheet formulas neutralised)."""
    yield CSV_COLUMNS
    for letter in batch_letters(batch).iterator(chunk_size=500):
        lines = (list(letter.address_lines) + [""] * 6)[:6]
        address = letter.address
        postcode, city, country = (address.postcode, address.city, address.country) if address else ("", "", "")
        row = [letter_reference(letter), letter.customer.account_number, *lines, postcode, city, country,
               letter_page_count(letter)]  # fmt: skip
        yield csv_row(row)


# -- returned mail -----------------------------------------------------------------------------


@transaction.atomic
def letter_mark_returned(
    *, letter: Letter, acting_user, reason: str = "", source: str = RecordSource.AGENT
) -> tuple[Letter, bool]:
    """Record that a letter came back undelivered; return ``(letter, changed)``.

    The letter's status becomes "returned"; the address it went to is marked undeliverable (so later
    letters refuse it until someone corrects it); an inbound interaction "letter returned" goes on the
    timeline (no cost). Marking a letter returned twice changes nothing (``changed`` is False).
    """
    letter = Letter.objects.select_for_update().select_related("customer").get(pk=letter.pk)
    if letter.status == LetterStatus.RETURNED:
        return letter, False
    now = timezone.now()
    letter.status = LetterStatus.RETURNED
    letter.returned_at = now
    letter.save(update_fields=["status", "returned_at"])
    if letter.address_id:
        with history_context(acting_user=acting_user, source=source):
            PostalAddress.objects.filter(customer_id=letter.customer_id, pk=letter.address_id,
                                         is_undeliverable=False).update(is_undeliverable=True,
                                                                        undeliverable_at=now)  # fmt: skip
    reason = (reason or "").strip()[:500]
    text = _("Letter %(reference)s came back undelivered.") % {"reference": letter_reference(letter)}
    interaction_record(
        channel=InteractionChannel.POSTAL_MAIL, direction=Direction.INBOUND, kind=InteractionKind.LETTER,
        customer=letter.customer, agent=acting_user if getattr(acting_user, "is_authenticated", False) else None,
        occurred_at=now, subject=_("Letter returned: %(subject)s") % {"subject": letter.subject or "—"},
        body_html=linebreaks(escape(f"{text}\n{reason}" if reason else text)), outcome="returned",
        external_id=letter_reference(letter), cost=0,
        metadata={"letter_id": letter.pk, "address_id": letter.address_id, "reason": reason,
                  "address": [line for line in letter.address_lines if line]},
    )  # fmt: skip
    return letter, True


def letters_queryset(customers: Iterable[int] | None = None) -> QuerySet:
    queryset = Letter.objects.select_related("customer", "template", "created_by", "batch")
    return queryset.filter(customer_id__in=list(customers)) if customers is not None else queryset
