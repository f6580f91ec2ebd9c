"""Satisfaction surveys (CSAT 1-5 plus a comment): scheduled on resolution, sent later, answered once.

A survey is a row (the work to do): ``survey_schedule`` creates it when a case is resolved,
``surveys_send_due`` (the beat job) claims the due rows, sends each on the customer's preferred
reachable channel and records an outbound interaction; ``survey_answer`` stores the single answer
given through the signed link and records it on the timeline.
"""

from __future__ import annotations

import datetime
import importlib
import logging
import secrets
import smtplib
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives, make_msgid
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from channels.choices import CaseStatus, Direction, InteractionChannel, InteractionKind, SurveyStatus
from channels.models import Case, SatisfactionSurvey
from channels.services.interactions import interaction_record
from crm.errors import ApplicationError
from customers.choices import ContactKind, PreferredChannel, Purpose
from customers.models import ContactPoint
from customers.selectors import consent_effective

logger = logging.getLogger(__name__)

TOKEN_SALT = "channels.survey"
TOKEN_MAX_AGE = datetime.timedelta(days=60)
# A claimed survey whose send did not finish (worker killed) is claimable again after this lease.
SEND_LEASE = datetime.timedelta(minutes=30)
SEND_BATCH = 200


@dataclass(frozen=True)
class Reach:
    channel: str  # InteractionChannel value, "" when nothing is reachable
    address: str
    reason: str = ""


def sms_transport():
    """The SMS area's provider (``channels.sms``) when that module exists, else None (imported lazily).

    The survey talks to the provider itself rather than through ``sms_send``, which records an SMS
    interaction and counts as a case's first response: a survey is neither.
    """
    try:
        module = importlib.import_module("channels.sms")
    except ImportError:
        return None
    provider_for = getattr(module, "sms_provider", None)
    return provider_for() if callable(provider_for) else None


def _send_errors() -> tuple[type[BaseException], ...]:
    """Failures that may heal (SMTP down, provider timeout): the survey is released and retried."""
    errors: list[type[BaseException]] = [OSError, smtplib.SMTPException]
    try:
        from channels.sms import SmsProviderError

        errors.append(SmsProviderError)
    except ImportError:
        pass
    return tuple(errors)


def survey_reach(customer) -> Reach:
    """Where a survey can reach ``customer``: their preferred channel when usable, else email, else SMS.

    An address marked undeliverable, or a channel on which the customer withdrew consent for service
    messages, does not count.
    """
    withdrawn = {
        channel
        for (channel, purpose), entry in consent_effective(customer=customer).items()
        if purpose == Purpose.SERVICE and entry.status == "withdrawn"
    }
    points = ContactPoint.objects.filter(customer=customer, is_undeliverable=False).order_by("-is_primary", "id")
    email = next((p.value for p in points if p.kind == ContactKind.EMAIL), "")
    mobile = next((p.value for p in points if p.kind == ContactKind.MOBILE), "")
    options = {}
    if email and "email" not in withdrawn:
        options[InteractionChannel.EMAIL] = email
    if mobile and "sms" not in withdrawn and sms_transport() is not None:
        options[InteractionChannel.SMS] = mobile
    if customer.preferred_channel == PreferredChannel.SMS and InteractionChannel.SMS in options:
        return Reach(InteractionChannel.SMS, options[InteractionChannel.SMS])
    for channel in (InteractionChannel.EMAIL, InteractionChannel.SMS):
        if channel in options:
            return Reach(channel, options[channel])
    return Reach("", "", _("No email address or mobile number the customer can be reached on."))


