"""One write path for a case change (``case_update``): the desk page and the API, audited with who did it."""

from __future__ import annotations

from django.apps import apps
from django.urls import reverse

from channels.choices import CaseStatus
from crm import services as crm_services
from tests.channels_factories import CaseFactory, QueueFactory


def _history(case) -> list[dict]:
    events = apps.get_model("channels", "CaseEvent").objects.filter(pgh_obj_id=case.pk).order_by("pgh_id")
    return [{"status": e.status, "priority": e.priority, **(e.pgh_context.metadata if e.pgh_context else {})}
            for e in events]  # fmt: skip


def test_it_names_the_token_user_in_the_history_of_an_api_change(client, agent):
    case = CaseFactory(status=CaseStatus.OPEN)
    _token, key = crm_services.api_token_create(user=agent, name="desk tool", acting_user=agent)
    response = client.patch(f"/api/v1/cases/{case.pk}/", {"status": "resolved", "priority": "high"},
                            content_type="application/json", HTTP_AUTHORIZATION=f"Token {key}")  # fmt: skip
    assert response.status_code == 200, response.content
    last = _history(case)[-1]
    assert last["status"] == "resolved" and last["priority"] == "high"
    assert last["user"] == agent.pk
    assert last["channel"] == "api"


def test_it_names_the_agent_in_the_history_of_a_change_from_the_case_page(client, agent):
    case = CaseFactory(status=CaseStatus.OPEN)
    client.force_login(agent)
    response = client.post(reverse("channels:case_status", kwargs={"pk": case.pk}), {"status": "waiting"})
    assert response.status_code == 302
    last = _history(case)[-1]
    assert last["status"] == "waiting" and last["user"] == agent.pk and last["channel"] == "agent"


def test_the_page_and_the_api_refuse_the_same_transition_and_roll_back_together(client, agent):
    page_case = CaseFactory(status=CaseStatus.RESOLVED, priority="normal")
    api_case = CaseFactory(status=CaseStatus.RESOLVED, priority="normal")
    client.force_login(agent)
    client.post(reverse("channels:case_status", kwargs={"pk": page_case.pk}), {"status": "waiting"}, follow=True)
    api = client.patch(f"/api/v1/cases/{api_case.pk}/", {"status": "waiting", "priority": "urgent"},
                       content_type="application/json")  # fmt: skip
    assert api.status_code == 400 and api.json()["error"]["code"] == "invalid_transition"
    for case in (page_case, api_case):
        case.refresh_from_db()
        assert (case.status, case.priority) == (CaseStatus.RESOLVED, "normal")


def test_the_api_and_the_page_move_queue_and_assignee_in_one_change(client, agent, supervisor):
    queue = QueueFactory()
    page_case, api_case = CaseFactory(assignee=agent), CaseFactory(assignee=agent)
    client.force_login(supervisor)
    client.post(reverse("channels:case_assign", kwargs={"pk": page_case.pk}),
                {"queue": queue.pk, "assignee": supervisor.pk})  # fmt: skip
    client.patch(f"/api/v1/cases/{api_case.pk}/", {"queue": queue.pk, "assignee": supervisor.pk},
                 content_type="application/json")  # fmt: skip
    for case in (page_case, api_case):
        case.refresh_from_db()
        assert (case.queue_id, case.assignee_id) == (queue.pk, supervisor.pk)
        assert _history(case)[-1]["user"] == supervisor.pk


def test_a_next_that_leaves_the_site_is_ignored(client, agent):
    case = CaseFactory(status=CaseStatus.OPEN)
    client.force_login(agent)
    url = reverse("channels:case_status", kwargs={"pk": case.pk})
    for evil in ("/\\evil.example/", "//evil.example/", "https://evil.example/", "/\\/evil.example", "javascript:x"):
        response = client.post(url, {"status": "waiting" if evil.startswith("/") else "open", "next": evil})
        assert response.status_code == 302
        assert response["Location"] == case.get_absolute_url(), evil
    inside = client.post(url, {"status": "open", "next": "/channels/my-work/"})
    assert inside["Location"] == "/channels/my-work/"


def test_a_non_numeric_or_huge_case_id_is_a_404_in_the_api(client, agent):
    client.force_login(agent)
    assert client.get("/api/v1/cases/99999999999999999999999/").status_code == 404
