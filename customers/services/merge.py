# ruff: noqa: S608 -- SQL here is built from table and column names read from model metadata (quoted with
# quote_name); every value is a query parameter.
"""Merging two customers who are one person: the survivorship preview and the merge itself.

The merge is one transaction of set-based UPDATEs. Every table with a foreign key to ``Customer``,
in every app, is found by introspection (``customer_foreign_keys``), so a model added later is
re-pointed without anyone remembering this module; the few tables with rules of their own (contact
points, addresses, the consent ledger, duplicate pairs, history) are handled explicitly, and an app
whose table needs another rule registers one with ``merge_handler_register``.

History is not rewritten: pghistory's event rows (``CustomerEvent``, ``ContactPointEvent``,
``PostalAddressEvent``) keep the customer they described at the time, so the tombstone keeps its own
history; the merge itself writes new events (contact points and addresses arriving on the survivor,
the survivor's changed fields, the tombstone's ``merged_into``) in a pghistory context naming the
acting user and ``channel="merge"``.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass

import pghistory
import pghistory.models
from django.apps import apps
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.errors import ApplicationError
from customers.choices import ContactKind, RecordSource, Stage
from customers.models import (
    Consent,
    ContactPoint,
    Customer,
    DuplicatePair,
    PostalAddress,
)
from customers.services.records import customer_change_stage, history_context

SURVIVOR, DUPLICATE = "survivor", "duplicate"

# The more advanced stage survives: someone who bought on either record has bought.
STAGE_ORDER = [Stage.PROSPECT, Stage.LEAD, Stage.CHURNED, Stage.LAPSED, Stage.CUSTOMER, Stage.LOYAL]

# Identity fields decided by survivorship: most recent non-empty value wins.
IDENTITY_FIELDS = ["kind", "title", "given_name", "family_name", "company_name", "birth_date", "language",
                   "preferred_channel", "owner", "notes"]  # fmt: skip
PRIMARY_CONTACTS = {
    "primary_email": (ContactKind.EMAIL, gettext_lazy("Primary email")),
    "primary_phone": (ContactKind.PHONE, gettext_lazy("Primary phone")),
    "primary_mobile": (ContactKind.MOBILE, gettext_lazy("Primary mobile")),
}


@dataclass
class FieldChoice:
    """One mergeable field: both values (as shown to people), the value that survives, and why."""

    name: str
    survivor_value: str
    duplicate_value: str
    chosen_value: str
    reason: str
    label: str = ""
    chosen: str = SURVIVOR  # which side the value comes from: "survivor" or "duplicate"
    overridable: bool = True


# -- Which tables point at a customer -----------------------------------------------------------

MergeHandler = Callable[[Customer, Customer], None]
_handlers: dict[str, MergeHandler] = {}


def merge_handler_register(model_label: str, handler: MergeHandler) -> None:
    """Let an app re-point its own table (e.g. one with a unique constraint on the customer) itself.

    ``handler(survivor, duplicate)`` runs inside the merge's transaction instead of the default
    ``UPDATE ... SET customer_id = survivor``; afterwards no row of it may point at the duplicate.
    """
    _handlers[model_label] = handler


def customer_foreign_keys() -> list[tuple[type[models.Model], models.ForeignKey]]:
    """Every concrete foreign key to ``Customer`` in every installed app (hidden relations included)."""
    found = []
    for model in apps.get_models(include_auto_created=True):
        if model._meta.proxy or not model._meta.managed:
            continue
        for field in model._meta.concrete_fields:
            if field.is_relation and field.related_model is Customer:
                found.append((model, field))
    return found


def is_history(model: type[models.Model]) -> bool:
    return issubclass(model, pghistory.models.Event)


# Tables re-pointed by their own rule below (not by the generic UPDATE).
_SPECIAL = {
    (Customer, "merged_into"),
    (ContactPoint, "customer"),
    (PostalAddress, "customer"),
    (Consent, "customer"),
    (DuplicatePair, "customer_low"),
    (DuplicatePair, "customer_high"),
}


def _generic_foreign_keys():
    return [
        (model, field)
        for model, field in customer_foreign_keys()
        if not is_history(model) and (model, field.name) not in _SPECIAL
        and model._meta.label not in _handlers
    ]  # fmt: skip


# -- Preview (survivorship) -----------------------------------------------------------------------


def _display(customer: Customer, name: str, value) -> str:
    if value in (None, ""):
        return ""
    if name == "owner":
        return value.get_full_name() or value.get_username()
    if isinstance(value, datetime.date):
        return value.isoformat()
    field = Customer._meta.get_field(name)
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    return str(value)


def _set_at(customers: list[Customer]) -> dict[int, dict[str, tuple[datetime.datetime, int]]]:
    """When each customer's current value of each tracked field was set, read from pghistory."""
    event_model = apps.get_model("customers", "CustomerEvent")
    tracked = [*IDENTITY_FIELDS, "attributes"]
    columns = [f"{name}_id" if name == "owner" else name for name in tracked]
    since: dict[int, dict[str, tuple]] = {c.pk: {} for c in customers}
    previous: dict[int, dict] = {c.pk: {} for c in customers}
    events = (
        event_model.objects.filter(pgh_obj_id__in=[c.pk for c in customers])
        .order_by("pgh_obj_id", "pgh_created_at", "pgh_id")
        .values_list("pgh_obj_id", "pgh_created_at", "pgh_id", *columns)
    )
    # (time, event id): events of one transaction share now(); the id orders them.
    for customer_id, created_at, event_id, *values in events:
        for name, value in zip(tracked, values, strict=True):
            if name not in previous[customer_id] or previous[customer_id][name] != value:
                since[customer_id][name] = (created_at, event_id)
            previous[customer_id][name] = value
    for customer in customers:  # rows loaded without triggers (none today) fall back to updated_at
        for name in tracked:
            since[customer.pk].setdefault(name, (customer.updated_at, 0))
    return since