def survey_schedule(*, case: Case) -> SatisfactionSurvey | None:
    """Plan the survey of a resolved case: ``send_after = resolved_at + CSAT_SURVEY_DELAY``.

    A case without a customer gets none. A case resolved again after a reopen keeps its survey: one
    already sent or answered stays as it is (the answer is kept); one still planned is re-planned. A
    customer with no reachable channel gets a survey marked skipped with the reason, so the case shows
    why none went out. Runs inside the caller's transaction.
    """
    if case.customer_id is None or case.resolved_at is None:
        return None
    send_after = case.resolved_at + settings.CSAT_SURVEY_DELAY
    reach = survey_reach(case.customer)
    survey = SatisfactionSurvey.objects.select_for_update().filter(customer_id=case.customer_id, case=case).first()
    if survey is not None:
        if survey.status in (SurveyStatus.SCHEDULED, SurveyStatus.SKIPPED):
            survey.send_after = send_after
            survey.status = SurveyStatus.SCHEDULED if reach.channel else SurveyStatus.SKIPPED
            survey.skipped_reason = reach.reason
            survey.channel = reach.channel
            survey.save(update_fields=["send_after", "status", "skipped_reason", "channel"])
        return survey
    return SatisfactionSurvey.objects.create(
        customer_id=case.customer_id,
        case=case,
        channel=reach.channel,
        status=SurveyStatus.SCHEDULED if reach.channel else SurveyStatus.SKIPPED,
        send_after=send_after,
        skipped_reason=reach.reason,
        nonce=secrets.token_hex(16),
    )


def survey_token(survey: SatisfactionSurvey) -> str:
    """The signed link token: survey id and the survey's random nonce (a guessed id is not enough)."""
    return signing.dumps({"s": survey.pk, "n": survey.nonce}, salt=TOKEN_SALT, compress=True)


def survey_url(survey: SatisfactionSurvey) -> str:
    return settings.SITE_URL.rstrip("/") + reverse("channels:survey_answer", kwargs={"token": survey_token(survey)})


class SurveyLinkInvalid(Exception):  # noqa: N818 (a lookup result, shown as 404)
    pass


class SurveyLinkExpired(Exception):  # noqa: N818
    pass


def survey_from_token(token: str) -> SatisfactionSurvey:
    """The survey a link names; ``SurveyLinkInvalid`` for a tampered or guessed token."""
    try:
        payload = signing.loads(token, salt=TOKEN_SALT, max_age=TOKEN_MAX_AGE)
    except signing.SignatureExpired as exc:
        raise SurveyLinkExpired from exc
    except signing.BadSignature as exc:
        raise SurveyLinkInvalid from exc
    if not isinstance(payload, dict):
        raise SurveyLinkInvalid
    survey = SatisfactionSurvey.objects.select_related("case", "customer").filter(pk=payload.get("s")).first()
    if survey is None or not secrets.compare_digest(survey.nonce, str(payload.get("n", ""))):
        raise SurveyLinkInvalid
    return survey


def _render(survey: SatisfactionSurvey) -> dict:
    customer = survey.customer
    context = {"survey": survey, "case": survey.case, "customer": customer, "url": survey_url(survey)}
    with translation.override(customer.language or settings.LANGUAGE_CODE):
        return {
            "subject": " ".join(render_to_string("channels/surveys/email_subject.txt", context).split()),
            "text": render_to_string("channels/surveys/email_body.txt", context),
            "html": render_to_string("channels/surveys/email_body.html", context),
            "sms": " ".join(render_to_string("channels/surveys/sms.txt", context).split()),
        }


def survey_send(*, survey: SatisfactionSurvey) -> SatisfactionSurvey:
    """Send one claimed survey on the channel reachable now, then mark it sent with its interaction.

    The sending happens outside any transaction (network I/O); the row is marked sent afterwards. A
    customer who became unreachable since resolution gets the survey skipped with the reason.
    """
    reach = survey_reach(survey.customer)
    if not reach.channel:
        SatisfactionSurvey.objects.filter(pk=survey.pk).update(status=SurveyStatus.SKIPPED,
                                                               skipped_reason=reach.reason, sent_at=None)  # fmt: skip
        survey.refresh_from_db()
        return survey
    content = _render(survey)
    external_id = ""
    if reach.channel == InteractionChannel.SMS:
        result = sms_transport().send(to_e164=reach.address, body=content["sms"],
                                      sender=getattr(settings, "SMS_SENDER", ""))  # fmt: skip
        external_id = result.message_id
        summary = content["sms"]
    else:
        message = EmailMultiAlternatives(subject=content["subject"], body=content["text"], to=[reach.address])
        message.attach_alternative(content["html"], "text/html")
        external_id = make_msgid(domain="relais.survey")
        message.extra_headers.update({"Auto-Submitted": "auto-generated", "Message-ID": external_id})
        message.send()
        summary = content["subject"]
    with transaction.atomic():
        locked = SatisfactionSurvey.objects.select_for_update().get(pk=survey.pk)
        interaction = interaction_record(
            channel=reach.channel,
            direction=Direction.OUTBOUND,
            kind=InteractionKind.SURVEY,
            customer=locked.customer,
            case=locked.case,
            subject=content["subject"],
            summary=summary,
            external_id=external_id,
            metadata={"survey_id": locked.pk, "to": reach.address},
        )
        locked.status = SurveyStatus.SENT
        locked.channel = reach.channel
        locked.sent_at = timezone.now()
        locked.interaction = interaction
        locked.save(update_fields=["status", "channel", "sent_at", "interaction"])
    return locked


