"""Computer-telephony integration: signed call events, the screen pop card, and what agents do with a call.

The telephony system posts ``ringing``, ``answered``, ``ended`` and ``missed`` events (HMAC-signed,
``call_event_verify``); ``call_event_process`` follows the call in a ``CallSession``, resolves the
caller's number on ringing and returns the customer card that pops on the agent's screen (pushed over
SSE after commit), and turns an ended or missed call into one interaction on the timeline. Agents then
log the outcome, open a case, create a prospect or link an unknown number to a customer.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from channels.choices import (
    OPEN_CASE_STATUSES,
    CallState,
    CaseCategory,
    CasePriority,
    Direction,
    InteractionChannel,
    InteractionKind,
)
from channels.models import AgentProfile, CallSession, Case, Interaction
from channels.services.cases import case_agent_responded, case_open
from channels.services.interactions import interaction_record
from crm.errors import ApplicationError
from customers.choices import ContactKind, RecordSource, Stage
from customers.models import Customer
from customers.normalise import phone_display, phone_normalise
from customers.services.identity import identity_resolve
from customers.services.records import CustomerInput, contact_point_add, customer_create

EVENTS = ("ringing", "answered", "ended", "missed")
LAST_CONTACTS = 5


# -- Signature ------------------------------------------------------------------------------------------


def call_event_signature(*, secret: str, timestamp: str, body: bytes) -> str:
    """The hex HMAC-SHA256 of ``"<timestamp>.<raw body>"`` (what the telephony system sends)."""
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def call_event_verify(*, timestamp: str | None, signature: str | None, body: bytes, now: float | None = None) -> None:
    """Refuse a call event that is not signed with ``CTI_SHARED_SECRET`` or is outside the replay window.

    Raises ``ApplicationError`` with status 401 (missing or bad signature, stale or future timestamp)
    or 503 (no secret configured). The signature is compared in constant time.
    """
    if not timestamp or not signature:
        raise ApplicationError(
            "signature_missing",
            _("Sign call events with the headers X-Relais-Timestamp and X-Relais-Signature."),
            status_code=401,
        )
    secret = settings.CTI_SHARED_SECRET
    if not secret:
        raise ApplicationError(
            "cti_not_configured", _("Call events are refused: CTI_SHARED_SECRET is not set."), status_code=503
        )
    try:
        sent_at = int(timestamp)
    except ValueError:
        raise ApplicationError(
            "timestamp_invalid", _("X-Relais-Timestamp must be a Unix time in seconds."), status_code=401
        ) from None
    expected = call_event_signature(secret=secret, timestamp=timestamp, body=body)
    if not hmac.compare_digest(expected, signature.strip().lower().removeprefix("sha256=")):
        raise ApplicationError("signature_invalid", _("The call event's signature does not match."), status_code=401)
    skew = abs((now if now is not None else time.time()) - sent_at)
    if skew > settings.CTI_MAX_SKEW_SECONDS:
        raise ApplicationError(
            "timestamp_out_of_window",
            _("The call event's timestamp is more than %(minutes)d minutes from now (replay refused).")
            % {"minutes": settings.CTI_MAX_SKEW_SECONDS // 60},
            status_code=401,
        )


# -- The customer card ----------------------------------------------------------------------------------


# The card's reads in one statement (owner, open cases, last contacts, last call, marketing consents),
# each part a JSON value built by PostgreSQL: one round trip and one plan instead of five ORM queries.
_CARD_SQL = """
SELECT
  (SELECT json_build_array(u.first_name, u.last_name, u.username) FROM {user} u WHERE u.id = %(owner)s),
  (SELECT coalesce(json_agg(c), '[]'::json) FROM (
     SELECT number, subject, status, priority, resolution_due_at, first_response_due_at FROM {case}
     WHERE customer_id = %(customer)s AND status = ANY(%(open)s)
     ORDER BY resolution_due_at, created_at DESC LIMIT 10) c),
  (SELECT coalesce(json_agg(i), '[]'::json) FROM (
     SELECT channel, direction, kind, occurred_at, subject, outcome FROM {interaction}
     WHERE customer_id = %(customer)s ORDER BY occurred_at DESC, id DESC LIMIT %(last)s) i),
  (SELECT row_to_json(i) FROM (
     SELECT occurred_at, direction, subject, summary, outcome FROM {interaction}
     WHERE customer_id = %(customer)s AND channel = %(phone)s AND kind = %(call)s
     ORDER BY occurred_at DESC, id DESC LIMIT 1) i),
  (SELECT coalesce(json_object_agg(k.channel, k.status), '{{}}'::json) FROM (
     SELECT DISTINCT ON (channel) channel, status FROM {consent}
     WHERE customer_id = %(customer)s AND purpose = %(purpose)s ORDER BY channel, occurred_at DESC, id DESC) k)