def _identity_choice(name, survivor, duplicate, since) -> tuple[FieldChoice, object, object]:
    s_raw, d_raw = getattr(survivor, name), getattr(duplicate, name)
    s_text, d_text = _display(survivor, name, s_raw), _display(duplicate, name, d_raw)
    chosen, reason = SURVIVOR, _("Same value")
    if s_raw in (None, "") and d_raw not in (None, ""):
        chosen, reason = DUPLICATE, _("Only the duplicate has a value")
    elif d_raw in (None, "") and s_raw not in (None, ""):
        reason = _("Only the survivor has a value")
    elif s_raw in (None, ""):
        reason = _("Neither has a value")
    elif s_raw != d_raw:
        (s_at, s_id), (d_at, d_id) = since[survivor.pk][name], since[duplicate.pk][name]
        if (d_at, d_id) > (s_at, s_id):
            chosen, reason = (
                DUPLICATE,
                _("Changed more recently on the duplicate (%(date)s)") % {"date": f"{d_at:%Y-%m-%d}"},
            )
        else:
            reason = _("Changed more recently on the survivor (%(date)s)") % {"date": f"{s_at:%Y-%m-%d}"}
    label = str(Customer._meta.get_field(name).verbose_name).capitalize()
    choice = FieldChoice(name=name, survivor_value=s_text, duplicate_value=d_text,
                         chosen_value=d_text if chosen == DUPLICATE else s_text, reason=reason, label=label,
                         chosen=chosen)  # fmt: skip
    return choice, s_raw, d_raw


