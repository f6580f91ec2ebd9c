"""Satisfaction surveys: scheduling after resolution, sending through real SMTP, the signed single-use link."""

from __future__ import annotations

import datetime
import re
from email import message_from_bytes, policy

import pytest
from django.core import mail, signing
from django.urls import reverse
from django.utils import formats, timezone, translation

from channels.choices import CaseStatus, InteractionKind, SurveyStatus
from channels.models import Interaction, SatisfactionSurvey
from channels.services.cases import case_customer_replied, case_status_change
from channels.services.surveys import TOKEN_SALT, survey_token, surveys_send_due
from channels.tasks.desk import surveys_send_due_task
from customers.choices import ConsentSource, ConsentStatus
from tests.channels_factories import CaseFactory
from tests.customers_factories import ConsentFactory, CustomerFactory, EmailFactory
from tests.support import free_port

pytestmark = pytest.mark.django_db


def resolved_case(*, language="en", **customer_fields):
    customer = CustomerFactory(language=language, **customer_fields)
    EmailFactory(customer=customer, value=f"client{customer.pk}@example.fr")
    case = CaseFactory(customer=customer, status=CaseStatus.OPEN, subject="Broken kettle")
    return case_status_change(case=case, status=CaseStatus.RESOLVED)


def make_due(survey):
    SatisfactionSurvey.objects.filter(pk=survey.pk).update(send_after=timezone.now() - datetime.timedelta(minutes=1))


def test_the_survey_waits_for_the_configured_delay(settings):
    settings.CSAT_SURVEY_DELAY = datetime.timedelta(hours=6)
    case = resolved_case()
    survey = SatisfactionSurvey.objects.get(case=case)
    assert survey.send_after == case.resolved_at + datetime.timedelta(hours=6)

    assert surveys_send_due(now=case.resolved_at + datetime.timedelta(hours=5, minutes=59)) == {
        "sent": 0, "skipped": 0, "failed": 0}  # fmt: skip
    assert mail.outbox == []
    assert surveys_send_due(now=case.resolved_at + datetime.timedelta(hours=6, minutes=1))["sent"] == 1
    assert len(mail.outbox) == 1


def test_a_customer_with_no_reachable_channel_gets_no_survey_and_the_case_says_why(client, agent):
    customer = CustomerFactory()
    case = case_status_change(case=CaseFactory(customer=customer), status=CaseStatus.RESOLVED)
    survey = SatisfactionSurvey.objects.get(case=case)
    assert survey.status == SurveyStatus.SKIPPED and "No email address" in survey.skipped_reason
    make_due(survey)
    assert surveys_send_due()["sent"] == 0 and mail.outbox == []
    client.force_login(agent)
    assert b"No survey sent" in client.get(case.get_absolute_url()).content


def test_service_consent_withdrawn_on_email_means_no_survey_by_email():
    customer = CustomerFactory()
    EmailFactory(customer=customer)
    ConsentFactory(customer=customer, channel="email", purpose="service", status=ConsentStatus.WITHDRAWN,
                   source=ConsentSource.AGENT)  # fmt: skip
    case = case_status_change(case=CaseFactory(customer=customer), status=CaseStatus.RESOLVED)
    assert SatisfactionSurvey.objects.get(case=case).status == SurveyStatus.SKIPPED


def test_the_survey_goes_through_smtp_in_the_customers_language_and_lands_on_the_timeline(smtp_sink):
    case = resolved_case(language="fr")
    survey = SatisfactionSurvey.objects.get(case=case)
    make_due(survey)

    assert surveys_send_due_task.apply().get() == {"sent": 1, "skipped": 0, "failed": 0}

    assert len(smtp_sink.envelopes) == 1
    envelope = smtp_sink.envelopes[0]
    assert envelope.rcpt_tos == [f"client{case.customer_id}@example.fr"]
    message = message_from_bytes(envelope.original_content, policy=policy.default)
    assert case.number in message["Subject"]
    assert message["Auto-Submitted"] == "auto-generated"
    text = message.get_body(preferencelist=("plain",)).get_content()
    with translation.override("fr"):  # rendered in the customer's language: French date
        assert formats.date_format(timezone.localtime(case.resolved_at), "DATE_FORMAT") in text
    assert re.search(r"/channels/survey/[^/\s]+/", text)
    survey.refresh_from_db()
    assert survey.status == SurveyStatus.SENT and survey.channel == "email"
    sent = Interaction.objects.get(pk=survey.interaction_id)
    assert sent.kind == InteractionKind.SURVEY and sent.direction == "outbound" and sent.case_id == case.pk
    assert sent.external_id == message["Message-ID"]

    # Running again sends nothing more.
    assert surveys_send_due()["sent"] == 0 and len(smtp_sink.envelopes) == 1


def test_a_failed_send_releases_the_survey_for_the_next_run(settings):
    case = resolved_case()
    survey = SatisfactionSurvey.objects.get(case=case)
    make_due(survey)
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", free_port(), 2  # nobody listens

    assert surveys_send_due()["failed"] == 1
    survey.refresh_from_db()
    assert survey.status == SurveyStatus.SCHEDULED and survey.sent_at is None
    assert not Interaction.objects.filter(kind=InteractionKind.SURVEY).exists()