"""


def _json(value):
    return json.loads(value) if isinstance(value, str | bytes) else value


def _at(value: str | None) -> datetime.datetime | None:
    return datetime.datetime.fromisoformat(value) if value else None


def call_customer_card(*, customer: Customer) -> dict:
    """What an agent needs while the phone rings: identity, consents, open cases, last contacts, last call.

    Plain data (JSON-ready). ``customer`` is used as given (identity resolution has just loaded it);
    everything else is read in one SQL statement whatever the customer's history.
    """
    from customers.choices import Channel, Purpose
    from customers.models import Consent

    sql = _CARD_SQL.format(user=get_user_model()._meta.db_table, case=Case._meta.db_table,
                           interaction=Interaction._meta.db_table, consent=Consent._meta.db_table)  # fmt: skip
    params = {"owner": customer.owner_id, "customer": customer.pk,
              "open": [status.value for status in OPEN_CASE_STATUSES], "last": LAST_CONTACTS,
              "phone": InteractionChannel.PHONE.value, "call": InteractionKind.CALL.value,
              "purpose": Purpose.MARKETING.value}  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        owner, cases, contacts, last_call, consents = (_json(value) for value in cursor.fetchone())
    owner_name = (f"{owner[0] or ''} {owner[1] or ''}".strip() or owner[2]) if owner else ""
    channel_labels = dict(InteractionChannel.choices)
    case_status_labels = dict(Case._meta.get_field("status").choices)
    return {
        "id": customer.pk,
        "account_number": customer.account_number,
        "name": customer.display_name,
        "kind": customer.kind,
        "stage": customer.stage,
        "stage_label": str(customer.get_stage_display()),
        "owner": owner_name or None,
        "consents": {channel: consents.get(channel) for channel in Channel.values},
        "open_cases": [
            {
                "number": case["number"],
                "subject": case["subject"],
                "status": case["status"],
                "status_label": str(case_status_labels.get(case["status"], case["status"])),
                "priority": case["priority"],
                "due_at": _at(case["resolution_due_at"] or case["first_response_due_at"]),
            }
            for case in cases
        ],
        "last_contacts": [
            {
                "channel": contact["channel"],
                "channel_label": str(channel_labels.get(contact["channel"], contact["channel"])),
                "direction": contact["direction"],
                "kind": contact["kind"],
                "occurred_at": _at(contact["occurred_at"]),
                "subject": contact["subject"],
                "outcome": contact["outcome"],
            }
            for contact in contacts
        ],
        "last_call": None
        if last_call is None
        else {
            "occurred_at": _at(last_call["occurred_at"]),
            "direction": last_call["direction"],
            "reason": last_call["subject"],
            "summary": last_call["summary"],
            "outcome": last_call["outcome"],
        },
        "url": reverse("customers:detail", kwargs={"pk": customer.pk}),
    }


def _candidate_cards(ids: list[int]) -> list[dict]:
    customers = Customer.objects.in_bulk(ids)
    return [
        {
            "id": customer.pk,
            "account_number": customer.account_number,
            "name": customer.display_name,
            "stage": customer.stage,
            "url": reverse("customers:detail", kwargs={"pk": customer.pk}),
        }
        for pk in ids
        if (customer := customers.get(pk)) is not None
    ]


# -- Call events ----------------------------------------------------------------------------------------


@dataclass
class CallEventResult:
    """What the telephony system gets back: the session, and on ringing the screen pop."""

    session: CallSession
    event: str
    customer_card: dict | None = None
    candidates: list[dict] | None = None


def _number_e164(raw: str) -> str:
    try:
        return phone_normalise(raw).e164
    except ApplicationError:
        return ""  # withheld ("anonymous"), internal or malformed numbers: the call is still followed


def _agent_for_extension(extension: str):
    if not extension:
        return None
    profile = AgentProfile.objects.select_related("user").filter(extension=extension, user__is_active=True).first()
    return profile.user if profile else None


def _resolve(session: CallSession) -> None:
    """Set the session's customer (one clear match) or its candidates (ambiguous), from the caller's number."""
    session.customer, session.candidates = None, []
    if not session.caller_e164:
        return
    result = identity_resolve(phone=session.caller_e164)
    if result.match is not None:
        session.customer = result.match
    else:
        session.candidates = [candidate.customer.pk for candidate in result.candidates]


def _lock_call(call_id: str) -> None:
    # Two copies of one event racing (a retry while the first is in flight) must not both pass the
    # "already processed" check: serialise on the call id for the rest of the transaction.
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", ["relais-call:" + call_id])


def _already(session: CallSession, event: str) -> bool:
    if event == "ringing":
        return True  # the session exists: ringing was processed
    if event == "answered":
        return session.answered_at is not None
    return session.interaction_id is not None and session.state in (CallState.ENDED, CallState.MISSED)


@transaction.atomic
def call_event_process(
    *,
    event: str,
    call_id: str,
    caller_number: str,
    called_line: str = "",
    agent_extension: str = "",
    occurred_at: datetime.datetime | None = None,
    direction: str = Direction.INBOUND,
) -> CallEventResult:
    """Apply one telephony event to its call; return the session and, on ringing, the customer card.

    ``ringing`` creates the session, resolves the number (a match, candidates or nobody) and finds
    the agent by extension; after commit the screen pop is pushed to that agent's console. A call
    first seen at ``answered`` / ``ended`` is created on the fly. ``ended`` and ``missed`` record the
    call as one phone interaction (duration from answered to ended) or complete the one the agent
    already logged. Each (call id, event) is processed once: a repeat raises ``already_processed`` (409).
    """
    if event not in EVENTS:
        raise ApplicationError("invalid_choice", _("Unknown call event: %(event)s") % {"event": event}, field="event")
    at = occurred_at or timezone.now()
    _lock_call(call_id)
    session = CallSession.objects.select_for_update().filter(call_id=call_id).order_by("-rang_at").first()
    if session is not None and _already(session, event):
        raise ApplicationError(
            "already_processed",
            _("The %(event)s event of call %(call_id)s was already processed.") % {"event": event, "call_id": call_id},
            status_code=409,
        )
    if session is None:
        session = CallSession(
            call_id=call_id,
            direction=direction,
            caller_number=caller_number[:40],
            caller_e164=_number_e164(caller_number),
            called_line=called_line[:40],
            agent_extension=agent_extension[:20],
            agent=_agent_for_extension(agent_extension),
            rang_at=at,
        )
        _resolve(session)
    elif agent_extension and agent_extension != session.agent_extension:
        # Transferred: the call now belongs to the agent who answered it.
        session.agent_extension = agent_extension[:20]
        session.agent = _agent_for_extension(agent_extension) or session.agent

    if event == "ringing":
        session.state = CallState.RINGING
    elif event == "answered":
        session.state, session.answered_at = CallState.ANSWERED, at
    else:
        session.state = CallState.ENDED if event == "ended" and session.answered_at else CallState.MISSED
        session.ended_at = at
    session.save()
    if event in ("ended", "missed"):
        _call_interaction_complete(session)

    result = CallEventResult(session=session, event=event)
    if event == "ringing":
        if session.customer_id:
            result.customer_card = call_customer_card(customer=session.customer)
        elif session.candidates:
            result.candidates = _candidate_cards(session.candidates)
        if session.agent_id:
            transaction.on_commit(
                lambda: call_screen_pop_publish(
                    session=session, card=result.customer_card, candidates=result.candidates
                )
            )
    return result


def call_duration_seconds(session: CallSession) -> int | None:
    if session.answered_at and session.ended_at:
        return max(0, int((session.ended_at - session.answered_at).total_seconds()))
    return None


def _call_subject(session: CallSession) -> str:
    number = phone_display(session.caller_e164) if session.caller_e164 else session.caller_number
    if session.state == CallState.MISSED:
        return _("Missed call from %(number)s") % {"number": number}
    if session.direction == Direction.OUTBOUND:
        return _("Call to %(number)s") % {"number": number}
    return _("Call from %(number)s") % {"number": number}


def _call_interaction_ensure(session: CallSession) -> Interaction:
    """The session's interaction, recorded through ``interaction_record`` the first time it is needed."""
    if session.interaction_id:
        return Interaction.objects.select_for_update().get(pk=session.interaction_id)
    interaction = interaction_record(
        channel=InteractionChannel.PHONE,
        direction=session.direction,
        kind=InteractionKind.CALL,
        customer=session.customer,
        agent=session.agent,
        occurred_at=session.answered_at or session.rang_at,
        subject=_call_subject(session),
        outcome="missed" if session.state == CallState.MISSED else "",
        duration_seconds=call_duration_seconds(session),
        external_id=session.call_id,
        metadata={
            "call_id": session.call_id,
            "caller_number": session.caller_e164 or session.caller_number,
            "called_line": session.called_line,
            "agent_extension": session.agent_extension,
        },
    )
    session.interaction = interaction
    session.save(update_fields=["interaction"])
    return interaction