def _contact_choice(name, kind, label, s_cp: ContactPoint | None, d_cp: ContactPoint | None) -> FieldChoice | None:
    if s_cp is None and d_cp is None:
        return None
    s_text = s_cp.display_value if s_cp else ""
    d_text = d_cp.display_value if d_cp else ""
    chosen, reason = SURVIVOR, _("The survivor's primary is kept")
    if s_cp is None:
        chosen, reason = DUPLICATE, _("Only the duplicate has one")
    elif d_cp is None:
        reason = _("Only the survivor has one")
    elif s_cp.value == d_cp.value:
        reason = _("Same value")
    elif s_cp.is_undeliverable and not d_cp.is_undeliverable:
        chosen, reason = DUPLICATE, _("The survivor's is undeliverable")
    elif d_cp.is_verified and not s_cp.is_verified:
        chosen, reason = DUPLICATE, _("Verified beats unverified")
    elif s_cp.is_verified and not d_cp.is_verified:
        reason = _("Verified beats unverified")
    return FieldChoice(name=name, survivor_value=s_text, duplicate_value=d_text,
                       chosen_value=d_text if chosen == DUPLICATE else s_text, reason=reason, label=str(label),
                       chosen=chosen)  # fmt: skip


def _address_choice(s_addr: PostalAddress | None, d_addr: PostalAddress | None) -> FieldChoice | None:
    if s_addr is None and d_addr is None:
        return None
    s_text, d_text = (", ".join(a.lines[1:] or a.lines) if a else "" for a in (s_addr, d_addr))
    chosen, reason = SURVIVOR, _("Same value")
    if s_addr is None:
        chosen, reason = DUPLICATE, _("Only the duplicate has one")
    elif d_addr is None:
        reason = _("Only the survivor has one")
    elif s_text != d_text:
        if s_addr.is_undeliverable and not d_addr.is_undeliverable:
            chosen, reason = DUPLICATE, _("The survivor's is undeliverable")
        elif d_addr.updated_at > s_addr.updated_at and not d_addr.is_undeliverable:
            chosen, reason = (
                DUPLICATE,
                _("Changed more recently on the duplicate (%(date)s)") % {"date": f"{d_addr.updated_at:%Y-%m-%d}"},
            )
        else:
            reason = _("The survivor's primary is kept")
    return FieldChoice(name="primary_address", survivor_value=s_text, duplicate_value=d_text,
                       chosen_value=d_text if chosen == DUPLICATE else s_text, reason=reason,
                       label=_("Primary address"), chosen=chosen)  # fmt: skip


def _stage_choice(survivor: Customer, duplicate: Customer) -> FieldChoice:
    s_rank, d_rank = STAGE_ORDER.index(survivor.stage), STAGE_ORDER.index(duplicate.stage)
    chosen = DUPLICATE if d_rank > s_rank else SURVIVOR
    reason = _("Same value") if s_rank == d_rank else _("The more advanced stage")
    s_text, d_text = survivor.get_stage_display(), duplicate.get_stage_display()
    return FieldChoice(name="stage", survivor_value=s_text, duplicate_value=d_text,
                       chosen_value=d_text if chosen == DUPLICATE else s_text, reason=reason, label=_("Stage"),
                       chosen=chosen)  # fmt: skip


def _primaries(customer: Customer) -> tuple[dict[str, ContactPoint], PostalAddress | None]:
    contacts = {cp.kind: cp for cp in ContactPoint.objects.filter(customer=customer, is_primary=True)}
    address = PostalAddress.objects.filter(customer=customer, is_primary=True).first()
    return contacts, address


