"""channels.access: each helper fetches and authorises in one call; bad ids are 404s, closed records refuse changes."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from channels import access
from channels.models import CallbackRequest, CallSession, FollowUp
from crm import roles
from customers.access import customer_get_for_user, object_pk
from customers.models import ContactPoint
from tests.channels_factories import CaseFactory, ConversationFactory
from tests.customers_factories import CustomerFactory

BAD_IDS = ["abc", "", None, "1.5", "-3", "1 OR 1=1", "٣", str(2**63), 2**70, True]


@pytest.mark.parametrize("value", BAD_IDS)
def test_it_turns_what_cannot_be_an_id_into_none(value):
    assert object_pk(value) is None


def test_it_keeps_real_ids():
    assert object_pk("42") == 42 and object_pk(7) == 7


@pytest.mark.parametrize("value", ["abc", str(2**64), "0"])
def test_every_helper_answers_404_for_an_id_that_cannot_exist(db, supervisor, value):
    helpers = [access.case_get_for_user, access.conversation_get_for_user, access.callback_get_for_user,
               access.letter_get_for_user, access.attachment_get_for_user, access.follow_up_get_for_user,
               access.chat_get_for_user, customer_get_for_user]  # fmt: skip
    for helper in helpers:
        with pytest.raises(Http404):
            helper(user=supervisor, pk=value)


def test_a_role_without_the_permission_is_refused_before_any_lookup(db, make_staff):
    nobody = make_staff(None, username="no.role")
    case = CaseFactory()
    with pytest.raises(PermissionDenied):
        access.case_get_for_user(user=nobody, pk=case.pk)
    with pytest.raises(PermissionDenied):
        access.case_get_for_user(user=nobody, pk="abc")


def test_a_change_to_a_closed_record_is_a_404_but_reading_it_is_allowed(db, agent):
    erased = CustomerFactory(anonymised_at=timezone.now())
    case = CaseFactory(customer=erased)
    assert access.case_get_for_user(user=agent, pk=case.pk) == case
    with pytest.raises(Http404):
        access.case_get_for_user(user=agent, pk=case.pk, action="change")
    survivor = CustomerFactory()
    merged = CustomerFactory(merged_into=survivor)
    thread = ConversationFactory(customer=merged)
    with pytest.raises(Http404):
        access.conversation_get_for_user(user=agent, pk=thread.pk, action="change")
    assert customer_get_for_user(user=agent, pk=merged.pk) == merged
    with pytest.raises(Http404):
        customer_get_for_user(user=agent, pk=merged.pk, live=True)


def test_a_follow_up_is_its_assignees_or_a_supervisors(db, agent, supervisor, make_staff):
    teammate = make_staff(roles.AGENT, username="teammate")
    task = FollowUp.objects.create(title="Call back Mme Roux", due_at=timezone.now(), assignee=agent)
    assert access.follow_up_get_for_user(user=agent, pk=task.pk, action="change") == task
    assert access.follow_up_get_for_user(user=supervisor, pk=task.pk, action="change") == task
    with pytest.raises(PermissionDenied):
        access.follow_up_get_for_user(user=teammate, pk=task.pk, action="change")


def test_a_call_back_of_the_queue_is_seen_by_console_users_not_by_marketers(db, agent, marketer):
    now = timezone.now()
    callback = CallbackRequest.objects.create(phone="+33612345678", name="Mme Roux", reason="Invoice",
                                              preferred_from=now, preferred_to=now)  # fmt: skip
    assert access.callback_get_for_user(user=agent, pk=callback.pk) == callback
    with pytest.raises(PermissionDenied):
        access.callback_get_for_user(user=marketer, pk=callback.pk)


def _call(agent):
    return CallSession.objects.create(agent=agent, call_id="c-1", caller_number="0612345678",
                                      caller_e164="+33612345678")  # fmt: skip


@pytest.mark.parametrize("value", ["abc", "99999999999999999999999", ""])
def test_linking_a_call_to_a_customer_id_that_is_not_a_number_is_a_404(client, agent, value):
    session = _call(agent)
    client.force_login(agent)
    response = client.post(reverse("channels:call_link", kwargs={"pk": session.pk}), {"customer": value})
    assert response.status_code == 404
    session.refresh_from_db()
    assert session.customer_id is None


def test_linking_a_call_to_an_anonymised_customer_is_a_404_and_adds_no_number(client, agent):
    session = _call(agent)
    erased = CustomerFactory(anonymised_at=timezone.now())
    client.force_login(agent)
    response = client.post(reverse("channels:call_link", kwargs={"pk": session.pk}), {"customer": erased.pk})
    assert response.status_code == 404
    assert not ContactPoint.objects.filter(customer=erased).exists()
