"""Postal mail: a letter to one customer, letter batches for the mail house, and returned mail.

Each letter is a ``Letter`` row (the address block and text as printed, a snapshot) and an outbound
``Interaction`` on the postal channel with the channel's cost. Mail that comes back marks the address
undeliverable, so no later letter goes to it.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Q, QuerySet
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape, format_html, linebreaks
from django.utils.translation import gettext as _

from channels.choices import Direction, InteractionChannel, InteractionKind, LetterStatus
from channels.documents.letters import letter_page_count, letter_reference
from channels.models import Letter, LetterBatch, ResponseTemplate
from channels.services.interactions import interaction_record, text_summary
from channels.services.templates import template_context, template_text_render
from crm.errors import ApplicationError
from customers.choices import Channel, ConsentStatus, Purpose, RecordSource
from customers.export import cell_neutralise
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
    if not addresses:
        return _("%(name)s has no postal address. Add one to the record first.") % {"name": customer.display_name}
    returned = [a for a in addresses if a.is_undeliverable]
    if len(returned) == len(addresses):
        return _(
            "%(name)s's address is marked undeliverable (mail returned on %(date)s). Update the address first."
        ) % {
            "name": customer.display_name,
            "date": timezone.localtime(returned[0].undeliverable_at).date().isoformat()
            if returned[0].undeliverable_at
            else "—",
        }
    return _("%(name)s has no address valid today (check the validity dates).") % {"name": customer.display_name}


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


def _letter_write(*, customer, address, template, subject, body, acting_user, batch=None) -> Letter:
    letter = Letter.objects.create(
        customer=customer, address=address, address_lines=afnor_lines(address), template=template, batch=batch,
        subject=subject, body=body, created_by=acting_user if getattr(acting_user, "is_authenticated", False) else None,
        status=LetterStatus.RENDERED,
    )  # fmt: skip
    interaction = interaction_record(
        channel=InteractionChannel.POSTAL_MAIL, direction=Direction.OUTBOUND, kind=InteractionKind.LETTER,
        customer=customer, agent=letter.created_by, occurred_at=letter.created_at,
        subject=subject or _("Letter %(reference)s") % {"reference": letter_reference(letter)},
        # The link takes the agent from the timeline to the letter's page and PDF.
        body_html=linebreaks(escape(body)) + format_html(
            '<p><a href="{}">{}</a></p>', reverse("channels:letter_detail", kwargs={"pk": letter.pk}),
            _("Letter %(reference)s (PDF)") % {"reference": letter_reference(letter)},
        ),
        summary=text_summary(body), external_id=letter_reference(letter),
        metadata={"letter_id": letter.pk, "batch_id": batch.pk if batch else None, "address_id": address.pk,
                  "address": address.lines, "template_id": template.pk if template else None},
    )  # fmt: skip
    letter.interaction = interaction
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


@dataclass
class BatchSelection:
    """Who a batch is for: customers found, and what could not be used (with the reason)."""

    customers: list[Customer] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)


def batch_select_by_account_numbers(text: str) -> BatchSelection:
    """Customers from pasted account numbers (any separator); unknown and repeated numbers are reported."""
    tokens = [token.upper() for token in re.split(r"[\s,;]+", text or "") if token]
    selection = BatchSelection()
    if not tokens:
        raise ApplicationError("required", _("Paste at least one account number."), field="account_numbers")
    if len(tokens) > BATCH_MAX_LETTERS:
        raise ApplicationError(
            "too_many", _("A batch has at most %(max)s letters.") % {"max": BATCH_MAX_LETTERS}, field="account_numbers"
        )
    found = {c.account_number.upper(): c for c in Customer.objects.filter(account_number__in=set(tokens))}
    seen = set()
    for token in tokens:
        if token in seen:
            continue
        seen.add(token)
        customer = found.get(token)
        if customer is None:
            selection.skipped.append(
                {"account_number": token, "customer_id": None, "reason": _("No customer with this account number.")}
            )
        else:
            selection.customers.append(customer)
    return selection


def batch_select_by_filter(query: str) -> BatchSelection:
    """Customers matching a customer-list filter (its query string, as in a saved filter)."""
    from customers.selectors_list import CustomerFilter, customer_list_queryset

    filterset = CustomerFilter(QueryDict(query or ""), queryset=customer_list_queryset())
    if not filterset.is_valid():
        raise ApplicationError("invalid_filter", _("The customer filter is not valid."), field="query")
    if not filterset.is_filtered:
        raise ApplicationError(
            "filter_required", _("Filter the customer list first: a batch for every customer is refused."),
            field="query",
        )  # fmt: skip
    customers = list(filterset.qs.order_by("pk")[: BATCH_MAX_LETTERS + 1])
    if len(customers) > BATCH_MAX_LETTERS:
        raise ApplicationError(
            "too_many",
            _("This filter matches more than %(max)s customers; narrow it down.") % {"max": BATCH_MAX_LETTERS},
            field="query",
        )
    return BatchSelection(customers=customers)


@transaction.atomic
def letter_batch_create(
    *,
    name: str,
    template: ResponseTemplate,
    selection: BatchSelection,
    acting_user,
    purpose: str = Purpose.SERVICE,
) -> LetterBatch:
    """Write one letter per selected customer from ``template``; list who was left out and why.

    Left out: a merged or anonymised customer, no usable address (returned mail, none valid today),
    and for a marketing batch a customer who objected to marketing by post (withdrawn consent on the
    postal channel). One transaction: the batch, its letters and their interactions, or nothing.
    """
    if template.channel != "letter" or not template.is_active:
        raise ApplicationError("invalid_template", _("Choose an active letter template."), field="template")
    name = (name or "").strip()[:200] or _("Letters of %(date)s") % {"date": timezone.localdate().isoformat()}
    skipped = list(selection.skipped)
    ids = [customer.pk for customer in selection.customers]
    customers = Customer.objects.filter(pk__in=ids).order_by("pk")
    if purpose == Purpose.MARKETING:
        customers = customers.annotate(
            _postal=consent_state_subquery(channel=Channel.POSTAL_MAIL, purpose=Purpose.MARKETING)
        )
    customers = list(customers)
    today = timezone.localdate()
    addresses: dict[int, PostalAddress] = {}
    for address in _usable(PostalAddress.objects.filter(customer_id__in=ids), today).order_by(
        "customer_id", *ADDRESS_ORDER
    ):
        addresses.setdefault(address.customer_id, address)
    batch = LetterBatch.objects.create(name=name, template=template, created_by=acting_user)
    count = 0
    for customer in customers:
        reason = None
        if not customer.is_live:
            reason = _("Merged or anonymised customer.")
        elif purpose == Purpose.MARKETING and getattr(customer, "_postal", None) == ConsentStatus.WITHDRAWN:
            reason = _("Objected to marketing by post.")
        elif customer.pk not in addresses:
            reason = no_address_reason(customer=customer, today=today)
        if reason:
            skipped.append({"account_number": customer.account_number, "customer_id": customer.pk, "reason": reason})
            continue
        subject, body = letter_text_render(template=template, customer=customer, agent=acting_user)
        if not body:
            skipped.append({"account_number": customer.account_number, "customer_id": customer.pk,
                            "reason": _("The template gives an empty text.")})  # fmt: skip
            continue
        _letter_write(customer=customer, address=addresses[customer.pk], template=template, subject=subject,
                      body=body, acting_user=acting_user, batch=batch)  # fmt: skip
        count += 1
    if count == 0:
        raise ApplicationError(
            "empty_batch",
            _("No letter could be written: every customer was left out (%(reasons)s).")
            % {"reasons": "; ".join(sorted({s["reason"] for s in skipped}))[:500]},
        )
    batch.letter_count = count
    batch.skipped = skipped
    batch.save(update_fields=["letter_count", "skipped"])
    return batch


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
        yield [cell_neutralise(value) for value in row]


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