def _survivorship(survivor: Customer, duplicate: Customer):
    """``(choices, context)``: the preview plus what the merge needs to apply it."""
    since = _set_at([survivor, duplicate])
    choices, raw = [], {}
    for name in IDENTITY_FIELDS:
        choice, s_raw, d_raw = _identity_choice(name, survivor, duplicate, since)
        if name == "notes" and s_raw and d_raw and s_raw != d_raw:
            joined = f"{s_raw}\n\n{d_raw}"
            choice.chosen_value, choice.reason, choice.overridable = joined, _("Both notes are kept"), False
            s_raw = joined
        choices.append(choice)
        raw[name] = (s_raw, d_raw)
    choices.append(_stage_choice(survivor, duplicate))
    s_contacts, s_address = _primaries(survivor)
    d_contacts, d_address = _primaries(duplicate)
    for name, (kind, label) in PRIMARY_CONTACTS.items():
        choice = _contact_choice(name, kind, label, s_contacts.get(kind), d_contacts.get(kind))
        if choice is not None:
            choices.append(choice)
            raw[name] = (s_contacts.get(kind), d_contacts.get(kind))
    address_choice = _address_choice(s_address, d_address)
    if address_choice is not None:
        choices.append(address_choice)
        raw["primary_address"] = (s_address, d_address)
    tags = sorted(set(survivor.tags) | set(duplicate.tags))
    choices.append(FieldChoice(name="tags", survivor_value=", ".join(survivor.tags),
                               duplicate_value=", ".join(duplicate.tags), chosen_value=", ".join(tags),
                               reason=_("Tags of both are kept"), label=_("Tags"), overridable=False))  # fmt: skip
    newer_first = since[duplicate.pk]["attributes"] > since[survivor.pk]["attributes"]
    attributes = (
        {**survivor.attributes, **duplicate.attributes}
        if newer_first
        else {**duplicate.attributes, **survivor.attributes}
    )
    choices.append(FieldChoice(
        name="attributes", survivor_value=_attributes_text(survivor.attributes),
        duplicate_value=_attributes_text(duplicate.attributes), chosen_value=_attributes_text(attributes),
        reason=_("Attributes of both are kept; where both have one, the more recent wins"),
        label=_("Custom attributes"), overridable=False,
    ))  # fmt: skip
    return choices, {"raw": raw, "tags": tags, "attributes": attributes}


def _attributes_text(attributes: dict) -> str:
    return ", ".join(f"{key}: {value}" for key, value in sorted(attributes.items()))


def _check_mergeable(survivor: Customer, duplicate: Customer) -> None:
    if survivor.pk == duplicate.pk:
        raise ApplicationError("merge_into_itself", _("A customer cannot be merged into itself."), field="duplicate")
    for role, customer in (("survivor", survivor), ("duplicate", duplicate)):
        if customer.merged_into_id is not None:
            raise ApplicationError(
                "already_merged",
                _("%(account)s was already merged into another customer.") % {"account": customer.account_number},
                field=role, status_code=409,
            )  # fmt: skip
        if customer.anonymised_at is not None:
            raise ApplicationError(
                "anonymised", _("%(account)s was anonymised and cannot be merged.")
                % {"account": customer.account_number}, field=role, status_code=409,
            )  # fmt: skip


def customer_merge_preview(*, survivor: Customer, duplicate: Customer) -> list[FieldChoice]:
    """What merging ``duplicate`` into ``survivor`` would keep, field by field, and why (read-only).

    Survivorship: for identity fields the most recently set non-empty value wins (read from the
    field history); for primary contact points verified beats unverified (a deliverable one beats
    an undeliverable one), else the survivor's is kept; the more advanced stage wins; tags and
    attributes are combined. Raises ``ApplicationError`` when the two cannot be merged.
    """
    _check_mergeable(survivor, duplicate)
    choices, _context = _survivorship(survivor, duplicate)
    return choices


# -- The merge --------------------------------------------------------------------------------------


def _execute(sql: str, params: list) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def _qn(name: str) -> str:
    return connection.ops.quote_name(name)


def _apply_overrides(choices: list[FieldChoice], overrides: dict[str, str] | None) -> None:
    by_name = {choice.name: choice for choice in choices}
    for name, side in (overrides or {}).items():
        choice = by_name.get(name)
        if choice is None or not choice.overridable:
            raise ApplicationError("invalid_override", _("“%(name)s” cannot be chosen in a merge.") % {"name": name},
                                   field=name)  # fmt: skip
        if side not in (SURVIVOR, DUPLICATE):
            raise ApplicationError("invalid_override", _("Choose “survivor” or “duplicate” for %(name)s.")
                                   % {"name": name}, field=name)  # fmt: skip
        choice.chosen = side
        choice.chosen_value = choice.duplicate_value if side == DUPLICATE else choice.survivor_value