def _call_interaction_complete(session: CallSession) -> Interaction:
    """At the end of the call: record it, or fill the duration into what the agent logged meanwhile."""
    had_one = bool(session.interaction_id)
    interaction = _call_interaction_ensure(session)
    if had_one:
        interaction.duration_seconds = call_duration_seconds(session)
        if session.state == CallState.MISSED and not interaction.outcome:
            interaction.outcome = "missed"
        interaction.save(update_fields=["duration_seconds", "outcome"])
    return interaction


# -- The screen pop -------------------------------------------------------------------------------------

_screen_pop_publishers: list[Callable[..., object]] = []


def screen_pop_publisher_register(publisher: Callable[..., object]) -> None:
    """``publisher(session=, card=, candidates=)`` runs after a ringing event commits (the console renders
    and pushes the card computed for the answer, without reading it again).

    Registered from ``channels.wiring.calls`` so this service never imports the presentation layer.
    """
    if publisher not in _screen_pop_publishers:
        _screen_pop_publishers.append(publisher)


def call_screen_pop_publish(*, session: CallSession, card: dict | None, candidates: list[dict] | None) -> None:
    for publisher in list(_screen_pop_publishers):
        publisher(session=session, card=card, candidates=candidates)


def call_candidate_cards(ids: list[int]) -> list[dict]:
    """Cards of the customers sharing a number, in the resolver's order."""
    return _candidate_cards(ids)