def surveys_send_due(*, now: datetime.datetime | None = None, limit: int = SEND_BATCH) -> dict[str, int]:
    """Send the surveys whose ``send_after`` has passed (the beat job); returns counts by outcome.

    Each row is claimed with a conditional UPDATE that stamps ``sent_at`` as a lease, so two workers
    never send the same survey; a send that fails releases its claim and is retried next run.
    """
    now = now or timezone.now()
    due = list(
        SatisfactionSurvey.objects.filter(status=SurveyStatus.SCHEDULED, send_after__lte=now)
        # A case reopened before its survey went out waits: resolving it again re-plans the survey.
        .filter(case__status__in=[CaseStatus.RESOLVED, CaseStatus.CLOSED])
        .filter(Q(sent_at__isnull=True) | Q(sent_at__lt=now - SEND_LEASE))
        .order_by("send_after")
        .values_list("pk", "sent_at")[:limit]
    )
    counts = {"sent": 0, "skipped": 0, "failed": 0}
    for pk, previous in due:
        claimed = SatisfactionSurvey.objects.filter(pk=pk, status=SurveyStatus.SCHEDULED, sent_at=previous).update(
            sent_at=now
        )
        if claimed != 1:
            continue
        survey = SatisfactionSurvey.objects.select_related("customer", "case").get(pk=pk)
        try:
            survey = survey_send(survey=survey)
        except _send_errors() as error:
            logger.warning("Satisfaction survey %s not sent, will retry: %s", pk, error)
            SatisfactionSurvey.objects.filter(pk=pk, status=SurveyStatus.SCHEDULED).update(sent_at=None)
            counts["failed"] += 1
            continue
        counts["sent" if survey.status == SurveyStatus.SENT else "skipped"] += 1
    return counts


@transaction.atomic
def survey_answer(*, survey: SatisfactionSurvey, score: int, comment: str = "") -> SatisfactionSurvey:
    """Store the customer's one answer and record it on the timeline (inbound, web, cost 0).

    A second answer is refused (``ApplicationError`` code ``already_answered``); the row is locked so
    two submissions at once store one.
    """
    if not isinstance(score, int) or not 1 <= score <= 5:
        raise ApplicationError("invalid_score", _("Choose a score from 1 to 5."), field="score")
    survey = SatisfactionSurvey.objects.select_for_update().get(pk=survey.pk)
    if survey.answered_at is not None:
        raise ApplicationError("already_answered", _("This survey was already answered. Thank you!"), status_code=409)
    if survey.status == SurveyStatus.SKIPPED:
        raise ApplicationError("not_sent", _("This survey was not sent."), status_code=409)
    comment = (comment or "").strip()[:2000]
    survey.score = score
    survey.comment = comment
    survey.answered_at = timezone.now()
    survey.status = SurveyStatus.ANSWERED
    survey.save(update_fields=["score", "comment", "answered_at", "status"])
    case = Case.objects.get(pk=survey.case_id)
    interaction_record(
        channel=InteractionChannel.WEB,
        direction=Direction.INBOUND,
        kind=InteractionKind.SURVEY,
        customer=survey.customer,
        case=case,
        subject=_("Satisfaction %(score)s/5 for %(number)s") % {"score": score, "number": case.number},
        summary=comment,
        outcome=f"{score}/5",
        cost=0,
        metadata={"survey_id": survey.pk, "score": score},
    )
    return survey