def _merge_contact_points(survivor_id: int, duplicate_id: int) -> None:
    """Move the duplicate's contact points; one the survivor already has is kept once, verified if either was."""
    cp = _qn(ContactPoint._meta.db_table)
    same = "s.customer_id = %s AND d.customer_id = %s AND s.kind = d.kind AND s.value = d.value"
    _execute(f"UPDATE {cp} s SET is_verified = TRUE FROM {cp} d WHERE {same} AND d.is_verified AND NOT s.is_verified",
             [survivor_id, duplicate_id])  # fmt: skip
    for model, field in _contact_point_references():
        table, column = _qn(model._meta.db_table), _qn(field.column)
        _execute(f"UPDATE {table} t SET {column} = s.id FROM {cp} s, {cp} d WHERE t.{column} = d.id AND {same}",
                 [survivor_id, duplicate_id])  # fmt: skip
    _execute(f"DELETE FROM {cp} d USING {cp} s WHERE {same}", [survivor_id, duplicate_id])
    _execute(
        f"UPDATE {cp} d SET is_primary = FALSE WHERE d.customer_id = %s AND d.is_primary "
        f"AND EXISTS (SELECT 1 FROM {cp} s WHERE s.customer_id = %s AND s.kind = d.kind AND s.is_primary)",
        [duplicate_id, survivor_id],
    )
    _execute(f"UPDATE {cp} SET customer_id = %s WHERE customer_id = %s", [survivor_id, duplicate_id])


def _contact_point_references():
    return [
        (model, field)
        for model in apps.get_models(include_auto_created=True)
        if not is_history(model) and not model._meta.proxy and model._meta.managed
        for field in model._meta.concrete_fields
        if field.is_relation and field.related_model is ContactPoint
    ]


def _set_primary_contact(survivor_id: int, kind: str, value: str) -> None:
    ContactPoint.objects.filter(customer_id=survivor_id, kind=kind, is_primary=True).exclude(value=value).update(
        is_primary=False
    )
    ContactPoint.objects.filter(customer_id=survivor_id, kind=kind, value=value).update(is_primary=True)


def _merge_addresses(survivor_id: int, duplicate_id: int, primary_from_duplicate: PostalAddress | None) -> None:
    if primary_from_duplicate is not None:
        PostalAddress.objects.filter(customer_id=survivor_id, is_primary=True).update(is_primary=False)
    else:
        PostalAddress.objects.filter(customer_id=duplicate_id, is_primary=True).update(is_primary=False)
    PostalAddress.objects.filter(customer_id=duplicate_id).update(customer_id=survivor_id)


def _merge_consents(survivor_id: int, duplicate_id: int) -> None:
    """Re-point the duplicate's ledger entries; the ledger guard allows exactly this while declared."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL relais.consent_maintenance = 'merge'")
        try:
            cursor.execute(
                f"UPDATE {_qn(Consent._meta.db_table)} SET customer_id = %s WHERE customer_id = %s",
                [survivor_id, duplicate_id],
            )
        finally:
            cursor.execute("SET LOCAL relais.consent_maintenance = ''")


def _repoint_everything_else(survivor: Customer, duplicate: Customer) -> None:
    for model, field in _generic_foreign_keys():
        table, column = _qn(model._meta.db_table), _qn(field.column)
        try:  # no savepoint: an error aborts the whole merge, which the caller's atomic() rolls back
            _execute(f"UPDATE {table} SET {column} = %s WHERE {column} = %s", [survivor.pk, duplicate.pk])
        except IntegrityError as error:
            raise ApplicationError(
                "merge_conflict",
                _("Both customers hold the same %(what)s; resolve it on one of them before merging.")
                % {"what": model._meta.verbose_name},
                status_code=409,
            ) from error
    for handler in _handlers.values():
        handler(survivor, duplicate)


def _check_deferred_constraints() -> None:
    """Check the deferred composite keys now, so a broken merge fails here and not at some later commit."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    except IntegrityError as error:
        raise ApplicationError("merge_conflict", _("The merge would break links between records."),
                               status_code=409) from error  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