# -- What the agent does with a call --------------------------------------------------------------------


def call_get_for_agent(*, user, pk: int) -> CallSession:
    """A call the user may work on: their own, or any call for a supervisor. Raises Http404 otherwise."""
    from django.http import Http404

    queryset = CallSession.objects.select_related("customer", "agent")
    if not user.has_perm("channels.supervise_queues"):
        queryset = queryset.filter(agent=user)
    session = queryset.filter(pk=pk).first()
    if session is None:
        raise Http404(_("No such call."))
    return session


def calls_recent_for_agent(*, user, limit: int = 20) -> list[CallSession]:
    """The agent's latest calls, newest first, with their customer and interaction (one query)."""
    return list(CallSession.objects.filter(agent=user).select_related("customer").order_by("-rang_at", "-id")[:limit])


def call_current_for_agent(*, user) -> CallSession | None:
    """The call to show when the console opens: one still ringing or in progress, else the latest one
    of the last hour whose outcome is not logged yet."""
    active = CallSession.objects.filter(agent=user, state__in=(CallState.RINGING, CallState.ANSWERED))
    session = active.select_related("customer").order_by("-rang_at").first()
    if session is not None:
        return session
    recent = CallSession.objects.filter(agent=user, rang_at__gte=timezone.now() - datetime.timedelta(hours=1))
    session = recent.select_related("customer").order_by("-rang_at").first()
    if session and session.interaction_id:
        logged = Interaction.objects.filter(pk=session.interaction_id).exclude(outcome__in=("", "missed")).exists()
        if logged:
            return None
    return session