def _link_of(survey) -> str:
    return reverse("channels:survey_answer", kwargs={"token": survey_token(survey)})


def sent_survey():
    case = resolved_case()
    survey = SatisfactionSurvey.objects.get(case=case)
    make_due(survey)
    surveys_send_due()
    survey.refresh_from_db()
    return survey


def test_the_customer_answers_once_and_the_answer_shows_on_the_case_and_timeline(client, agent):
    survey = sent_survey()
    link = _link_of(survey)
    page = client.get(link)
    assert page.status_code == 200 and b"Broken kettle" in page.content

    thanks = client.post(link, {"score": "4", "comment": "Quick and kind"})
    assert thanks.status_code == 200 and b"4/5" in thanks.content
    survey.refresh_from_db()
    assert (survey.score, survey.comment, survey.status) == (4, "Quick and kind", SurveyStatus.ANSWERED)
    answer = Interaction.objects.get(kind=InteractionKind.SURVEY, direction="inbound")
    assert answer.case_id == survey.case_id and answer.customer_id == survey.customer_id and answer.outcome == "4/5"

    again = client.post(link, {"score": "1", "comment": "Changed my mind"})
    assert again.status_code == 409 and b"already answered" in again.content
    survey.refresh_from_db()
    assert survey.score == 4 and Interaction.objects.filter(kind="survey", direction="inbound").count() == 1

    client.force_login(agent)
    detail = client.get(reverse("channels:case_detail", kwargs={"pk": survey.case_id}))
    assert b"4/5" in detail.content and b"Quick and kind" in detail.content


def test_a_score_outside_one_to_five_is_refused(client):
    survey = sent_survey()
    response = client.post(_link_of(survey), {"score": "9"})
    assert response.status_code == 400
    survey.refresh_from_db()
    assert survey.score is None


@pytest.mark.parametrize("kind", ["tampered", "guessed_id", "wrong_nonce", "other_salt"])
def test_a_tampered_or_guessed_link_is_a_404(client, kind):
    survey = sent_survey()
    token = survey_token(survey)
    forged = {
        "tampered": token[:-2] + ("AA" if not token.endswith("AA") else "BB"),
        "guessed_id": signing.dumps({"s": survey.pk + 1, "n": survey.nonce}, salt=TOKEN_SALT),
        "wrong_nonce": signing.dumps({"s": survey.pk, "n": "0" * 32}, salt=TOKEN_SALT),
        "other_salt": signing.dumps({"s": survey.pk, "n": survey.nonce}, salt="something.else"),
    }[kind]
    assert client.get(reverse("channels:survey_answer", kwargs={"token": forged})).status_code == 404
    assert client.post(reverse("channels:survey_answer", kwargs={"token": forged}), {"score": "5"}).status_code == 404
    survey.refresh_from_db()
    assert survey.score is None


def test_reopening_and_resolving_again_keeps_the_answer_and_sends_no_second_survey(client):
    survey = sent_survey()
    client.post(_link_of(survey), {"score": "2", "comment": "Slow"})
    case = case_customer_replied(survey.case)
    assert case.status == CaseStatus.OPEN
    case_status_change(case=case, status=CaseStatus.RESOLVED)

    assert SatisfactionSurvey.objects.filter(case=case).count() == 1
    survey.refresh_from_db()
    assert survey.status == SurveyStatus.ANSWERED and survey.score == 2


def test_a_case_reopened_before_its_survey_went_out_gets_none_until_resolved_again():
    case = resolved_case()
    survey = SatisfactionSurvey.objects.get(case=case)
    make_due(survey)
    case_customer_replied(case)
    assert surveys_send_due()["sent"] == 0 and mail.outbox == []
    case_status_change(case=case, status=CaseStatus.RESOLVED)
    survey.refresh_from_db()
    assert survey.status == SurveyStatus.SCHEDULED and survey.send_after > timezone.now()


def test_a_customer_who_prefers_sms_gets_the_survey_by_sms(settings):
    from channels.sms.console import console_outbox, console_outbox_clear
    from tests.customers_factories import MobileFactory

    settings.SMS_PROVIDER = "console"
    console_outbox_clear()
    customer = CustomerFactory(preferred_channel="sms", language="en")
    EmailFactory(customer=customer)
    MobileFactory(customer=customer, value="+33612340099")
    case = case_status_change(case=CaseFactory(customer=customer), status=CaseStatus.RESOLVED)
    survey = SatisfactionSurvey.objects.get(case=case)
    assert survey.channel == "sms"
    make_due(survey)

    assert surveys_send_due()["sent"] == 1

    assert mail.outbox == []
    [sms] = console_outbox()
    assert sms["to"] == "+33612340099" and case.number in sms["text"] and "/channels/survey/" in sms["text"]
    survey.refresh_from_db()
    sent = Interaction.objects.get(pk=survey.interaction_id)
    assert sent.channel == "sms" and sent.kind == InteractionKind.SURVEY and sent.external_id == sms["id"]