@transaction.atomic
def customer_merge(*, survivor: Customer, duplicate: Customer, acting_user, overrides: dict[str, str] | None = None,
                   source: str = RecordSource.AGENT) -> Customer:  # fmt: skip
    """Merge ``duplicate`` into ``survivor`` and return the survivor as saved.

    One transaction: both rows are locked (in id order, so two merges cannot deadlock); the
    survivorship preview, with the agent's ``overrides`` (field -> "survivor" | "duplicate"), decides
    the surviving values; every row of every table keyed by customer moves to the survivor; contact
    points are de-duplicated, the consent ledgers combined, duplicate pairs involving the duplicate
    marked merged; the duplicate becomes a tombstone (``merged_into``, ``merged_at``). History records
    the acting user and ``source``. Raises ``ApplicationError`` (nothing written) when merging into
    itself, from or into a merged or anonymised customer, or on conflicting back-office records.
    """
    if survivor.pk == duplicate.pk:
        _check_mergeable(survivor, duplicate)
    locked = {c.pk: c for c in Customer.objects.select_for_update().filter(pk__in=[survivor.pk, duplicate.pk])
              .order_by("pk")}  # fmt: skip
    if len(locked) != 2:
        raise ApplicationError("not_found", _("No such customer."), status_code=404)
    survivor, duplicate = locked[survivor.pk], locked[duplicate.pk]
    _check_mergeable(survivor, duplicate)
    choices, context = _survivorship(survivor, duplicate)
    _apply_overrides(choices, overrides)
    chosen = {choice.name: choice.chosen for choice in choices}
    now = timezone.now()
    with (
        history_context(acting_user=acting_user, source=RecordSource.MERGE),
        pghistory.context(via=str(source), merged_customer=duplicate.pk, survivor=survivor.pk),
    ):
        _merge_consents(survivor.pk, duplicate.pk)
        _merge_contact_points(survivor.pk, duplicate.pk)
        for name, (kind, _label) in PRIMARY_CONTACTS.items():
            if chosen.get(name) == DUPLICATE:
                _set_primary_contact(survivor.pk, kind, context["raw"][name][1].value)
        address_from_duplicate = (
            context["raw"]["primary_address"][1] if chosen.get("primary_address") == DUPLICATE else None
        )
        _merge_addresses(survivor.pk, duplicate.pk, address_from_duplicate)
        if address_from_duplicate is not None:
            PostalAddress.objects.filter(pk=address_from_duplicate.pk).update(is_primary=True)
        Customer.objects.filter(merged_into=duplicate).update(merged_into=survivor)
        DuplicatePair.objects.filter(
            models.Q(customer_low=duplicate) | models.Q(customer_high=duplicate), status=DuplicatePair.Status.PENDING
        ).update(status=DuplicatePair.Status.MERGED, reviewed_by=acting_user, reviewed_at=now)
        DuplicatePair.objects.filter(
            customer_low_id=min(survivor.pk, duplicate.pk), customer_high_id=max(survivor.pk, duplicate.pk)
        ).update(status=DuplicatePair.Status.MERGED, reviewed_by=acting_user, reviewed_at=now)
        _repoint_everything_else(survivor, duplicate)

        for name in IDENTITY_FIELDS:
            s_raw, d_raw = context["raw"][name]
            setattr(survivor, name, d_raw if chosen[name] == DUPLICATE else s_raw)
        survivor.tags = context["tags"]
        survivor.attributes = context["attributes"]
        survivor.save()
        if chosen["stage"] == DUPLICATE and duplicate.stage != survivor.stage:
            customer_change_stage(customer=survivor, stage=duplicate.stage, acting_user=acting_user,
                                  source=RecordSource.MERGE, at=now)  # fmt: skip
        duplicate.merged_into, duplicate.merged_at = survivor, now
        duplicate.save(update_fields=["merged_into", "merged_at", "updated_at"])
        _check_deferred_constraints()
    survivor.refresh_from_db()
    return survivor