@transaction.atomic
def call_outcome_log(
    *,
    session: CallSession,
    acting_user,
    outcome: str,
    summary: str = "",
    open_case: bool = False,
    case_subject: str = "",
    case_category: str = CaseCategory.REQUEST,
    case_priority: str = CasePriority.NORMAL,
) -> Interaction:
    """Record what the call was about and how it ended, optionally opening a case for the customer.

    Works during the call (the duration is filled in when the ``ended`` event arrives) or after it.
    Logging again replaces the outcome and summary. A case needs an identified customer; the call
    counts as the case's first response.
    """
    outcome = (outcome or "").strip()
    if not outcome:
        raise ApplicationError("required", _("Say how the call ended."), field="outcome")
    if open_case and not session.customer_id:
        raise ApplicationError(
            "customer_required",
            _("Identify the caller (create a prospect or link a customer) before opening a case."),
            field="open_case",
        )
    if open_case and not (case_subject or summary).strip():
        raise ApplicationError("required", _("Give the case a subject."), field="case_subject")
    session = CallSession.objects.select_for_update(of=("self",)).select_related("customer").get(pk=session.pk)
    interaction = _call_interaction_ensure(session)
    interaction.outcome = outcome[:100]
    if summary.strip():
        interaction.summary = summary.strip()
    if session.agent_id is None:
        session.agent = acting_user
        session.save(update_fields=["agent"])
        interaction.agent = acting_user
    if open_case and interaction.case_id is None:
        case = case_open(
            subject=(case_subject or summary).strip()[:255],
            description=summary.strip(),
            channel=InteractionChannel.PHONE,
            customer=session.customer,
            category=case_category,
            priority=case_priority,
            assignee=acting_user,
            acting_user=acting_user,
        )
        case_agent_responded(case, at=interaction.occurred_at)
        interaction.case = case
    interaction.save(update_fields=["outcome", "summary", "agent", "case"])
    return interaction


@transaction.atomic
def call_customer_attach(*, session: CallSession, customer: Customer, acting_user) -> CallSession:
    """Identify the caller: the call (and its interaction) now belong to ``customer``, whose contact
    points gain the number when it is a valid one. All in one transaction."""
    if not customer.is_live:
        raise ApplicationError("not_live", _("This customer was merged or anonymised."), field="customer")
    session = CallSession.objects.select_for_update().get(pk=session.pk)
    if session.caller_e164:
        contact_point_add(customer=customer, kind=ContactKind.PHONE, value=session.caller_e164,
                          acting_user=acting_user, source=RecordSource.AGENT)  # fmt: skip
    session.customer, session.candidates = customer, []
    session.save(update_fields=["customer", "candidates"])
    if session.interaction_id:
        Interaction.objects.filter(pk=session.interaction_id).update(customer=customer)
    return session


@transaction.atomic
def call_prospect_create(
    *, session: CallSession, acting_user, given_name: str = "", family_name: str = "", company_name: str = ""
) -> Customer:
    """Create a prospect from an unknown caller (their number as a contact point) and attach the call."""
    if session.customer_id:
        raise ApplicationError("already_identified", _("This call already belongs to a customer."))
    customer = customer_create(
        data=CustomerInput(
            given_name=given_name.strip(),
            family_name=family_name.strip(),
            company_name=company_name.strip(),
            kind="company" if company_name.strip() and not (given_name or family_name).strip() else "person",
            stage=Stage.PROSPECT,
            owner=acting_user,
        ),
        acting_user=acting_user,
        source=RecordSource.AGENT,
    )
    call_customer_attach(session=session, customer=customer, acting_user=acting_user)
    return customer
